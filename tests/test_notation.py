"""Our notation as a composer meets it: the demo's MusicXML and MIDI opened by MuseScore 3 (headless).

MuseScore 3 (Debian's ``musescore3``; installed by the ``mscore3`` fixture when missing) converts
each file to its own format (``.mscx``); the test fails on any error line it prints while importing
("not a valid MusicXML file", "instrument … not found", "Unsupported mode" …) and on a first bar
that is empty or carries text (our provenance once came in as a lyric and drew bar 1 empty and
over-wide). The MusicXML itself is checked for what MuseScore tolerates but a reader should not
get: instruments referenced but not declared, more than one tempo mark or a decimal one, tuplets
in music on a sixteenth grid. Every file is also validated against the official MusicXML 4.0
schema (the XSD shipped in the ``musicxml`` package, read with ``xmlschema``; both dev-only, nothing
is fetched: the schema's two imports resolve to xmlschema's bundled copies).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import mido
import pytest

ROOT = Path(__file__).resolve().parents[1]
PROBLEM = re.compile(r"error|not a valid|not found|unsupported|already exists|cannot|failed", re.IGNORECASE)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("notation") / "demo"
    r = subprocess.run([sys.executable, "-m", "segue.cli", "demo", "--out", str(out), "--bars", "8"],
                       capture_output=True, text=True, cwd=ROOT, timeout=600, env=dict(os.environ, COLUMNS="200"))
    assert r.returncode == 0, r.stderr
    return out


def musescore_import(mscore3: Path, src: Path, tmp_path: Path) -> ET.Element:
    """Convert ``src`` with MuseScore 3; returns the root of its .mscx. Fails on any import problem."""
    dst = tmp_path / (src.name + ".mscx")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_RUNTIME_DIR=str(tmp_path))
    r = subprocess.run([str(mscore3), "-o", str(dst), str(src)], capture_output=True, text=True, timeout=300, env=env)
    log = (r.stdout + r.stderr).splitlines()
    problems = [line for line in log if PROBLEM.search(line)]
    assert r.returncode == 0 and dst.is_file(), (src.name, r.returncode, log[-20:])
    assert not problems, (src.name, len(problems), problems[:10])
    return ET.parse(dst).getroot()


def first_bar_layers(mid: Path) -> int:
    """How many tracks of a MIDI file sound a note in its first bar."""
    mf = mido.MidiFile(str(mid))
    ts = next((m for m in mf.tracks[0] if m.type == "time_signature"), None)
    bar = mf.ticks_per_beat * 4 * (ts.numerator / ts.denominator if ts else 1.0)
    count = 0
    for track in mf.tracks[1:]:
        now = 0
        for msg in track:
            now += msg.time
            if now >= bar:
                break
            if msg.type == "note_on" and msg.velocity > 0:
                count += 1
                break
    return count


def check_first_bar(root: ET.Element, src: Path, layers_in_bar_1: int) -> None:
    score = root.find("Score")
    assert score is not None
    staves = score.findall("Staff")
    assert staves, src.name
    with_chord = 0
    for staff in staves:
        first = staff.find("Measure")
        assert first is not None, src.name
        if first.findall(".//Chord"):
            with_chord += 1
        assert not first.findall(".//Lyrics") and not first.findall(".//StaffText"), \
            (src.name, "text in bar 1", [t.text for t in first.iter("text")][:3])
    assert with_chord >= min(layers_in_bar_1, 1), (src.name, "bar 1 is empty")
    assert with_chord >= layers_in_bar_1 * 0.75, (src.name, with_chord, layers_in_bar_1)
    assert not root.findall(".//Lyrics"), (src.name, "text imported as lyrics")


def test_musescore_imports_the_demos_musicxml(demo: Path, mscore3: Path, tmp_path: Path) -> None:
    xmls = sorted(demo.glob("*.musicxml"))
    assert len(xmls) >= 3
    for x in xmls:
        root = musescore_import(mscore3, x, tmp_path)
        check_first_bar(root, x, first_bar_layers(x.with_suffix(".mid")))


def test_musescore_imports_the_demos_midi(demo: Path, mscore3: Path, tmp_path: Path) -> None:
    mids = sorted(demo.glob("*.mid"))
    assert len(mids) >= 6
    for m in mids:
        root = musescore_import(mscore3, m, tmp_path)
        check_first_bar(root, m, first_bar_layers(m))


def test_musicxml_declares_what_it_uses(demo: Path) -> None:
    for x in sorted(demo.glob("*.musicxml")):
        root = ET.parse(x).getroot()
        declared = {si.get("id") for si in root.iter("score-instrument")}
        used = {i.get("id") for n in root.iter("note") for i in n.findall("instrument")}
        assert used <= declared, (x.name, sorted(used - declared)[:5])
        parts = root.findall("part")
        assert len(root.findall("part-list/score-part")) == len(parts)
        for sp in root.findall("part-list/score-part"):
            assert sp.findtext("part-name"), (x.name, "a part without a name")
            assert sp.find("score-instrument") is not None or sp.find("midi-instrument") is not None, x.name
        marks = [m.findtext("per-minute") for m in root.iter("metronome")]
        assert len(marks) == 1 and re.fullmatch(r"\d+", marks[0] or ""), (x.name, marks)
        first_measure = parts[0].find("measure")
        assert first_measure is not None and first_measure.find(".//metronome") is not None, x.name
        mid = mido.MidiFile(str(x.with_suffix(".mid")))
        grid = mid.ticks_per_beat // 4
        on_grid = all(t % grid == 0 for track in mid.tracks[1:] for t in _onsets(track))
        if on_grid:
            assert not list(root.iter("tuplet")) and not list(root.iter("time-modification")), x.name


def _onsets(track: mido.MidiTrack) -> list[int]:
    now, out = 0, []
    for msg in track:
        now += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            out.append(now)
    return out


def test_short_notes_are_written_to_the_next_onset_with_staccato() -> None:
    from segue.export.musicxml import notation_notes
    from segue.music import PPQ, Note

    eighth = PPQ // 2
    notes = [Note(0, 60, eighth // 2), Note(eighth, 62, int(eighth * 0.8)), Note(2 * eighth, 64, PPQ * 2 - 7)]
    written, staccato = notation_notes(notes)
    assert [n.duration for n in written] == [eighth, eighth, PPQ * 2]
    assert staccato == {(0, 60)}


# ── the official MusicXML 4.0 schema ───────────────────────────────────────────────────────────

@pytest.fixture(scope="module")
def musicxml_schema():
    import importlib.util

    import xmlschema

    # locate the package without importing it (its import builds classes from the schema: slow, noisy)
    spec = importlib.util.find_spec("musicxml")
    assert spec is not None and spec.submodule_search_locations, "the 'musicxml' dev package is missing"
    xsd = Path(list(spec.submodule_search_locations)[0]) / "generate_classes" / "musicxml_4_0.xsd"
    assert xsd.is_file(), xsd
    # allow="local": never reach the network; xml.xsd and xlink.xsd come from xmlschema's own copies
    return xmlschema.XMLSchema(str(xsd), allow="local")


def schema_errors(schema, path: Path) -> list[str]:
    return [f"{e.path}: {e.reason}" for e in schema.iter_errors(str(path))]


def test_demo_musicxml_is_valid_against_the_musicxml_4_schema(demo: Path, musicxml_schema) -> None:
    xmls = sorted(demo.glob("*.musicxml"))
    assert len(xmls) >= 3
    for x in xmls:
        errors = schema_errors(musicxml_schema, x)
        assert not errors, (x.name, len(errors), errors[:5])


@pytest.mark.parametrize("spec_name,mood,seed", [
    ("fantasy_game", "tense suspense", 3),
    ("fantasy_game", "joyful triumphant", 11),
    ("dark_ambient", "sad melancholy", 5),
    ("light_orchestral_film", "romantic tender", 7),
    ("light_orchestral_film", "angry aggressive", 2),
])
def test_composed_musicxml_across_moods_is_schema_valid(spec_name: str, mood: str, seed: int,
                                                        musicxml_schema, tmp_path: Path) -> None:
    """Moods move harmony, articulation and texture (chromatic spelling, staccato, doublings):
    each path through the notation writer must stay inside the schema."""
    from segue import pipeline
    from segue.compose.affect import mood_to_affect
    from segue.spec import load_spec

    spec = load_spec(ROOT / "examples" / f"{spec_name}.yaml")
    perf = pipeline.compose(spec, bars=12, seed=seed, affect=mood_to_affect(mood))
    out = pipeline.write_performance(perf, tmp_path / f"{spec_name}.musicxml")
    errors = schema_errors(musicxml_schema, out)
    assert not errors, (spec_name, mood, len(errors), errors[:5])


def test_schema_check_is_not_vacuous(demo: Path, musicxml_schema, tmp_path: Path) -> None:
    """A misplaced element and a wrong value are caught — the validator really reads our files."""
    src = sorted(demo.glob("*.musicxml"))[0].read_text(encoding="utf-8")
    bad = tmp_path / "bad.musicxml"
    bad.write_text(src.replace("<divisions>", "<bogus/><divisions>", 1), encoding="utf-8")
    assert schema_errors(musicxml_schema, bad)
    bad.write_text(re.sub(r"<step>[A-G]</step>", "<step>H</step>", src, count=1), encoding="utf-8")
    assert schema_errors(musicxml_schema, bad)
