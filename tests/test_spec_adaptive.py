"""Floor 2 — the adaptive (game) sections of the score spec: parameters, mappings, states,
transitions, stingers; their checks, look-ups, curve evaluation and hashing."""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import pytest

from segue.music import PPQ, Key
from segue.spec import (
    ANY_STATE,
    Mapping,
    Parameter,
    Spec,
    SpecError,
    SpecIssue,
    State,
    Stinger,
    Transition,
    load_spec,
    load_spec_text,
    program_number,
    spec_from_dict,
)

ROOT = Path(__file__).resolve().parents[1]
FANTASY = ROOT / "examples" / "fantasy_game.yaml"

BASE = """
name: "Game"
palette:
  key: D dorian
  modulations: [F major, A minor]
  tempo: {min: 70, max: 140, default: 96}
layers:
  - {name: lead, role: melody, range: [D4, D6]}
  - {name: strings, role: harmony}
  - {name: drums, role: percussion}
themes:
  - {name: main, notes: "D4 E4 F4 A4"}
parameters:
  - {name: intensity, range: [0, 1], default: 0.2, seek: 0.25}
  - {name: danger, range: [-1, 1]}
states:
  - {name: explore}
  - {name: combat}
stingers:
  - {name: discovery, notes: "D5:0.5 A5:0.5 D6:1"}
"""


def text_of(extra: str = "", base: str = BASE) -> str:
    return textwrap.dedent(base).lstrip("\n") + textwrap.dedent(extra).lstrip("\n")


def load(extra: str = "") -> Spec:
    return load_spec_text(text_of(extra), source="g.yaml")


