"""Floor 2 — the score spec: schema, YAML loading with positions, validation, note text, hashing."""

from __future__ import annotations

import re
import textwrap
from fractions import Fraction
from pathlib import Path

import mido
import pytest

from segue.music import PPQ, Key, Meter, Note
from segue.spec import (
    GM_PROGRAMS,
    NoteTextError,
    Spec,
    SpecError,
    SpecIssue,
    default_spec,
    load_spec,
    load_spec_text,
    parse_note_text,
    program_number,
    spec_from_dict,
)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
BAD = ROOT / "tests" / "data" / "bad_specs"


def spec_text(body: str) -> str:
    return textwrap.dedent(body).lstrip("\n")


def errors_of(text: str, **kwargs) -> SpecError:
    with pytest.raises(SpecError) as info:
        load_spec_text(spec_text(text), source="t.yaml", **kwargs)
    return info.value


def where(text: str, needle: str) -> tuple[int, int]:
    """1-based (line, column) of the first ``needle`` in the dedented spec ``text``: the position an
    issue must point at, found independently of the loader."""
    for n, line in enumerate(spec_text(text).splitlines(), start=1):
        if needle in line:
            return n, line.index(needle) + 1
    raise AssertionError(f"{needle!r} not in text")


def issue_for(error: SpecError, path: str) -> SpecIssue:
    found = [i for i in error.issues if i.path == path]
    assert found, f"no issue for {path!r} in:\n{error}"
    return found[0]


MINIMAL = """
name: "Test"
palette:
  key: C major
layers:
  - name: lead
    role: melody
    range: [C4, C6]
"""


# ---------------------------------------------------------------- examples

