"""Checks that relate several parts of a spec: ranges against the key, themes against layers …

Each check is a small function ``(SpecView) -> Iterable[Finding]`` registered in :data:`CHECKS`.
They run on a :class:`SpecView`, which holds whatever parts of the spec are valid on their own,
so a bad tempo does not hide a theme that leaves the key: the composer sees every problem at once.
The adaptive sections (parameters, mappings, states, transitions, stingers) keep each item as a
:class:`Part`: the item with its bad fields replaced, and which fields those were, so a check never
reports a problem that only a placeholder caused.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Generic, Iterable, TypeVar

from pydantic import BaseModel, ValidationError

from segue.limits import MAX_PATH_CHARS
from segue.music import PPQ, Key, Note, pitch_name
from segue.spec.issues import LocatedError, PathTuple, format_path
from segue.spec.midi import ThemeFileError, read_theme_midi
from segue.spec.notation import parse_key, tokenize_note_text
from segue.spec.personal import Personalise, Remember
from segue.spec.schema import (
    ANY_STATE,
    TARGET_UNITS,
    Layer,
    Mapping,
    Palette,
    Parameter,
    Spec,
    State,
    Stinger,
    Tempo,
    Theme,
    Transition,
    target_range,
)

MIN_PITCHES_IN_RANGE = 5
"""A layer must reach at least this many pitches of a key to make a line out of them."""
MAX_REPORTED_PER_THEME = 8
"""Out-of-key notes listed one by one per theme before summarising the rest."""
MAX_NAMES_LISTED = 12
"""Valid names listed in an 'unknown name' message when no close match is found."""

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Finding:
    """A problem found by a check: where (a path into the spec data) and what.

    ``text_offset`` points inside a text value (a token of a theme's note text), when known."""

    path: PathTuple
    message: str
    text_offset: int | None = None

    @property
    def path_text(self) -> str:
        return format_path(self.path)


def _valid(model: type[BaseModel], data: Any) -> Any:
    """``model`` validated from ``data``, or None (its own errors are reported by the schema pass)."""
    try:
        return model.model_validate(data)
    except (ValidationError, ValueError, TypeError):
        return None


def _salvage_part(model: type[M], data: Any, placeholders: dict[str, Any]) -> tuple[M | None, frozenset[str]]:
    """``model`` from ``data`` with its bad fields dropped (defaults or ``placeholders`` instead), and
    the names of the fields that hold a stand-in (dropped, or required and missing); None if that fails too."""
    try:
        return model.model_validate(data), frozenset()
    except (ValidationError, ValueError, TypeError) as exc:
        if not isinstance(data, dict) or not isinstance(exc, ValidationError):
            return None, frozenset()
        bad: set[str] = set()
        for error in exc.errors():
            cause = (error.get("ctx") or {}).get("error")
            if error["loc"]:
                bad.add(str(error["loc"][0]))
            elif isinstance(cause, LocatedError) and cause.at:
                bad.add(str(cause.at[0]))
    kept = {k: v for k, v in data.items() if k not in bad}
    standing_in = {k for k in placeholders if k not in kept}
    for k in standing_in:
        kept[k] = placeholders[k]
    return _valid(model, kept), frozenset(bad | standing_in)


def _salvage(model: type[BaseModel], data: Any, placeholders: dict[str, Any]) -> Any:
    """``model`` from ``data`` with its bad fields dropped (defaults or ``placeholders`` instead),
    so that the good fields of a partly wrong layer are still checked; None if that fails too."""
    return _salvage_part(model, data, placeholders)[0]


@dataclass(frozen=True, slots=True)
class Part(Generic[M]):
    """Item ``index`` of a list section, valid or salvaged; ``unsure`` names the fields (as written in
    YAML) that hold a stand-in, whose values checks must not judge."""

    index: int
    model: M
    unsure: frozenset[str] = frozenset()

    def knows(self, *fields: str) -> bool:
        return not self.unsure.intersection(fields)


def _raw_names(data: dict[str, Any], section: str, field_name: str = "name") -> list[tuple[int, str]]:
    """(index, name) of each item of ``section`` that has a text (or number) ``name``, as written."""
    items = data.get(section)
    found = []
    for i, raw in enumerate(items if isinstance(items, list) else []):
        value = raw.get(field_name) if isinstance(raw, dict) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str):
            found.append((i, value.strip()))
    return found