def errors_of(extra: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        load(extra)
    return info.value


def where(text: str, needle: str, occurrence: int = 1) -> tuple[int, int]:
    """1-based (line, column) of the n-th ``needle`` in ``text``, found independently of the loader."""
    seen = 0
    for n, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return n, line.index(needle) + 1
    raise AssertionError(f"{needle!r} not in text")


def issue_for(error: SpecError, path: str) -> SpecIssue:
    found = [i for i in error.issues if i.path == path]
    assert found, f"no issue for {path!r} in:\n{error}"
    return found[0]


# ---------------------------------------------------------------- a spec without the sections

def test_a_spec_without_game_sections_is_unchanged() -> None:
    plain = load_spec_text(text_of(base="""
        name: "Plain"
        layers:
          - {name: lead, role: melody}
    """))
    assert (plain.parameters, plain.mappings, plain.states, plain.transitions, plain.stingers) == ([],) * 5
    assert plain.initial_state is None and plain.initial_state_name is None
    canonical = json.loads(plain.canonical_json())["spec"]
    for section in ("parameters", "mappings", "initial_state", "states", "transitions", "stingers"):
        assert section not in canonical, "empty game sections must not change the provenance hash"
    explicit = load_spec_text(text_of(base="""
        name: "Plain"
        layers:
          - {name: lead, role: melody}
        parameters: []
        states: []
        transitions: []
    """))
    assert explicit.sha256 == plain.sha256
    rule = plain.find_transition("a", "b")
    assert (rule.from_state, rule.to_state, rule.quantize, rule.fade_beats, rule.bridge) == \
        (ANY_STATE, ANY_STATE, "bar", 1.0, False)


def test_hash_covers_the_game_sections() -> None:
    base = load()
    assert load().sha256 == base.sha256
    assert load("initial_state: combat\n").sha256 != base.sha256
    assert load("mappings:\n  - {parameter: danger, target: tension}\n").sha256 != base.sha256
    curve_a = load("mappings:\n  - {parameter: intensity, target: density, curve: [[0, 0.1], [1, 0.9]]}\n")
    curve_b = load("mappings:\n  - {parameter: intensity, target: density, curve: [[0, 0.1], [1, 0.8]]}\n")
    assert curve_a.sha256 != curve_b.sha256
    assert load("transitions:\n  - {from: explore, to: combat}\n").sha256 != base.sha256


# ---------------------------------------------------------------- the example

def test_fantasy_example_has_the_game_sections() -> None:
    spec = load_spec(FANTASY)
    assert {p.name: p.seek for p in spec.parameters} == {"intensity": 0.3, "danger": 0.5}
    assert [s.name for s in spec.states] == ["explore", "tension", "combat", "victory"]
    assert spec.initial_state_name == "explore"
    targets = {(m.parameter, m.target) for m in spec.mappings}
    assert {("intensity", "intensity"), ("intensity", "density"), ("danger", "tension"),
            ("danger", "valence"), ("intensity", "layer_gain")} <= targets
    falling = next(m for m in spec.mappings if (m.parameter, m.target) == ("danger", "valence"))
    assert falling.value_at(1.0) < falling.value_at(0.0), "danger must make the music darker"
    drums = next(m for m in spec.mappings if m.target == "layer_gain")
    assert drums.layer == "drums" and drums.value_at(1.0) > drums.value_at(0.0)

    victory, combat, explore = spec.state("victory"), spec.state("combat"), spec.state("explore")
    assert victory.key_value == Key.parse("F major") and victory.mood is not None and victory.mood.valence > 0.5
    assert combat.tempo is not None and explore.tempo is not None and combat.tempo > explore.tempo
    assert set(combat.layers or []) == {layer.name for layer in spec.layers}

    ambush = spec.find_transition("explore", "combat")
    assert ambush.quantize == "bar" and ambush.stinger is not None
    spec.stinger(ambush.stinger)  # names an existing stinger
    win = spec.find_transition("combat", "victory")
    assert (win.to_state, win.quantize, win.bridge_bars) == ("victory", "phrase", 1)
    calm = spec.find_transition("combat", "explore")
    assert (calm.quantize, calm.fade_beats) == ("phrase", 4.0)
    other = spec.find_transition("tension", "combat")
    assert (other.from_state, other.to_state, other.quantize) == (ANY_STATE, ANY_STATE, "bar")

    key = spec.palette.home_key
    for name in ("discovery", "hit"):
        notes = spec.stinger(name).parsed_notes()
        assert notes and all(key.contains(n.pitch) for n in notes)
    assert len(spec.stinger("discovery").parsed_notes()) <= 8, "a stinger is short"


def test_example_round_trips_through_its_dump() -> None:
    spec = load_spec(FANTASY)
    again = spec_from_dict(spec.model_dump(mode="json"))
    assert again.sha256 == spec.sha256


# ---------------------------------------------------------------- models and look-ups

def test_parameter_defaults_and_lookups() -> None:
    spec = load()
    intensity, danger = spec.parameter("intensity"), spec.parameter("danger")
    assert (intensity.min, intensity.max, intensity.default, intensity.seek) == (0, 1, 0.2, 0.25)
    assert danger.default == -1.0, "the default of a parameter is its range's minimum"
    assert danger.seek == 0.0, "seek 0 = jump at once"
    assert Parameter(name="x").range == (0.0, 1.0)
    assert intensity.clamp(3.0) == 1.0 and intensity.clamp(-2) == 0.0 and intensity.clamp(math.nan) == 0.2
    with pytest.raises(KeyError):
        spec.parameter("nope")
    with pytest.raises(KeyError):
        spec.state("nope")
    with pytest.raises(KeyError):
        spec.stinger("nope")


def test_initial_state_defaults_to_the_first_state() -> None:
    assert load().initial_state_name == "explore"
    assert load("initial_state: combat\n").initial_state_name == "combat"


def test_state_mood_is_completed_from_the_spec_mood() -> None:
    spec = load_spec_text(text_of(base=BASE.replace("states:\n  - {name: explore}",
                                                    "mood: {valence: -0.5, arousal: 0.2, intensity: 0.3}\n"
                                                    "states:\n  - {name: explore, mood: {arousal: 0.9}}")))
    explore, combat = spec.state("explore"), spec.state("combat")
    assert explore.mood is not None and combat.mood is not None
    assert (explore.mood.valence, explore.mood.arousal, explore.mood.intensity) == (-0.5, 0.9, 0.3)
    assert combat.mood == spec.mood


def test_stinger_instrument_defaults_names_and_borrowing() -> None:
    spec = load()
    glockenspiel = program_number("glockenspiel")
    assert spec.stinger("discovery").program == glockenspiel == spec.stinger("discovery").played_program
    assert spec.stinger("discovery").quantize == "beat"
    assert (spec.stinger("discovery").cooldown_beats, spec.stinger("discovery").spill) == (4.0, True)
    extra = text_of().replace('stingers:\n', 'stingers:\n'
                              '  - {name: chime, notes: "A5", program: celesta, quantize: bar}\n'
                              '  - {name: boom, notes: "36:1", layer: drums}\n'
                              '  - {name: echo, notes: "D5 E5", layer: lead}\n')
    spec = load_spec_text(extra)
    assert spec.stinger("chime").played_program == program_number("celesta")
    boom, echo = spec.stinger("boom"), spec.stinger("echo")
    assert boom.program is None and (boom.played_bank, boom.played_program) == (128, spec.layer("drums").program)
    assert (echo.played_bank, echo.played_program) == (0, spec.layer("lead").program)
    notes = spec.stinger("discovery").parsed_notes()
    assert [(n.start, n.pitch, n.duration) for n in notes] == [(0, 74, PPQ // 2), (PPQ // 2, 81, PPQ // 2),
                                                              (PPQ, 86, PPQ)]
    alone = Stinger(name="s", notes="D5", layer="lead")
    with pytest.raises(LookupError):
        alone.played_program


def test_transition_fields_aliases_and_bridge() -> None:
    t = Transition.model_validate({"from": "a", "to": "b", "bridge": True})
    assert (t.from_state, t.to_state, t.bridge_bars, t.quantize, t.fade_beats) == ("a", "b", 1, "bar", 1.0)
    assert Transition(from_state="a", to_state="b", bridge=3).bridge_bars == 3
    assert Transition().bridge_bars == 0 and (Transition().from_state, Transition().to_state) == ("any", "any")
    spec = load("transitions:\n  - {from: explore, to: combat, quantize: cue, bridge: 2, stinger: discovery}\n")
    rule = spec.transitions[0]
    assert (rule.quantize, rule.bridge, rule.stinger) == ("cue", 2, "discovery")


# ---------------------------------------------------------------- find_transition precedence

PRECEDENCE_RULES = [
    "{from: any, to: any, quantize: immediate}",
    "{from: any, to: b, quantize: beat}",
    "{from: any, to: c, quantize: bar}",
    "{from: a, to: any, quantize: phrase}",
    "{from: a, to: b, quantize: cue}",
]


def _precedence_spec(rules: list[str]) -> Spec:
    body = "states: [{name: a}, {name: b}, {name: c}]\ntransitions:\n" + "".join(f"  - {r}\n" for r in rules)
    return load_spec_text(text_of(body, base=BASE.split("states:")[0]))


@pytest.mark.parametrize(("from_state", "to_state", "expected"), [
    ("a", "b", "cue"),          # exact beats everything
    ("a", "c", "phrase"),       # (from, any) beats (any, to) and (any, any)
    ("b", "c", "bar"),          # (any, to) beats (any, any)
    ("c", "b", "beat"),
    ("b", "a", "immediate"),    # only (any, any) matches
    ("c", "a", "immediate"),
])
@pytest.mark.parametrize("order", ["as written", "reversed"])
def test_find_transition_most_specific_first(from_state: str, to_state: str, expected: str, order: str) -> None:
    # the order of the rules in the file must not matter, only how specific they are
    rules = PRECEDENCE_RULES if order == "as written" else PRECEDENCE_RULES[::-1]
    assert _precedence_spec(rules).find_transition(from_state, to_state).quantize == expected


def test_without_an_any_any_rule_the_default_applies() -> None:
    spec = load("transitions:\n  - {from: explore, to: combat, quantize: phrase, fade_beats: 8}\n")
    assert spec.find_transition("explore", "combat").fade_beats == 8
    default = spec.find_transition("combat", "explore")
    assert (default.from_state, default.to_state, default.quantize, default.fade_beats) == ("any", "any", "bar", 1)


# ---------------------------------------------------------------- value_at

CURVE = [[0.0, 0.1], [0.5, 0.4], [1.0, 1.0]]


def _reference(points: list[list[float]], x: float) -> float:
    """Independent piecewise-linear reference (numpy.interp clamps at the ends as the brief asks)."""
    import numpy as np

    return float(np.interp(x, [p[0] for p in points], [p[1] for p in points]))


@pytest.mark.parametrize("x", [0.0, 0.1, 0.25, 0.5, 0.6, 0.75, 0.99, 1.0, -3.0, 7.5, -math.inf, math.inf])
def test_value_at_interpolates_and_clamps(x: float) -> None:
    spec = load(f"mappings:\n  - {{parameter: intensity, target: density, curve: {CURVE}}}\n")
    assert spec.mappings[0].value_at(x) == pytest.approx(_reference(CURVE, x), abs=1e-12)


def test_value_at_nan_is_the_value_at_the_parameter_default() -> None:
    spec = load(f"mappings:\n  - {{parameter: intensity, target: density, curve: {CURVE}}}\n"
                "  - {parameter: danger, target: register}\n")
    assert spec.parameter("intensity").default == 0.2
    assert spec.mappings[0].value_at(math.nan) == pytest.approx(_reference(CURVE, 0.2))
    assert spec.mappings[1].value_at(math.nan) == pytest.approx(-1.0), "danger rests at its minimum"
    standalone = Mapping(parameter="p", target="density", curve=[[0.3, 0.2], [1.0, 0.9]])
    assert standalone.value_at(math.nan) == pytest.approx(0.2), "outside a spec: the first point"


def test_linear_curve_spans_parameter_and_target_ranges() -> None:
    spec = load("mappings:\n"
                "  - {parameter: danger, target: tempo, curve: linear}\n"
                "  - {parameter: danger, target: valence}\n"
                "  - {parameter: intensity, target: layer_gain, layer: drums}\n")
    tempo, valence, gain = spec.mappings
    assert tempo.points == ((-1.0, 70.0), (1.0, 140.0)), "tempo spans palette.tempo min..max"
    assert tempo.value_at(0.0) == pytest.approx(105.0)
    assert valence.points == ((-1.0, -1.0), (1.0, 1.0)) and valence.is_affect and not tempo.is_affect
    assert gain.points == ((0.0, -60.0), (1.0, 12.0))
    assert Mapping(parameter="p", target="dynamics").points == ((0.0, 0.0), (1.0, 1.0))


def test_curve_shorthand_is_case_insensitive_and_other_words_are_errors() -> None:
    assert load("mappings:\n  - {parameter: danger, target: tension, curve: Linear}\n").mappings[0].curve == "linear"
    error = errors_of("mappings:\n  - {parameter: danger, target: tension, curve: smooth}\n")
    assert "write 'linear' or a list of [x, y] points" in issue_for(error, "mappings[0].curve").message


# ---------------------------------------------------------------- each error kind, at its line

def with_item(section: str | None, item: str) -> tuple[str, int]:
    """BASE with ``item`` added as the last entry of list ``section`` (the section is created when BASE
    lacks it; ``section=None`` appends ``item`` as raw lines), and the 1-based line where it landed."""
    lines = text_of().splitlines()
    if section is None:
        return "\n".join(lines + item.splitlines()) + "\n", len(lines) + 1
    if f"{section}:" in lines:
        at = lines.index(f"{section}:") + 1
        while at < len(lines) and lines[at].startswith("  - "):
            at += 1
    else:
        lines.append(f"{section}:")
        at = len(lines)
    lines.insert(at, f"  - {item}")
    return "\n".join(lines) + "\n", at + 1


CASES = [
    # (section, item, issue path, text on the item's line the issue must point at, words in the message)
    ("parameters", "{name: intensity}", "parameters[2].name", "intensity", "duplicate parameter name 'intensity'"),
    ("parameters", "{name: speed, range: [0, 1], default: 2}", "parameters[2].default", "2}",
     "outside the range 0..1"),
    ("parameters", "{name: speed, range: [1, 1]}", "parameters[2].range", "[1, 1]", "not below max"),
    ("parameters", "{name: speed, range: [0, .inf]}", "parameters[2].range[1]", ".inf", "finite number"),
    ("parameters", "{name: speed, seek: -0.5}", "parameters[2].seek", "-0.5", "below the minimum 0"),
    ("parameters", "{name: top speed}", "parameters[2].name", "top speed", "letters, digits, _ and -"),
    (None, "initial_state: explor", "initial_state", "explor", "did you mean 'explore'"),
    ("mappings", "{parameter: intensty, target: density}", "mappings[0].parameter", "intensty",
     "did you mean 'intensity'"),
    ("mappings", "{parameter: intensity, target: loudness}", "mappings[0].target", "loudness", "not allowed"),
    ("mappings", "{parameter: intensity, target: layer_gain}", "mappings[0].layer", "{parameter", "needs 'layer:'"),
    ("mappings", "{parameter: intensity, target: density, layer: drums}", "mappings[0].layer", "drums}",
     "only a layer_gain mapping names a layer"),
    ("mappings", "{parameter: intensity, target: layer_gain, layer: drumz}", "mappings[0].layer", "drumz",
     "did you mean 'drums'"),
    ("mappings", "{parameter: intensity, target: density, curve: [[0, 0], [1.5, 1]]}", "mappings[0].curve[1][0]",
     "1.5", "outside parameter 'intensity' range 0..1"),
    ("mappings", "{parameter: intensity, target: density, curve: [[0, 0], [1, 1.2]]}", "mappings[0].curve[1][1]",
     "1.2", "outside the density range 0..1"),
    ("mappings", "{parameter: danger, target: valence, curve: [[-1, -1.5], [1, 1]]}", "mappings[0].curve[0][1]",
     "-1.5", "outside the valence range -1..1"),
    ("mappings", "{parameter: danger, target: register, curve: [[-1, -1], [1, 1.1]]}", "mappings[0].curve[1][1]",
     "1.1", "outside the register range -1..1"),
    ("mappings", "{parameter: danger, target: tempo, curve: [[-1, 80], [1, 141]]}", "mappings[0].curve[1][1]",
     "141", "outside the tempo range 70..140 bpm"),
    ("mappings", "{parameter: danger, target: layer_gain, layer: drums, curve: [[-1, -61], [1, 0]]}",
     "mappings[0].curve[0][1]", "-61", "outside the layer_gain range -60..12 dB"),
    ("mappings", "{parameter: danger, target: tension, curve: [[0, 0], [0, 1]]}", "mappings[0].curve[1][0]",
     "0, 1]", "x must increase"),
    ("mappings", "{parameter: danger, target: tension, curve: [[0, 0], [1, x]]}", "mappings[0].curve[1][1]",
     "x]", "finite number"),
    ("mappings", "{parameter: danger, target: tension, curve: [[0, 0], 1]}", "mappings[0].curve[1]", "1]",
     "point 2 must be two numbers"),
    ("mappings", "{parameter: danger, target: tension, curve: [[0, 0]]}", "mappings[0].curve", "[[0, 0]]",
     "at least 2 points"),
    ("mappings", "{parameter: danger, target: tension, curve: smooth}", "mappings[0].curve", "smooth",
     "write 'linear' or a list of [x, y] points"),
    ("states", "{name: boss, key: E major}", "states[2].key", "E major", "neither the home key (D dorian)"),
    ("states", "{name: boss, tempo: 150}", "states[2].tempo", "150", "outside the palette tempo range 70..140"),
    ("states", "{name: boss, theme: mian}", "states[2].theme", "mian", "did you mean 'main'"),
    ("states", "{name: boss, layers: [lead, strigns]}", "states[2].layers[1]", "strigns", "did you mean 'strings'"),
    ("states", "{name: boss, layers: [lead, lead]}", "states[2].layers[1]", "lead]", "listed twice"),
    ("states", "{name: boss, parameters: {dangr: 0.5}}", "states[2].parameters.dangr", "0.5",
     "did you mean 'danger'"),
    ("states", "{name: boss, parameters: {intensity: 1.5}}", "states[2].parameters.intensity", "1.5",
     "outside parameter 'intensity' range 0..1"),
    ("states", "{name: explore}", "states[2].name", "explore", "duplicate state name 'explore'"),
    ("states", "{name: any}", "states[2].name", "any", "'any' cannot name a state"),
    ("states", "{name: boss, mood: {valence: 2}}", "states[2].mood.valence", "2}", "above the maximum 1"),
    ("states", "{name: boss, layers: []}", "states[2].layers", "[]", "leave 'layers' out"),
    ("transitions", "{from: explroe, to: combat}", "transitions[0].from", "explroe", "did you mean 'explore'"),
    ("transitions", "{from: explore, to: nowhere}", "transitions[0].to", "nowhere", "no state named 'nowhere'"),
    ("transitions", "{from: combat, to: combat}", "transitions[0].to", "combat}", "both 'combat'"),
    ("transitions", "{from: explore, to: combat, stinger: dicovery}", "transitions[0].stinger", "dicovery",
     "did you mean 'discovery'"),
    ("transitions", "{from: explore, to: combat, quantize: soon}", "transitions[0].quantize", "soon", "not allowed"),
    ("transitions", "{from: explore, to: combat, fade_beats: 33}", "transitions[0].fade_beats", "33",
     "above the maximum 32"),
    ("transitions", "{from: explore, to: combat, bridge: 5}", "transitions[0].bridge", "5}", "number of bars 1..4"),
    ("transitions", "{from: explore, to: combat, bridge: 0}", "transitions[0].bridge", "0}", "number of bars 1..4"),
    ("stingers", '{name: discovery, notes: "D5"}', "stingers[1].name", "discovery",
     "duplicate stinger name 'discovery'"),
    ("stingers", '{name: s, notes: "D5 F#5"}', "stingers[1].notes", "F#5", "note 2 'F#5' is not in D dorian"),
    ("stingers", '{name: s, notes: "D5 Q5"}', "stingers[1].notes", "Q5", "token 2 'Q5'"),
    ("stingers", '{name: s, notes: "r:2"}', "stingers[1].notes", '"r:2"', "no notes"),
    ("stingers", '{name: s, notes: "D5", quantize: cue}', "stingers[1].quantize", "cue", "only valid in transitions"),
    ("stingers", '{name: s, notes: "D5", layer: leed}', "stingers[1].layer", "leed", "did you mean 'lead'"),
    ("stingers", '{name: s, notes: "D5", layer: lead, program: flute}', "stingers[1].program", "flute", "not both"),
    ("stingers", '{name: s, notes: "D5", program: flutte}', "stingers[1].program", "flutte", "did you mean 'flute'"),
    ("stingers", '{name: s, notes: "36 99", layer: drums}', "stingers[1].notes", "99", "outside the drum keys 35..81"),
    ("stingers", '{name: s, notes: "D3 D5 E5", layer: strings}', "stingers[1].notes", '"D3 D5 E5"',
     "spans 26 semitones"),
    ("stingers", '{name: s, notes: "D5", cooldown_beats: -1}', "stingers[1].cooldown_beats", "-1",
     "below the minimum 0"),
    ("stingers", '{name: s, notes: "D5", spill: maybe}', "stingers[1].spill", "maybe", "true or false"),
]


@pytest.mark.parametrize(("section", "item", "path", "needle", "words"), CASES,
                         ids=[f"{c[2]}:{c[4]}"[:70] for c in CASES])
def test_each_error_is_reported_with_path_line_and_column(section: str | None, item: str, path: str,
                                                           needle: str, words: str) -> None:
    text, line = with_item(section, item)
    with pytest.raises(SpecError) as info:
        load_spec_text(text, source="g.yaml")
    error = info.value
    issue = issue_for(error, path)
    assert words in issue.message, issue.message
    written = text.splitlines()[line - 1]
    assert issue.line == line and written[issue.column - 1:].startswith(needle), (issue, written)
    assert str(issue).startswith(f"g.yaml:{line}:{issue.column}: {path}: ")
    assert len(error.issues) == 1, f"one mistake, one issue:\n{error}"


@pytest.mark.parametrize(("section", "item"), [
    ("states", "{name: boss, key: A aeolian}"),          # = A minor, a listed modulation
    ("states", "{name: boss, key: D dorian, tempo: 140, layers: [drums], parameters: {danger: 1}}"),
    ("transitions", "{from: any, to: any, quantize: immediate, fade_beats: 0}"),
    ("transitions", "{from: explore, to: combat, bridge: true, stinger: null}"),
    ("stingers", '{name: s, notes: "36 49:2", layer: drums, quantize: phrase}'),
    ("stingers", '{name: s, notes: "D4 E4 F4", layer: strings, gain_db: -6}'),
    ("mappings", "{parameter: danger, target: tempo, curve: [[-1, 70], [0, 90], [1, 140]]}"),
    ("mappings", "{parameter: intensity, target: brightness, curve: [[0.2, 0], [0.8, 1]]}"),
])
def test_values_on_the_boundaries_are_accepted(section: str, item: str) -> None:
    text, _ = with_item(section, item)
    load_spec_text(text)


def test_duplicate_transition_pair_points_at_the_second_rule() -> None:
    extra = ("transitions:\n  - {from: any, to: any}\n  - {from: explore, to: any, quantize: beat}\n"
             "  - {from: any, to: any, quantize: phrase}\n")
    error = errors_of(extra)
    issue = issue_for(error, "transitions[2]")
    assert "duplicate transition any → any (already defined by transitions[0])" in issue.message
    text = text_of(extra)
    assert (issue.line, issue.column) == where(text, "{from: any, to: any, quantize: phrase}")
    assert error.paths == ["transitions[2]"]


def test_initial_state_without_states() -> None:
    error = errors_of("initial_state: explore\n".replace("explore", "boss"))
    assert "no state named 'boss'" in issue_for(error, "initial_state").message
    plain = text_of("initial_state: menu\n", base='name: x\nlayers:\n  - {name: a, role: melody}\n')
    with pytest.raises(SpecError) as info:
        load_spec_text(plain)
    assert "the spec has no states" in info.value.issues[0].message


def test_every_problem_is_reported_at_once_even_in_broken_items() -> None:
    # each mapping/transition holds two mistakes: a schema error must not hide the cross-check
    error = errors_of("mappings:\n  - {parameter: intensty, target: loudness}\n"
                      "transitions:\n  - {from: explroe, to: combat, fade_beats: 99}\n"
                      "  - {from: any, to: combat, bridge: 9}\n  - {from: any, to: combat}\n")
    assert error.paths == ["mappings[0].parameter", "mappings[0].target", "transitions[0].from",
                           "transitions[0].fade_beats", "transitions[1].bridge", "transitions[2]"]


def test_a_bad_field_does_not_cause_false_alarms() -> None:
    # the only mistakes are the bad values; their stand-ins must not trigger 'duplicate' or range errors
    text = text_of(base="""
        name: x
        layers: [{name: lead, role: melody}]
        parameters:
          - {name: speed, range: [2, 1], default: 1.5}
        mappings:
          - {parameter: speed, target: tension, curve: [[1, 0], [2, 1]]}
        states: [{name: a}, {name: b}]
        transitions:
          - {from: [a], to: b}
          - {from: {x: 1}, to: b}
          - {to: [b]}
          - {stinger: 7, to: [x]}
    """)
    with pytest.raises(SpecError) as info:
        load_spec_text(text)
    assert info.value.paths == ["parameters[0].range", "transitions[0].from", "transitions[1].from",
                                "transitions[2].to", "transitions[3].stinger", "transitions[3].to"]


@pytest.mark.parametrize(("section", "item", "path", "meant"), [
    ("transitions", "{form: explore, to: combat}", "transitions[0].form", "did you mean 'from'"),
    ("transitions", "{from: explore, to: combat, quantise: bar}", "transitions[0].quantise", "did you mean 'quantize'"),
    ("transitions", "{from: explore, to: combat, fade: 2}", "transitions[0].fade", "did you mean 'fade_beats'"),
    ("parameters", "{name: speed, speed: 2}", "parameters[2].speed", "did you mean 'seek'"),
    ("mappings", "{parameter: danger, target: tension, points: [[0, 0], [1, 1]]}", "mappings[0].points",
     "did you mean 'curve'"),
    ("stingers", "{name: s, notes: D5, cooldown: 2}", "stingers[1].cooldown", "did you mean 'cooldown_beats'"),
    ("states", "{name: s, theme: main, layer: [lead]}", "states[2].layer", "did you mean 'layers'"),
    (None, "state:\n  - {name: x}", "state", "did you mean 'states'"),
    (None, "stinger: {name: x}", "stinger", "did you mean 'stingers'"),
    (None, "quantize: bar", "quantize", "belongs under 'transitions:'"),
    (None, "curve: linear", "curve", "belongs under 'mappings:'"),
])
def test_unknown_fields_in_game_sections_suggest_the_name(section: str | None, item: str, path: str,
                                                          meant: str) -> None:
    text, line = with_item(section, item)
    with pytest.raises(SpecError) as info:
        load_spec_text(text)
    (issue,) = info.value.issues
    assert issue.path == path and meant in issue.message
    key = path.split(".")[-1].split("[")[0]
    assert issue.line == line and text.splitlines()[line - 1][issue.column - 1:].startswith(key + ":")


# ---------------------------------------------------------------- dicts and direct validation

def test_spec_from_dict_with_game_sections() -> None:
    data = {
        "name": "API", "layers": [{"name": "x", "role": "harmony"}],
        "parameters": [{"name": "p", "range": [0, 10], "default": 5}],
        "mappings": [{"parameter": "p", "target": "density", "curve": [[0, 0], [10, 1]]}],
        "states": [{"name": "a"}, {"name": "b"}],
        "transitions": [{"from": "a", "to": "b", "quantize": "phrase"}],
    }
    spec = spec_from_dict(data)
    assert spec.mappings[0].value_at(2.5) == pytest.approx(0.25)
    assert spec.mappings[0].value_at(math.nan) == pytest.approx(0.5)
    assert spec.find_transition("a", "b").quantize == "phrase"
    data["transitions"] = [{"from": "a", "to": "c"}]
    with pytest.raises(SpecError) as info:
        spec_from_dict(data)
    (issue,) = info.value.issues
    assert issue.path == "transitions[0].to" and issue.line is None


def test_direct_model_validate_runs_the_game_checks_too() -> None:
    with pytest.raises(SpecError) as info:
        Spec.model_validate({"name": "x", "layers": [{"name": "a", "role": "melody"}],
                             "states": [{"name": "s"}], "initial_state": "t"})
    assert info.value.paths == ["initial_state"]
    spec = Spec.model_validate({"name": "x", "layers": [{"name": "a", "role": "melody"}],
                                "parameters": [{"name": "p", "default": 0.5}],
                                "mappings": [{"parameter": "p", "target": "tension"}],
                                "states": [{"name": "s", "layers": ["a"]}]})
    assert spec.mappings[0].value_at(math.nan) == pytest.approx(0.5)
    assert isinstance(spec.state("s"), State) and spec.state("s").mood == spec.mood