def test_there_are_at_least_three_examples() -> None:
    names = {p.name for p in EXAMPLES}
    assert {"fantasy_game.yaml", "dark_ambient.yaml", "light_orchestral_film.yaml"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_loads_and_its_themes_stay_in_bounds(path: Path) -> None:
    spec = load_spec(path)
    assert spec.source_path == path.resolve() and spec.base_dir == path.resolve().parent
    key = spec.palette.home_key
    assert spec.pitched_layers, "an example needs pitched layers"
    assert len({layer.name for layer in spec.layers}) == len(spec.layers)
    for layer in spec.pitched_layers:
        assert len(key.pitches_in_range(layer.low, layer.high)) >= 5
    assert spec.themes, "examples should show a theme"
    for theme in spec.themes:
        notes = theme.parsed_notes(spec.base_dir)
        assert notes and all(isinstance(n, Note) for n in notes)
        outside = sum(not key.contains(n.pitch) for n in notes)
        assert outside <= spec.palette.scale_tolerance * len(notes)
        if theme.layer:
            layer = spec.layer(theme.layer)
            assert layer.is_pitched
            assert max(n.pitch for n in notes) - min(n.pitch for n in notes) <= layer.high - layer.low


def test_fantasy_example_has_the_requested_shape() -> None:
    spec = load_spec(ROOT / "examples" / "fantasy_game.yaml")
    assert spec.palette.home_key == Key.parse("D dorian")
    assert spec.palette.modulations
    roles = {layer.role for layer in spec.layers}
    assert {"melody", "counter", "harmony", "bass", "ostinato", "percussion"} <= roles
    main = spec.theme("main").parsed_notes()
    assert 8 <= len(main) <= 16


# ---------------------------------------------------------------- the model and its conveniences

def test_convenience_properties_and_defaults() -> None:
    # percussion ignores range musically, but a written range must still be sane
    error = errors_of("""
        name: "Props"
        layers:
          - name: lead
            role: melody
          - name: kit
            role: percussion
            range: [C7, C1]
    """)
    assert error.paths == ["layers[1].range"]

    spec = load_spec_text(spec_text("""
        name: "Props"
        palette:
          key: F# harmonic minor
          meter: 6/8
        layers:
          - name: lead
            role: melody
            program: Flute
            range: [F#4, 86]
          - name: kit
            role: percussion
    """))
    assert spec.palette.home_key == Key(6, "harmonic_minor")
    assert spec.palette.meter_value == Meter(6, 8)
    lead, kit = spec.layers
    assert (lead.low, lead.high, lead.program, lead.bank) == (66, 86, 73, 0)
    assert not lead.is_percussion and kit.is_percussion
    assert kit.bank == 128, "percussion layers default to the GM drum-kit bank"
    assert spec.seed == 0 and spec.style == "default" and spec.themes == []
    assert (spec.mood.valence, spec.mood.arousal, spec.mood.intensity) == (0.0, 0.5, 0.5)
    assert (spec.palette.tempo.min, spec.palette.tempo.default, spec.palette.tempo.max) == (60, 100, 160)
    assert spec.source_path is None and spec.base_dir is None


def test_role_defaults_fill_program_and_range() -> None:
    spec = load_spec_text(spec_text("""
        name: "Defaults"
        layers:
          - {name: b, role: bass}
          - {name: m, role: melody}
    """))
    bass, melody = spec.layers
    assert bass.high <= 60 < melody.high, "a bass sits below a melody by default"
    assert bass.program == program_number("acoustic bass")


def test_fixed_tempo_shorthand() -> None:
    spec = load_spec_text(spec_text(MINIMAL).replace("  key: C major", "  key: C major\n  tempo: 84"))
    t = spec.palette.tempo
    assert (t.min, t.default, t.max) == (84, 84, 84)


def test_spec_is_frozen() -> None:
    spec = load_spec_text(spec_text(MINIMAL))
    with pytest.raises(Exception):
        spec.seed = 3  # type: ignore[misc]


def test_default_spec_is_valid_and_pitched() -> None:
    spec = default_spec()
    assert isinstance(spec, Spec)
    assert spec.pitched_layers and any(layer.is_percussion for layer in spec.layers)
    assert default_spec().sha256 == spec.sha256


def test_spec_from_dict_validates_and_reports_paths_without_lines() -> None:
    spec = spec_from_dict({"name": "API", "layers": [{"name": "x", "role": "harmony"}], "mood": {"valence": -0.5}})
    assert spec.mood.valence == -0.5
    with pytest.raises(SpecError) as info:
        spec_from_dict({"name": "API", "layers": [{"name": "x", "role": "harmony", "gain_db": 40}]})
    (issue,) = info.value.issues
    assert issue.path == "layers[0].gain_db" and issue.line is None
    assert str(issue) == "<dict>: layers[0].gain_db: 40 is above the maximum 12"


def test_direct_model_validate_also_runs_the_cross_checks() -> None:
    with pytest.raises(SpecError) as info:
        Spec.model_validate({"name": "x", "layers": [{"name": "a", "role": "melody", "range": ["C4", "E4"]}]})
    assert info.value.paths == ["layers[0].range"]


# ---------------------------------------------------------------- line-precise errors

def test_the_brief_example_message_exactly() -> None:
    text = spec_text("""
        name: "Bad"
        palette:
          key: C major
        # a comment line
        layers:
          - name: lead
            role: melody
            range: [C4, C6]
          - name: pad
            role: harmony
            range: [C3, C5]
          - name: high
            role: counter
            range: [C7, C5]
    """)
    assert text.splitlines()[13].startswith("    range: [C7, C5]")
    with pytest.raises(SpecError) as info:
        load_spec_text(text, source="examples/bad.yaml")
    assert str(info.value) == "examples/bad.yaml:14:12: layers[2].range: low C7 is above high C5"


def _markers(path: Path) -> dict[int, list[str]]:
    """Line number → the paths that the ``# expect:`` comment on that line allows."""
    found = {}
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        m = re.search(r"#\s*expect:\s*(\S+)", line)
        if m:
            found[n] = m.group(1).split("|")
    return found


BAD_WITH_MARKERS = ["bad_palette.yaml", "bad_layers.yaml", "bad_themes.yaml", "only_percussion.yaml",
                    "unknown_fields.yaml", "bad_adaptive.yaml"]


@pytest.mark.parametrize("name", BAD_WITH_MARKERS)
def test_bad_specs_report_every_marked_problem_on_its_line_and_nothing_else(name: str) -> None:
    path = BAD / name
    markers = _markers(path)
    assert markers, "the fixture must mark its expected errors"
    with pytest.raises(SpecError) as info:
        load_spec(path)
    issues = info.value.issues
    for line, paths in markers.items():
        assert any(i.line == line and i.path in paths for i in issues), \
            f"{name}:{line}: expected an issue for {paths}, got:\n{info.value}"
    for issue in issues:
        assert issue.line in markers and issue.path in markers[issue.line], f"unexpected issue: {issue}"
        assert issue.source == str(path)
        assert str(issue).startswith(f"{path}:{issue.line}:{issue.column}: {issue.path}: ")


def test_multiple_errors_are_reported_together_across_sections() -> None:
    error = errors_of("""
        name: "Many"
        palette:
          key: D dorain
          tempo: {min: 120, max: 140, default: 96}
        mood: {valence: 3}
        layers:
          - name: lead
            role: melody
            range: [C4, C6]
        themes:
          - {name: t, notes: "C4 D4", layer: nobody}
    """)
    assert error.paths == ["palette.key", "palette.tempo.default", "mood.valence", "themes[0].layer"]
    assert [i.line for i in error.issues] == [3, 4, 5, 11]
    assert len(str(error).splitlines()) == 4


def test_key_and_modulation_errors_name_the_problem() -> None:
    error = errors_of("""
        name: "Keys"
        palette:
          key: D dorain
          modulations: [F major, H minor, A lokrian]
        layers:
          - {name: lead, role: melody}
    """)
    assert "did you mean 'dorian'" in issue_for(error, "palette.key").message
    assert "'H' is not a tonic" in issue_for(error, "palette.modulations[1]").message
    assert "did you mean 'locrian'" in issue_for(error, "palette.modulations[2]").message
    assert issue_for(error, "palette.modulations[2]").line == 4


def test_narrow_range_names_layer_key_and_range_at_the_boundary_of_five_pitches() -> None:
    ok = MINIMAL.replace("range: [C4, C6]", "range: [C4, G4]")  # C D E F G: exactly five
    assert load_spec_text(spec_text(ok)).layers[0].high == 67
    error = errors_of(MINIMAL.replace("range: [C4, C6]", "range: [C4, F4]"))
    issue = issue_for(error, "layers[0].range")
    assert (issue.line, issue.column) == where(MINIMAL, "[C4, C6]")
    for word in ("'lead'", "C major", "[C4, F4]", "only 4"):
        assert word in issue.message


def test_narrow_range_is_also_checked_against_modulation_targets() -> None:
    # C4..G4 holds five pitches of C major but only four of Gb major (Db, Eb, F, Gb)
    error = errors_of(MINIMAL.replace("key: C major", "key: C major\n  modulations: [Gb major]")
                      .replace("range: [C4, C6]", "range: [C4, G4]"))
    issue = issue_for(error, "layers[0].range")
    assert "Gb major" in issue.message


def test_range_low_equal_high_and_bad_note_names() -> None:
    error = errors_of(MINIMAL.replace("range: [C4, C6]", "range: [C4, C4]"))
    assert "low C4 equals high" in issue_for(error, "layers[0].range").message
    text = MINIMAL.replace("range: [C4, C6]", "range: [C4, X9]")
    issue = issue_for(errors_of(text), "layers[0].range[1]")
    assert (issue.line, issue.column) == where(text, "X9")
    assert "'X9' is not a note" in issue.message
    error = errors_of(MINIMAL.replace("range: [C4, C6]", "range: [C4, C5, C6]"))
    assert "two notes" in issue_for(error, "layers[0].range").message


def test_tempo_order_is_checked() -> None:
    for tempo, path in (("{min: 150, max: 100, default: 120}", "palette.tempo.min"),
                        ("{min: 80, max: 100, default: 120}", "palette.tempo.default"),
                        ("{min: 80, max: 100, default: 60}", "palette.tempo.default")):
        error = errors_of(MINIMAL.replace("key: C major", f"key: C major\n  tempo: {tempo}"))
        assert error.paths == [path]
        assert error.issues[0].line == 4
    error = errors_of(MINIMAL.replace("key: C major", "key: C major\n  tempo: {min: 10}"))
    assert error.paths == ["palette.tempo.min"] and "below the minimum 20" in error.issues[0].message


def test_no_pitched_layer_is_an_error() -> None:
    error = errors_of("""
        name: "Drums"
        layers:
          - {name: kit, role: percussion}
    """)
    assert error.paths == ["layers"] and error.issues[0].line == 2
    assert "no pitched layer" in error.issues[0].message


def test_duplicate_layer_names_point_at_the_second() -> None:
    error = errors_of(MINIMAL + "  - name: lead\n    role: bass\n")
    issue = issue_for(error, "layers[1].name")
    assert issue.line == 8 and "duplicate layer name 'lead'" in issue.message


def test_theme_layer_must_exist() -> None:
    text = MINIMAL + "themes:\n  - name: t\n    notes: C4 D4 E4\n    layer: leed\n"
    issue = issue_for(errors_of(text), "themes[0].layer")
    assert (issue.line, issue.column) == where(text, "leed") and "did you mean 'lead'" in issue.message


def test_theme_note_outside_the_key_names_note_position_and_column() -> None:
    text = MINIMAL + 'themes:\n  - name: t\n    notes: "C4:1 D4:0.5 F#4:0.5 G4:2"\n'
    issue = issue_for(errors_of(text), "themes[0].notes")
    assert "note 3 'F#4:0.5' is not in C major" in issue.message
    assert (issue.line, issue.column) == where(text, "F#4")


def test_scale_tolerance_allows_a_share_of_outside_notes() -> None:
    theme = 'themes:\n  - name: t\n    notes: "C4 D4 E4 F4 G4 A4 B4 C5 D5 C#5"\n'   # 1 of 10 outside
    relaxed = MINIMAL.replace("key: C major", "key: C major\n  scale_tolerance: 0.1") + theme
    assert load_spec_text(spec_text(relaxed)).palette.scale_tolerance == 0.1
    strict = MINIMAL.replace("key: C major", "key: C major\n  scale_tolerance: 0.05") + theme
    error = errors_of(strict)
    assert "1 of 10 notes are outside C major" in issue_for(error, "themes[0].notes").message


def test_theme_source_rules() -> None:
    error = errors_of(MINIMAL + "themes:\n  - {name: a}\n  - {name: b, notes: 'C4', midi: x.mid}\n"
                               "  - {name: c, notes: 'r:4'}\n")
    assert "give the theme's notes" in issue_for(error, "themes[0]").message
    assert "not both" in issue_for(error, "themes[1]").message
    assert "no notes" in issue_for(error, "themes[2].notes").message


def test_theme_wider_than_its_layer_is_an_error() -> None:
    error = errors_of(MINIMAL.replace("range: [C4, C6]", "range: [C4, C5]")
                      + "themes:\n  - {name: t, notes: 'C4 G5', layer: lead}\n")
    assert "spans 19 semitones" in issue_for(error, "themes[0].notes").message


def test_bad_token_in_theme_is_located_in_the_text() -> None:
    text = MINIMAL + "themes:\n  - name: t\n    notes: C4 D4 Z4 E4\n"
    error = errors_of(text)
    issue = issue_for(error, "themes[0].notes")
    assert "token 3 'Z4'" in issue.message
    assert (issue.line, issue.column) == where(text, "Z4")


def test_literal_block_note_text_locates_the_token_line() -> None:
    text = MINIMAL + "themes:\n  - name: t\n    notes: |\n      C4 D4 E4\n      F4 G#4 A4\n"
    error = errors_of(text)
    issue = issue_for(error, "themes[0].notes")
    assert (issue.line, issue.column) == where(text, "G#4")


# ---------------------------------------------------------------- unknown fields

@pytest.mark.parametrize(("where", "typo", "meant"), [
    ("layer", "rnage: [C4, C6]", "range"),
    ("layer", "programme: 3", "program"),
    ("layer", "volume: -3", "gain_db"),
    ("palette", "kee: D minor", "key"),
    ("palette", "scale_tolerence: 0.1", "scale_tolerance"),
    ("top", "descripton: x", "description"),
    ("top", "theme: []", "themes"),
])
def test_unknown_fields_suggest_the_nearest_name(where: str, typo: str, meant: str) -> None:
    if where == "layer":
        text, line = MINIMAL + f"    {typo}\n", 8
    elif where == "palette":
        text, line = MINIMAL.replace("  key: C major", f"  key: C major\n  {typo}"), 4
    else:
        text, line = MINIMAL.replace('name: "Test"', f'name: "Test"\n{typo}'), 2
    error = errors_of(text)
    (issue,) = error.issues
    field = typo.split(":")[0]
    assert issue.path.endswith(field) and issue.line == line
    assert f"unknown field '{field}'" in issue.message and f"did you mean '{meant}'?" in issue.message


def test_field_in_the_wrong_section_says_where_it_belongs() -> None:
    error = errors_of(MINIMAL.replace('name: "Test"', 'name: "Test"\nmeter: 3/4'))
    assert "belongs under 'palette:'" in issue_for(error, "meter").message


def test_unknown_role_and_instrument_suggest() -> None:
    error = errors_of(MINIMAL.replace("role: melody", "role: melodie\n    program: violn"))
    assert "did you mean 'melody'" in issue_for(error, "layers[0].role").message
    assert "'violin'" in issue_for(error, "layers[0].program").message


# ---------------------------------------------------------------- YAML itself

def test_yaml_syntax_error_gives_one_issue_with_line_and_column() -> None:
    with pytest.raises(SpecError) as info:
        load_spec(BAD / "syntax_error.yaml")
    (issue,) = info.value.issues
    assert (issue.line, issue.column) == (7, 9)
    assert "YAML syntax error" in issue.message and "line 6" in issue.message


@pytest.mark.parametrize(("text", "line", "column", "words"), [
    ("name: x\n\tlayers: []\n", 2, 1, "YAML syntax error"),
    ("name: x\nname: y\n", 2, 1, "duplicate key"),
    ("name: 'x\n", 2, 1, "YAML syntax error"),
    ("- a\n- b\n", 1, 1, "mapping of fields"),
    ("", 1, 1, "empty file"),
])
def test_malformed_yaml(text: str, line: int, column: int, words: str) -> None:
    with pytest.raises(SpecError) as info:
        load_spec_text(text, source="m.yaml")
    (issue,) = info.value.issues
    assert (issue.line, issue.column) == (line, column) and words in issue.message


def test_yaml_tags_are_refused_and_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = MINIMAL.replace('name: "Test"', f'name: !!python/object/apply:os.system ["touch {marker}"]')
    error = errors_of(text)
    assert not marker.exists()
    assert error.paths == ["name"] and "not allowed" in error.issues[0].message
    error = errors_of(MINIMAL.replace("role: melody", "role: !custom melody"))
    assert error.paths == ["layers[0].role"]


def test_missing_spec_file_is_a_spec_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path / "nope.yaml")
    assert "not found" in str(info.value) and "nope.yaml" in str(info.value)