def _parts(data: dict[str, Any], section: str, model: type[M], placeholders: dict[str, Any]) -> list[Part[M]]:
    items = data.get(section)
    parts = []
    for i, raw in enumerate(items if isinstance(items, list) else []):
        item, unsure = _salvage_part(model, raw, placeholders)
        if item is not None:
            parts.append(Part(i, item, unsure))
    return parts


@dataclass
class SpecView:
    """The parts of a spec that are valid on their own, indexed by their position in the file."""

    key_text: str | None = None
    home_key: Key | None = None
    modulations: list[tuple[int, str, Key]] = field(default_factory=list)
    tempo: Tempo | None = None
    scale_tolerance: float | None = None
    layers: list[tuple[int, Layer]] = field(default_factory=list)
    layer_names: list[tuple[int, str]] = field(default_factory=list)
    layer_roles: list[str | None] = field(default_factory=list)
    themes: list[tuple[int, Theme]] = field(default_factory=list)
    theme_names: list[tuple[int, str]] = field(default_factory=list)
    theme_layers: list[tuple[int, str]] = field(default_factory=list)
    style: str | None = None
    base_dir: Path | None = None
    parameter_names: list[tuple[int, str]] = field(default_factory=list)
    parameters: list[Part[Parameter]] = field(default_factory=list)
    mappings: list[Part[Mapping]] = field(default_factory=list)
    initial_state: str | None = None
    state_names: list[tuple[int, str]] = field(default_factory=list)
    states: list[Part[State]] = field(default_factory=list)
    transitions: list[Part[Transition]] = field(default_factory=list)
    stinger_names: list[tuple[int, str]] = field(default_factory=list)
    stingers: list[Part[Stinger]] = field(default_factory=list)
    personalise: Personalise | None = None
    remember: Remember | None = None

    @classmethod
    def of_spec(cls, spec: Spec) -> "SpecView":
        """The view of a fully valid spec."""
        p = spec.palette
        return cls(
            key_text=p.key, home_key=p.home_key,
            modulations=[(i, text, parse_key(text)) for i, text in enumerate(p.modulations)],
            tempo=p.tempo, scale_tolerance=p.scale_tolerance,
            layers=list(enumerate(spec.layers)),
            layer_names=[(i, layer.name) for i, layer in enumerate(spec.layers)],
            layer_roles=[layer.role for layer in spec.layers],
            themes=list(enumerate(spec.themes)),
            theme_names=[(i, theme.name) for i, theme in enumerate(spec.themes)],
            theme_layers=[(i, theme.layer) for i, theme in enumerate(spec.themes) if theme.layer is not None],
            style=spec.style, base_dir=spec.base_dir,
            parameter_names=[(i, p.name) for i, p in enumerate(spec.parameters)],
            parameters=[Part(i, p) for i, p in enumerate(spec.parameters)],
            mappings=[Part(i, m) for i, m in enumerate(spec.mappings)],
            initial_state=spec.initial_state,
            state_names=[(i, s.name) for i, s in enumerate(spec.states)],
            states=[Part(i, s) for i, s in enumerate(spec.states)],
            transitions=[Part(i, t) for i, t in enumerate(spec.transitions)],
            stinger_names=[(i, s.name) for i, s in enumerate(spec.stingers)],
            stingers=[Part(i, s) for i, s in enumerate(spec.stingers)],
            personalise=spec.personalise, remember=spec.remember,
        )

    @classmethod
    def of_data(cls, data: Any, base_dir: Path | None) -> "SpecView":
        """A best-effort view of spec data that failed validation somewhere."""
        view = cls(base_dir=base_dir)
        if not isinstance(data, dict):
            return view
        palette = data.get("palette", {})
        if isinstance(palette, dict):
            key_text = palette.get("key", "C major")
            if isinstance(key_text, str):
                try:
                    view.home_key, view.key_text = parse_key(key_text), " ".join(key_text.split())
                except ValueError:
                    pass
            mods = palette.get("modulations", [])
            for i, text in enumerate(mods if isinstance(mods, list) else []):
                try:
                    view.modulations.append((i, text, parse_key(text)))
                except (ValueError, AttributeError):
                    pass
            alone = _valid(Palette, {"tempo": palette.get("tempo", {})})
            view.tempo = alone.tempo if alone else None
            alone = _valid(Palette, {"scale_tolerance": palette.get("scale_tolerance", 0.0)})
            view.scale_tolerance = alone.scale_tolerance if alone else None
        layers = data.get("layers")
        for i, raw in enumerate(layers if isinstance(layers, list) else []):
            layer = _salvage(Layer, raw, {"name": f"layers[{i}]", "role": "melody"})
            if layer is not None:
                view.layers.append((i, layer))
            if isinstance(raw, dict) and isinstance(raw.get("name"), str):
                view.layer_names.append((i, raw["name"].strip()))
            view.layer_roles.append(raw.get("role") if isinstance(raw, dict) else None)
        themes = data.get("themes")
        for i, raw in enumerate(themes if isinstance(themes, list) else []):
            theme = _valid(Theme, raw)
            if theme is not None:
                view.themes.append((i, theme))
            if isinstance(raw, dict) and isinstance(raw.get("name"), str):
                view.theme_names.append((i, raw["name"].strip()))
            if isinstance(raw, dict) and isinstance(raw.get("layer"), str):
                view.theme_layers.append((i, raw["layer"]))
        style = data.get("style", "default")
        view.style = style if isinstance(style, str) else None
        view.parameter_names = _raw_names(data, "parameters")
        view.parameters = _parts(data, "parameters", Parameter, {"name": "unnamed"})
        view.mappings = _parts(data, "mappings", Mapping, {"parameter": "unnamed", "target": "density"})
        initial = data.get("initial_state")
        if isinstance(initial, (int, float)) and not isinstance(initial, bool):
            initial = str(initial)
        view.initial_state = initial.strip() if isinstance(initial, str) else None
        view.state_names = _raw_names(data, "states")
        view.states = _parts(data, "states", State, {"name": "unnamed"})
        view.transitions = _parts(data, "transitions", Transition, {})
        view.stinger_names = _raw_names(data, "stingers")
        view.stingers = _parts(data, "stingers", Stinger, {"name": "unnamed", "notes": "C4"})
        view.personalise = _valid(Personalise, data.get("personalise")) if data.get("personalise") else None
        view.remember = _valid(Remember, data.get("remember")) if data.get("remember") else None
        return view


