"""From a spec (or a mood) to files: the one path that `compose`, `demo` and the API share.

Composing is the conductor run bar by bar; audio is the engine pulling blocks from that same
conductor, so the notes in a WAV are exactly the notes in the MIDI written beside it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from segue import __version__
from segue.compose.affect import Affect
from segue.engine.conductor import Conductor
from segue.engine.engine import Engine
from segue.engine.performance import Performance

MIDI_EXT = {".mid", ".midi"}
XML_EXT = {".musicxml", ".xml"}
AUDIO_EXT = {".wav", ".flac"}
Progress = Callable[[int, int], None]


class OutputError(ValueError):
    """An output path Segue cannot write (unknown extension, unwritable folder)."""


@dataclass(slots=True)
class Rendered:
    """Audio of a performance: the mastered mix, per-layer stems and the loudness report."""

    performance: Performance
    mix: np.ndarray
    stems: dict[str, np.ndarray]
    loudness: dict = field(default_factory=dict)

    @property
    def sample_rate(self) -> int:
        return self.performance.sample_rate


def output_kind(path: Path) -> str:
    ext = path.suffix.lower()
    if ext in MIDI_EXT:
        return "midi"
    if ext in XML_EXT:
        return "musicxml"
    if ext in AUDIO_EXT:
        return "audio"
    raise OutputError(f"don't know how to write {path.name!r}: use .mid, .musicxml, .wav or .flac")


def default_guard() -> Callable | None:
    """The originality guard, on by default (``SEGUE_GUARD=0`` turns it off, e.g. for timing experiments)."""
    import os

    if os.environ.get("SEGUE_GUARD", "1") == "0":
        return None
    from segue.originality import guard_phrase

    return guard_phrase


def make_conductor(spec: object, *, seed: int | None = None, affect: Affect | None = None,
                   style: object | None = None, sample_rate: int = 44100, keep_bars: bool = True,
                   guard: Callable | None | bool = True) -> Conductor:
    """A conductor for ``spec``; ``guard=True`` means the default originality guard, ``None``/``False`` none."""
    g = default_guard() if guard is True else (guard or None)
    return Conductor(spec, seed=seed, affect=affect, style=style, sample_rate=sample_rate, keep_bars=keep_bars,
                     guard=g)


def originality_summary(conductor: Conductor, perf: Performance | None = None,
                        themes: dict | None = None) -> dict | None:
    """The sidecar's originality entry: phrases checked while composing, the spec's themes, and —
    given the finished performance — every pitched layer and the whole file."""
    if conductor.guard is None:
        return {"guard": "off"}
    from segue.originality.piece import check_layers, piece_summary

    kept, rejected = conductor.guard_results()
    layers = None
    if perf is not None:
        pitched = [(p.name, p.role, perf.notes(p.name)) for p in conductor.parts
                   if not p.is_drums and p.role != "percussion"]
        layers = check_layers(pitched, conductor.guard)
    return piece_summary(kept, rejected, themes, layers)


def check_themes(conductor: Conductor, warn: Callable[[str], None] | None = None) -> dict:
    """Check the spec's themes before composing; each flagged one is reported through ``warn``
    (default: :func:`warnings.warn`) with the work it quotes. Returns name → guard result."""
    if conductor.guard is None or not conductor.themes:
        return {}
    import warnings

    from segue.originality.piece import check_themes as check, theme_warning

    results = check(conductor.themes, conductor.guard)
    for name, r in results.items():
        if getattr(r, "flagged", False):
            message = theme_warning(name, r)
            if warn is None:
                warnings.warn(message, UserWarning, stacklevel=3)
            else:
                warn(message)
    return results


def provenance(conductor: Conductor, bars: int, affect: Affect | None = None, controls: object | None = None,
               perf: Performance | None = None, themes: dict | None = None) -> dict:
    """Where a file came from: enough to reproduce it exactly and to audit the model and data."""
    style = conductor.style
    ctl = json.dumps(controls, sort_keys=True, default=str) if controls is not None else None
    return {
        "segue_version": __version__,
        "model_id": getattr(style, "id", "unknown"),
        "model_sha256": getattr(style, "sha256", "unknown"),
        "training_manifest": getattr(style, "training", {}).get("manifest_id", "music21-corpus")
        if isinstance(getattr(style, "training", None), dict) else "unknown",
        "spec_name": str(conductor.spec.name),
        "spec_sha256": conductor.spec.sha256,
        "seed": conductor.seed,
        "bars": bars,
        "affect": None if affect is None else {"valence": affect.valence, "arousal": affect.arousal,
                                               "intensity": affect.intensity},
        "controls_sha256": hashlib.sha256(ctl.encode()).hexdigest() if ctl else None,
        "originality": originality_summary(conductor, perf, themes),
    }


def in_state(spec: object, state: str | None) -> object:
    """``spec`` starting in game state ``state`` (its ``initial_state``), so that one state of an adaptive
    score can be composed or rendered on its own (``segue compose --state``, ``segue batch``). The copy
    hashes differently (its provenance names the state it starts in); ``None`` returns ``spec`` itself."""
    if state is None:
        return spec
    names = [s.name for s in getattr(spec, "states", None) or []]
    if state not in names:
        have = ", ".join(names) if names else "none (this score has no game states)"
        raise OutputError(f"no state named {state!r} in {spec.name!r}; its states: {have}")
    copy = spec.model_copy(update={"initial_state": state})
    copy._sha256 = None  # the cached hash is the original's
    return copy


def compose(spec: object, *, bars: int | None = None, seconds: float | None = None, seed: int | None = None,
            affect: Affect | None = None, style: object | None = None, progress: Progress | None = None,
            warn: Callable[[str], None] | None = None) -> Performance:
    """Compose a piece (notes only). ``warn`` hears about spec themes that quote a known work."""
    c = make_conductor(spec, seed=seed, affect=affect, style=style)
    n = _bar_count(c, bars, seconds)
    themes = check_themes(c, warn)
    perf = c.perform(n, progress=progress)
    _refuse_silence(perf, c)
    perf.provenance = provenance(c, n, affect, perf=perf, themes=themes)
    return perf


def _refuse_silence(perf: Performance, c: Conductor) -> None:
    """A piece without a single note is not a piece: say why instead of writing a silent file (a spec
    whose layers all ``enter`` above the mood's intensity was accepted and rendered silence, exit 0)."""
    if any(perf.notes_by_layer().values()):
        return
    enters = ", ".join(f"{p.name} at {p.enter:g}" for p in c.parts)
    raise OutputError(f"the piece would be silent: no layer plays at this intensity (layers enter: {enters}); "
                      f"lower a layer's `enter` or raise the intensity")


def _bar_count(c: Conductor, bars: int | None, seconds: float | None) -> int:
    if bars is not None and seconds is not None:
        raise ValueError("give --bars or --seconds, not both")
    if seconds is not None:
        if not seconds > 0 or seconds > 3600 * 3:
            raise ValueError(f"--seconds must be between 0 and 10800, got {seconds}")
        return c.bars_for_seconds(seconds)
    n = 16 if bars is None else int(bars)
    if not 1 <= n <= 10000:
        raise ValueError(f"--bars must be between 1 and 10000, got {n}")
    return n


def render(spec: object, *, bars: int | None = None, seconds: float | None = None, seed: int | None = None,
           affect: Affect | None = None, style: object | None = None, soundfont: Path | None = None,
           tail_seconds: float = 2.0, block: int = 2048, progress: Progress | None = None,
           keep_stems: bool = False, warn: Callable[[str], None] | None = None) -> Rendered:
    """Compose and play a piece through the engine; returns the mastered mix (and stems if asked)."""
    from segue.audio import normalise_loudness

    c = make_conductor(spec, seed=seed, affect=affect, style=style)
    n = _bar_count(c, bars, seconds)
    themes = check_themes(c, warn)
    c.end_at(n)
    engine = Engine(c, soundfont=soundfont)
    mixes: list[np.ndarray] = []
    stems: dict[str, list[np.ndarray]] = {p.name: [] for p in c.parts}
    end: int | None = None
    latency = engine.mixer.latency  # the limiter's look-ahead delays the mix; cut it off again
    while True:
        mix, st = engine.pull(block, want_stems=keep_stems)
        mixes.append(mix)
        if keep_stems:
            for k in stems:
                stems[k].append(st[k] if k in st else np.zeros((mix.shape[0], 2), dtype=np.float32))
        end = engine.end_sample
        if progress and end:
            progress(min(engine.position, end), end)
        if end is not None and engine.position >= end + int(tail_seconds * engine.sample_rate) + latency:
            break
    perf = c.performance()
    _refuse_silence(perf, c)
    perf.provenance = provenance(c, n, affect, perf=perf, themes=themes)
    total = end + int(tail_seconds * engine.sample_rate)
    full = np.concatenate(mixes)[latency : latency + total]
    mastered, report = normalise_loudness(full, engine.sample_rate)
    stem_audio: dict[str, np.ndarray] = {}
    if keep_stems:
        # stems are post-fader and share the master's loudness gain, so they line up in a DAW
        g = 10 ** (report.get("gain_db", 0.0) / 20)
        for p in perf.parts:  # the engine's stems are post-fader already
            stem_audio[p.name] = np.concatenate(stems[p.name])[:total] * np.float32(g)
        peak = max((float(np.max(np.abs(v))) for v in stem_audio.values() if v.size), default=0.0)
        if peak > 0.89:  # keep stems under -1 dBFS too: they go into a DAW unmastered
            stem_audio = {k: v * np.float32(0.89 / peak) for k, v in stem_audio.items()}
    return Rendered(perf, mastered, stem_audio, report)


def write_sidecar(path: Path, prov: dict, extra: dict | None = None) -> Path:
    """Provenance next to every output: ``NAME.EXT.segue.json``."""
    side = path.with_name(path.name + ".segue.json")
    data = dict(prov)
    data["file"] = path.name
    if extra:
        data.update(extra)
    side.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return side


def write_performance(perf: Performance, path: Path) -> Path:
    """Write notes (MIDI or MusicXML by extension)."""
    from segue.export import write_midi, write_musicxml

    kind = output_kind(path)
    _ensure_dir(path)
    if kind == "midi":
        write_midi(perf, path)
    elif kind == "musicxml":
        write_musicxml(perf, path)
    else:
        raise OutputError(f"{path.name}: audio needs rendering; use write_rendered")
    write_sidecar(path, perf.provenance)
    return path


def write_rendered(r: Rendered, path: Path, stems_dir: Path | None = None) -> list[Path]:
    """Write the mix (WAV/FLAC by extension) and optionally one stem file per layer."""
    from segue.audio import write_audio

    if output_kind(path) != "audio":
        raise OutputError(f"{path.name}: expected .wav or .flac")
    _ensure_dir(path)
    write_audio(path, r.mix, r.sample_rate)
    written = [path, write_sidecar(path, r.performance.provenance, {"loudness": r.loudness})]
    if stems_dir is not None:
        if not r.stems:
            raise OutputError("stems were not kept for this render (render(..., keep_stems=True))")
        stems_dir.mkdir(parents=True, exist_ok=True)
        for name, audio in r.stems.items():
            p = stems_dir / f"{path.stem}.{name}{path.suffix}"
            write_audio(p, audio, r.sample_rate)
            written.append(p)
    return written


def _ensure_dir(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create folder {path.parent}: {exc.strerror}") from None


@dataclass(slots=True)
class Played:
    """A timeline played through the engine: raw engine output (what a live sink would hear)."""

    performance: Performance
    mix: np.ndarray
    events: list
    control_log: object
    stems: dict[str, np.ndarray] = field(default_factory=dict)
    rejected: int = 0


def play(spec: object, timeline: object, *, seed: int | None = None, soundfont: Path | None = None,
         block: int = 2048, keep_stems: bool = False, progress: Progress | None = None,
         keep_audio: bool = True, on_block: Callable[[np.ndarray], None] | None = None,
         keep_bars: bool = True, keep_events: bool = True, personaliser: object | None = None) -> Played:
    """Render a timeline of controls offline with the live engine, as fast as the CPU allows.

    The output is the engine's own (limited, never clipping) mix, not loudness-normalised:
    a live session cannot normalise what it has not played yet, and the two must be equal.
    ``personaliser``: a listener model the engine asks for each personalised phrase (its choices are
    in the returned control log, which replays without it).
    """
    from segue.engine.controls import Timeline

    c = make_conductor(spec, seed=timeline.seed if seed is None and timeline.seed is not None else seed,
                       sample_rate=timeline.sample_rate, keep_bars=keep_bars)
    engine = Engine(c, soundfont=soundfont, personaliser=personaliser)
    for ctl in timeline.sorted():
        engine.submit(ctl, sample=ctl.at_sample(timeline.sample_rate))
    total = timeline.end_sample()
    latency = engine.mixer.latency
    mixes: list[np.ndarray] = []
    stems: dict[str, list[np.ndarray]] = {p.name: [] for p in c.parts}
    while engine.position < total + latency:
        n = min(block, total + latency - engine.position)
        mix, st = engine.pull(n, want_stems=keep_stems)
        if keep_audio:
            mixes.append(mix)
        if on_block is not None:
            on_block(mix)
        if not keep_events:
            engine.events.clear()
        if keep_stems:
            for k in stems:
                stems[k].append(st[k] if k in st else np.zeros((n, 2), dtype=np.float32))
        if progress:
            progress(engine.position, total + latency)
    perf = c.performance()
    perf.end = c.tempo_map.tick_at_sample(total)
    log = Timeline(controls=list(engine.control_log), duration=total / timeline.sample_rate,
                   seed=c.seed, sample_rate=timeline.sample_rate)
    perf.provenance = provenance(c, len(perf.sounding_bars()), None, log.to_dict(), perf=perf,
                                 themes=check_themes(c, lambda message: None))
    full = np.concatenate(mixes)[latency:latency + total] if keep_audio else np.zeros((0, 2), np.float32)
    st_out = {k: np.concatenate(v)[:total] for k, v in stems.items()} if keep_stems else {}
    return Played(perf, full, list(engine.events), log, st_out, engine.rejected)