# ---------------------------------------------------------------- note text

def test_note_text_durations_rests_and_fractions() -> None:
    notes = parse_note_text("D4:1 E4:0.5 F4:1/3 r:2/3 A4 G4:3/2 60:1 bb3:0.25")
    assert [n.pitch for n in notes] == [62, 64, 65, 69, 67, 60, 58]
    assert [n.duration for n in notes] == [PPQ, PPQ // 2, PPQ // 3, PPQ, PPQ * 3 // 2, PPQ, PPQ // 4]
    starts = [0, PPQ, PPQ * 3 // 2, PPQ * 3 // 2 + PPQ // 3 + PPQ * 2 // 3]
    assert [n.start for n in notes[:4]] == starts
    assert notes[4].start == notes[3].end
    for a, b in zip(notes[3:], notes[4:]):
        assert b.start == a.end, "without rests notes follow each other exactly"
    total = sum(Fraction(x) for x in ("1", "0.5", "1/3", "2/3", "1", "3/2", "1", "0.25"))
    assert notes[-1].end == total * PPQ


def test_note_text_accepts_commas_newlines_and_rest_words() -> None:
    notes = parse_note_text("C4:1,\nrest:1  R:1\tE4")
    assert [(n.start, n.pitch) for n in notes] == [(0, 60), (3 * PPQ, 64)]
    assert parse_note_text("") == []


@pytest.mark.parametrize(("text", "position", "token", "words"), [
    ("C4 D4 H4", 3, "H4", "not a note"),
    ("C4 D4: E4", 2, "D4:", "missing length"),
    ("C4:0 D4", 1, "C4:0", "more than 0"),
    ("C4:-1", 1, "C4:-1", "more than 0"),
    ("C4 D4:x", 2, "D4:x", "not a length"),
    ("C4:1/7", 1, "C4:1/7", "whole number of ticks"),
    ("C4:1/0", 1, "C4:1/0", "not a length"),
    ("C4 r:1 G10", 3, "G10", "not a note"),
    ("C4 200", 2, "200", "not a note"),
])
def test_note_text_errors_name_the_token(text: str, position: int, token: str, words: str) -> None:
    with pytest.raises(NoteTextError) as info:
        parse_note_text(text)
    err = info.value
    assert isinstance(err, ValueError)
    assert (err.position, err.token) == (position, token)
    assert text[err.offset:err.offset + len(token)] == token
    assert f"token {position} {token!r}" in str(err) and words in str(err)


# ---------------------------------------------------------------- MIDI themes

def _write_midi(path: Path, pitches: list[int], ticks_per_beat: int = 96, drums_first: bool = False) -> None:
    midi = mido.MidiFile(ticks_per_beat=ticks_per_beat)
    if drums_first:
        drums = mido.MidiTrack()
        drums += [mido.Message("note_on", channel=9, note=36, velocity=100, time=0),
                  mido.Message("note_off", channel=9, note=36, velocity=0, time=ticks_per_beat)]
        midi.tracks.append(drums)
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name="melody", time=0))
    for p in pitches:
        track.append(mido.Message("note_on", channel=0, note=p, velocity=90, time=0))
        track.append(mido.Message("note_off", channel=0, note=p, velocity=0, time=ticks_per_beat // 2))
    midi.tracks.append(track)
    midi.save(path)


def test_midi_theme_is_read_from_the_first_melodic_track(tmp_path: Path) -> None:
    (tmp_path / "motifs").mkdir()
    _write_midi(tmp_path / "motifs" / "main.mid", [60, 62, 64, 65], drums_first=True)
    text = MINIMAL + "themes:\n  - {name: m, midi: motifs/main.mid, layer: lead}\n"
    (tmp_path / "score.yaml").write_text(spec_text(text))
    spec = load_spec(tmp_path / "score.yaml")
    notes = spec.theme("m").parsed_notes(spec.base_dir)
    assert spec.theme_notes("m") == notes
    assert [(n.start, n.pitch, n.duration) for n in notes] == [(i * PPQ // 2, p, PPQ // 2)
                                                             for i, p in enumerate([60, 62, 64, 65])]


def test_midi_theme_outside_the_key_missing_or_corrupt(tmp_path: Path) -> None:
    _write_midi(tmp_path / "chromatic.mid", [60, 61, 62])
    (tmp_path / "corrupt.mid").write_bytes(b"MThd\x00\x00\x00\x06garbage")
    _write_midi(tmp_path / "drums.mid", [], drums_first=True)
    text = MINIMAL + ("themes:\n  - {name: a, midi: chromatic.mid}\n  - {name: b, midi: corrupt.mid}\n"
                      "  - {name: c, midi: gone.mid}\n  - {name: d, midi: drums.mid}\n")
    error = errors_of(text, base_dir=tmp_path)
    assert "note 2 (C#4 at beat 1.5) is not in C major" in issue_for(error, "themes[0].midi").message
    assert "'corrupt.mid' is not a readable MIDI file" in issue_for(error, "themes[1].midi").message
    assert "'gone.mid' not found" in issue_for(error, "themes[2].midi").message
    assert "no melodic notes" in issue_for(error, "themes[3].midi").message
    assert [i.line for i in error.issues] == [where(text, f"{f}.mid")[0] for f in ("chromatic", "corrupt", "gone", "drums")]


# ---------------------------------------------------------------- provenance hash

def test_hash_is_stable_and_ignores_formatting_but_not_content(tmp_path: Path) -> None:
    a = load_spec_text(spec_text(MINIMAL))
    assert a.sha256 == load_spec_text(spec_text(MINIMAL)).sha256
    assert re.fullmatch(r"[0-9a-f]{64}", a.sha256)
    reformatted = spec_text("""
        # same content, different layout and an explicit default
        layers: [{name: lead, range: [60, 84], role: melody}]
        seed: 0
        palette: {key: C major}
        name: Test
    """)
    assert load_spec_text(reformatted).sha256 == a.sha256
    assert load_spec_text(spec_text(MINIMAL).replace("C6", "B5")).sha256 != a.sha256
    assert load_spec_text(spec_text(MINIMAL) + "seed: 1\n").sha256 != a.sha256


def test_hash_covers_theme_midi_content(tmp_path: Path) -> None:
    text = spec_text(MINIMAL + "themes:\n  - {name: m, midi: m.mid}\n")
    _write_midi(tmp_path / "m.mid", [60, 62])
    first = load_spec_text(text, base_dir=tmp_path).sha256
    _write_midi(tmp_path / "m.mid", [60, 64])
    assert load_spec_text(text, base_dir=tmp_path).sha256 != first


# ---------------------------------------------------------------- General MIDI names

def test_gm_table_matches_an_independent_reference() -> None:
    from pretty_midi.constants import INSTRUMENT_MAP  # pretty_midi's own list of the 128 GM programs

    assert len(GM_PROGRAMS) == 128
    for number, name in enumerate(INSTRUMENT_MAP):
        assert program_number(name) == number, name
        assert program_number(name.upper()) == number


def test_gm_names_aliases_and_unknown_names() -> None:
    assert program_number("string ensemble 1") == 48
    assert program_number("Honky Tonk Piano") == 3
    assert program_number("harp") == 46 and program_number("pizzicato") == 45
    with pytest.raises(ValueError, match="did you mean 'flute'"):
        program_number("flutte")