# ---------- the checks ----------

def check_tempo(view: SpecView) -> Iterable[Finding]:
    t = view.tempo
    if t is None:
        return
    if t.min > t.max:
        yield Finding(("palette", "tempo", "min"), f"min {t.min:g} bpm is above max {t.max:g} bpm")
    elif t.default < t.min:
        yield Finding(("palette", "tempo", "default"), f"default {t.default:g} bpm is below min {t.min:g} bpm")
    elif t.default > t.max:
        yield Finding(("palette", "tempo", "default"), f"default {t.default:g} bpm is above max {t.max:g} bpm")


def check_layer_names(view: SpecView) -> Iterable[Finding]:
    first: dict[str, int] = {}
    for i, name in view.layer_names:
        if name in first:
            yield Finding(("layers", i, "name"), f"duplicate layer name {name!r} (already used by layers[{first[name]}])")
        else:
            first[name] = i


def check_some_pitched_layer(view: SpecView) -> Iterable[Finding]:
    roles = view.layer_roles
    if roles and all(role == "percussion" for role in roles):
        yield Finding(("layers",), "no pitched layer: add at least one melody, counter, harmony, bass, "
                                   "ostinato or drone layer (percussion alone cannot carry the key)")


def check_ranges_hold_keys(view: SpecView) -> Iterable[Finding]:
    """Each pitched layer must reach ≥ 5 pitches of the home key and of every modulation target."""
    keys: list[tuple[str, Key]] = []
    if view.home_key is not None and view.key_text is not None:
        keys.append((view.key_text, view.home_key))
    keys += [(text, key) for _, text, key in view.modulations]
    for i, layer in view.layers:
        if layer.is_percussion:
            continue
        for text, key in keys:
            pitches = key.pitches_in_range(layer.low, layer.high)
            if len(pitches) < MIN_PITCHES_IN_RANGE:
                held = ", ".join(pitch_name(p) for p in pitches) or "none"
                yield Finding(("layers", i, "range"),
                              f"layer {layer.name!r} range [{pitch_name(layer.low)}, {pitch_name(layer.high)}] holds "
                              f"only {len(pitches)} pitch(es) of {text} ({held}); it needs at least "
                              f"{MIN_PITCHES_IN_RANGE} — widen the range")


def check_theme_names(view: SpecView) -> Iterable[Finding]:
    first: dict[str, int] = {}
    for i, name in view.theme_names:
        if name in first:
            yield Finding(("themes", i, "name"), f"duplicate theme name {name!r} (already used by themes[{first[name]}])")
        else:
            first[name] = i


def check_theme_layers(view: SpecView) -> Iterable[Finding]:
    """A theme's layer must exist and be pitched."""
    names = [name for _, name in view.layer_names]
    by_name = {layer.name: layer for _, layer in view.layers}
    for i, wanted in view.theme_layers:
        if wanted not in names:
            close = difflib.get_close_matches(wanted, names, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else f" (layers: {', '.join(map(repr, names)) or 'none'})"
            yield Finding(("themes", i, "layer"), f"no layer named {wanted!r}{hint}")
            continue
        layer = by_name.get(wanted)
        if layer is not None and layer.is_percussion:
            yield Finding(("themes", i, "layer"), f"layer {wanted!r} is percussion; a theme needs a pitched layer")


Located = tuple[int, Note, str, int | None]
"""A note of a motif with where it was written: (position, note, label for messages, text offset)."""


def _located_text(notes: str) -> list[Located]:
    return [(t.position, t.note, repr(t.text), t.offset) for t in tokenize_note_text(notes) if t.note is not None]


def _motif_findings(path: PathTuple, located: list[Located], view: SpecView, layer: Layer | None,
                    what: str) -> Iterable[Finding]:
    """A written motif (theme or stinger) stays in the home key (within ``scale_tolerance``) and, when it
    names a pitched layer, spans no more than the layer's range."""
    key, tolerance = view.home_key, view.scale_tolerance
    if key is not None and tolerance is not None:
        outside = [entry for entry in located if not key.contains(entry[1].pitch)]
        if tolerance == 0:
            for position, note, label, offset in outside[:MAX_REPORTED_PER_THEME]:
                yield Finding(path, f"note {position} {label} is not in "
                                    f"{view.key_text} (scale_tolerance is 0)", offset)
            if len(outside) > MAX_REPORTED_PER_THEME:
                yield Finding(path, f"… and {len(outside) - MAX_REPORTED_PER_THEME} more notes outside "
                                    f"{view.key_text}")
        elif located and len(outside) / len(located) > tolerance + 1e-9:
            names = ", ".join(f"{p} ({pitch_name(n.pitch)})" for p, n, _, _ in outside[:MAX_REPORTED_PER_THEME])
            yield Finding(path, f"{len(outside)} of {len(located)} notes are outside {view.key_text} "
                                f"({len(outside) / len(located):.0%} > scale_tolerance {tolerance:g}): "
                                f"notes {names}")
    if layer is not None and layer.is_pitched and located:
        pitches = [entry[1].pitch for entry in located]
        span, room = max(pitches) - min(pitches), layer.high - layer.low
        if span > room:
            yield Finding(path, f"the {what} spans {span} semitones ({pitch_name(min(pitches))}.."
                                f"{pitch_name(max(pitches))}) but layer {layer.name!r} range "
                                f"[{pitch_name(layer.low)}, {pitch_name(layer.high)}] spans only {room}")


def check_theme_notes(view: SpecView) -> Iterable[Finding]:
    """Theme notes stay in the home key (within ``scale_tolerance``); MIDI themes must be readable."""
    by_name = {layer.name: layer for _, layer in view.layers}
    for i, theme in view.themes:
        located: list[Located]
        if theme.notes is not None:
            field_name = "notes"
            located = _located_text(theme.notes)
        else:
            field_name = "midi"
            try:
                notes = read_theme_midi(theme.midi_path(view.base_dir), shown=theme.midi)  # type: ignore[arg-type]
            except ThemeFileError as exc:
                yield Finding(("themes", i, "midi"), str(exc))
                continue
            located = [(n, note, f"({pitch_name(note.pitch)} at beat {note.start / PPQ + 1:g})", None)
                       for n, note in enumerate(notes, start=1)]
        layer = by_name.get(theme.layer) if theme.layer else None
        yield from _motif_findings(("themes", i, field_name), located, view, layer, "theme")


def check_style(view: SpecView) -> Iterable[Finding]:
    if view.style is None or view.style in ("default", "markov", "neural"):
        return
    if len(view.style) > MAX_PATH_CHARS:
        yield Finding(("style",), f"style path too long ({len(view.style)} characters; at most {MAX_PATH_CHARS})")
        return
    path = Path(view.style).expanduser()
    resolved = path if path.is_absolute() else (view.base_dir or Path.cwd()) / path
    try:
        if not resolved.is_file():
            yield Finding(("style",), f"style model file '{resolved}' not found (use \"default\" or \"neural\" for a built-in style)")
            return
        with resolved.open("rb") as fh:
            head = fh.read(64)
    except OSError as exc:
        yield Finding(("style",), f"cannot read style model file '{resolved}' ({exc.strerror or exc})")
        return
    # a model is JSON or gzip (`segue train` writes one of them); anything else would fail at compose
    if not (head[:2] == b"\x1f\x8b" or head.lstrip()[:1] == b"{"):
        yield Finding(("style",), f"'{resolved}' is not a Segue style model (a file made by `segue train`: "
                                  f"JSON or gzip); use \"default\" or \"neural\" for a built-in style")


# ---------- the adaptive sections ----------

def _no_such(kind: str, wanted: str, names: list[str], extra: tuple[str, ...] = ()) -> str:
    """'no state named 'combt'; did you mean 'combat'?' — or the valid names when none is close."""
    choices = list(dict.fromkeys([*names, *extra]))
    close = difflib.get_close_matches(wanted, choices, n=1, cutoff=0.6)
    if close:
        return f"no {kind} named {wanted!r}; did you mean {close[0]!r}?"
    if not names:
        return f"no {kind} named {wanted!r} (the spec has no {kind}s)"
    shown = ", ".join(map(repr, choices[:MAX_NAMES_LISTED])) + (", …" if len(choices) > MAX_NAMES_LISTED else "")
    return f"no {kind} named {wanted!r} ({kind}s: {shown})"


def _duplicates(names: list[tuple[int, str]], section: str, kind: str) -> Iterable[Finding]:
    first: dict[str, int] = {}
    for i, name in names:
        if name in first:
            yield Finding((section, i, "name"), f"duplicate {kind} name {name!r} (already used by {section}[{first[name]}])")
        else:
            first.setdefault(name, i)


def _known_parameters(view: SpecView) -> dict[str, Parameter]:
    """Parameters whose name and range are trustworthy, by name (the first of duplicates)."""
    known: dict[str, Parameter] = {}
    for part in view.parameters:
        if part.knows("name", "range"):
            known.setdefault(part.model.name, part.model)
    return known


def _tempo_bounds(view: SpecView) -> Tempo | None:
    t = view.tempo
    return t if t is not None and t.min <= t.max else None


def check_parameters(view: SpecView) -> Iterable[Finding]:
    yield from _duplicates(view.parameter_names, "parameters", "parameter")
    for part in view.parameters:
        p = part.model
        if part.knows("range", "default") and not p.min <= p.default <= p.max:
            yield Finding(("parameters", part.index, "default"),
                          f"default {p.default:g} is outside the range {p.min:g}..{p.max:g}")


def check_mappings(view: SpecView) -> Iterable[Finding]:
    """A mapping names a parameter (and, for layer_gain only, a layer); its curve stays inside the
    parameter's range (x) and the target's range (y)."""
    parameter_names = [name for _, name in view.parameter_names]
    layer_names = [name for _, name in view.layer_names]
    parameters = _known_parameters(view)
    tempo = _tempo_bounds(view)
    for part in view.mappings:
        m, i = part.model, part.index
        if part.knows("parameter") and m.parameter not in parameter_names:
            yield Finding(("mappings", i, "parameter"), _no_such("parameter", m.parameter, parameter_names))
        if part.knows("target", "layer"):
            if m.target == "layer_gain" and m.layer is None:
                yield Finding(("mappings", i, "layer"), "a layer_gain mapping needs 'layer:' (the layer whose "
                                                        "level it moves)")
            elif m.target != "layer_gain" and m.layer is not None:
                yield Finding(("mappings", i, "layer"), f"only a layer_gain mapping names a layer (this one "
                                                        f"moves {m.target}); remove 'layer:'")
            elif m.layer is not None and m.layer not in layer_names:
                yield Finding(("mappings", i, "layer"), _no_such("layer", m.layer, layer_names))
        if m.curve == "linear" or not part.knows("curve"):
            continue
        parameter = parameters.get(m.parameter) if part.knows("parameter") else None
        if parameter is not None:
            for j, (x, _) in enumerate(m.points):
                if not parameter.min <= x <= parameter.max:
                    yield Finding(("mappings", i, "curve", j, 0),
                                  f"point {j + 1}: x {x:g} is outside parameter {parameter.name!r} range "
                                  f"{parameter.min:g}..{parameter.max:g}")
        if part.knows("target") and (m.target != "tempo" or tempo is not None):
            low, high = target_range(m.target, tempo)
            unit = TARGET_UNITS.get(m.target, "")
            for j, (_, y) in enumerate(m.points):
                if not low <= y <= high:
                    where = " (palette.tempo)" if m.target == "tempo" else ""
                    yield Finding(("mappings", i, "curve", j, 1),
                                  f"point {j + 1}: y {y:g}{unit} is outside the {m.target} range "
                                  f"{low:g}..{high:g}{unit}{where}")


def check_initial_state(view: SpecView) -> Iterable[Finding]:
    names = [name for _, name in view.state_names]
    if view.initial_state is not None and view.initial_state not in names:
        yield Finding(("initial_state",), _no_such("state", view.initial_state, names))


def _same_scale(a: Key, b: Key) -> bool:
    return a.tonic == b.tonic and a.steps == b.steps


def check_states(view: SpecView) -> Iterable[Finding]:
    """A state stays inside the palette (key, tempo) and names only what exists (theme, layers,
    parameters, with parameter values inside their ranges)."""
    yield from _duplicates(view.state_names, "states", "state")
    keys: list[tuple[str, Key]] = []
    if view.home_key is not None and view.key_text is not None:
        keys = [(view.key_text, view.home_key)] + [(text, key) for _, text, key in view.modulations]
    tempo = _tempo_bounds(view)
    theme_names = [name for _, name in view.theme_names]
    layer_names = [name for _, name in view.layer_names]
    parameter_names = [name for _, name in view.parameter_names]
    parameters = _known_parameters(view)
    for part in view.states:
        s, i = part.model, part.index
        key = s.key_value
        if key is not None and keys and not any(_same_scale(key, k) for _, k in keys):
            others = ", ".join(text for text, _ in keys[1:]) or "none"
            yield Finding(("states", i, "key"), f"key {s.key} is neither the home key ({keys[0][0]}) nor one of "
                                                f"palette.modulations ({others}); add it there to use it")
        if s.tempo is not None and tempo is not None and not tempo.min <= s.tempo <= tempo.max:
            yield Finding(("states", i, "tempo"), f"tempo {s.tempo:g} bpm is outside the palette tempo range "
                                                  f"{tempo.min:g}..{tempo.max:g} bpm")
        if s.theme is not None and s.theme not in theme_names:
            yield Finding(("states", i, "theme"), _no_such("theme", s.theme, theme_names))
        listed: dict[str, int] = {}
        for j, name in enumerate(s.layers or []):
            if name not in layer_names:
                yield Finding(("states", i, "layers", j), _no_such("layer", name, layer_names))
            elif name in listed:
                yield Finding(("states", i, "layers", j), f"layer {name!r} is listed twice")
            listed.setdefault(name, j)
        for name, value in s.parameters.items():
            if name not in parameter_names:
                yield Finding(("states", i, "parameters", name), _no_such("parameter", name, parameter_names))
            elif name in parameters and not parameters[name].min <= value <= parameters[name].max:
                p = parameters[name]
                yield Finding(("states", i, "parameters", name),
                              f"{value:g} is outside parameter {name!r} range {p.min:g}..{p.max:g}")


def check_transitions(view: SpecView) -> Iterable[Finding]:
    """Transitions join existing states (or 'any'), two different ones, one rule per (from, to) pair,
    and fire only stingers that exist."""
    states = [name for _, name in view.state_names]
    stingers = [name for _, name in view.stinger_names]
    seen: dict[tuple[str, str], int] = {}
    for part in view.transitions:
        t, i = part.model, part.index
        for field_name, value in (("from", t.from_state), ("to", t.to_state)):
            if part.knows(field_name) and value != ANY_STATE and value not in states:
                yield Finding(("transitions", i, field_name), _no_such("state", value, states, (ANY_STATE,)))
        if t.stinger is not None and part.knows("stinger") and t.stinger not in stingers:
            yield Finding(("transitions", i, "stinger"), _no_such("stinger", t.stinger, stingers))
        if not part.knows("from", "to"):
            continue
        pair = (t.from_state, t.to_state)
        if t.from_state == t.to_state != ANY_STATE:
            yield Finding(("transitions", i, "to"), f"from and to are both {t.to_state!r}: a transition joins two "
                                                    f"different states (use 'any' for every state)")
        elif pair in seen:
            yield Finding(("transitions", i), f"duplicate transition {pair[0]} → {pair[1]} (already defined by "
                                              f"transitions[{seen[pair]}])")
        seen.setdefault(pair, i)


def check_stingers(view: SpecView) -> Iterable[Finding]:
    """Stingers borrow only existing layers; pitched ones are written in the home key (they are sung by
    scale degree in whatever key is playing), drum ones stay on their kit's keys."""
    yield from _duplicates(view.stinger_names, "stingers", "stinger")
    layer_names = [name for _, name in view.layer_names]
    layers = {layer.name: layer for _, layer in reversed(view.layers)}
    for part in view.stingers:
        s, i = part.model, part.index
        layer = None
        if s.layer is not None and part.knows("layer"):
            if s.layer not in layer_names:
                yield Finding(("stingers", i, "layer"), _no_such("layer", s.layer, layer_names))
            layer = layers.get(s.layer)
        if not part.knows("notes"):
            continue
        located = _located_text(s.notes)
        path = ("stingers", i, "notes")
        if layer is not None and layer.is_percussion:
            for position, note, label, offset in located:
                if not layer.low <= note.pitch <= layer.high:
                    yield Finding(path, f"note {position} {label} (key {note.pitch}) is outside the drum keys "
                                        f"{layer.low}..{layer.high} of layer {layer.name!r}", offset)
        else:
            yield from _motif_findings(path, located, view, layer, "stinger")


def check_personal(view: SpecView) -> Iterable[Finding]:
    """``personalise`` and ``remember`` name existing layers, themes and states; a tempo offset fits the palette."""
    layers = [name for _, name in view.layer_names]
    themes = [name for _, name in view.theme_names]
    states = [name for _, name in view.state_names]
    p = view.personalise
    if p is not None:
        for layer in p.layers:
            if layer not in layers:
                yield Finding(("personalise", "layers", layer), _no_such("layer", layer, layers))
        for i, theme in enumerate(p.themes):
            if theme not in themes:
                yield Finding(("personalise", "themes", i), _no_such("theme", theme, themes))
        for i, state in enumerate(p.states or []):
            if state not in states:
                yield Finding(("personalise", "states", i), _no_such("state", state, states))
        if p.tempo is not None and view.tempo is not None:
            span = float(view.tempo.max) - float(view.tempo.min)
            if max(-p.tempo[0], p.tempo[1]) > span:
                yield Finding(("personalise", "tempo"), f"tempo offsets [{p.tempo[0]:g}, {p.tempo[1]:g}] bpm are wider "
                                                        f"than the palette's whole tempo range ({span:g} bpm)")
    r = view.remember
    if r is not None:
        for i, thing in enumerate(r.things):
            if thing.theme not in themes:
                yield Finding(("remember", "things", i, "theme"), _no_such("theme", thing.theme, themes))
        for i, state in enumerate(r.states or []):
            if state not in states:
                yield Finding(("remember", "states", i), _no_such("state", state, states))


Check = Callable[[SpecView], Iterable[Finding]]
CHECKS: list[Check] = [
    check_tempo, check_layer_names, check_some_pitched_layer, check_ranges_hold_keys,
    check_theme_names, check_theme_layers, check_theme_notes, check_style,
    check_parameters, check_mappings, check_initial_state, check_states, check_transitions, check_stingers,
    check_personal,
]
"""Every cross-check, in the order their findings are produced (issues are sorted by line later)."""


def run_checks(view: SpecView) -> list[Finding]:
    """All findings of all checks on ``view``."""
    return [finding for check in CHECKS for finding in check(view)]
