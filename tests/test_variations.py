"""Apps floor: the variation explorer — reading motifs, the similarity metric, bands, diversity,
morphing, exports and the odd inputs a composer will throw at it."""

from __future__ import annotations

import itertools
import json
import random
import re
from pathlib import Path

import mido
import numpy as np
import pytest

from segue.music import Key, Meter, Note
from segue.variations import (
    CLOSE,
    FAR,
    Motif,
    VariationError,
    band_of,
    check_variation,
    cli_morph,
    cli_vary,
    continue_motif,
    fill_between,
    morph,
    morph_path,
    motif_from_notes,
    read_motif,
    similarity,
    vary,
    write_midi,
    write_musicxml,
)
from segue.variations.calibrate import unrelated_pairs
from segue.variations.explore import pairwise

TUNE = "E4:1 G4:0.5 A4:0.5 B4:1 A4:0.5 G4:0.5 E4:1 D4:1 E4:2"
"""A two-bar motif in E minor (4/4)."""
MAJOR = "C4:1 D4:0.5 E4:0.5 G4:1 E4:1 F4:0.5 E4:0.5 D4:1 C4:2"
WALTZ = "G4:2 E4:1 G4:2 E4:1 A4:2 G4:1 F4:3"


@pytest.fixture(scope="module")
def tune() -> Motif:
    return read_motif(TUNE)


def _midi(path: Path, voices: list[tuple[list[tuple[int, int, int]], int]], resolution: int = 96) -> Path:
    """A type-1 MIDI file: one track per (notes as (start, pitch, length) in file ticks, channel)."""
    mid = mido.MidiFile(type=1, ticks_per_beat=resolution)
    for notes, channel in voices:
        track = mido.MidiTrack()
        events = []
        for start, pitch, length in notes:
            events.append((start, 1, mido.Message("note_on", note=pitch, velocity=80, channel=channel)))
            events.append((start + length, 0, mido.Message("note_off", note=pitch, velocity=0, channel=channel)))
        now = 0
        for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
            track.append(msg.copy(time=tick - now))
            now = tick
        mid.tracks.append(track)
    mid.save(str(path))
    return path


# ------------------------------------------------------------------------------- the metric

def test_similarity_is_a_bounded_symmetric_transposition_invariant_metric(tune: Motif) -> None:
    same = similarity(tune, tune)
    assert same.overall == pytest.approx(1.0) and same.band == "close"
    up = [n.shifted(semitones=5) for n in tune.notes]
    assert similarity(tune, up).overall == pytest.approx(1.0)
    other = read_motif(MAJOR)
    ab, ba = similarity(tune, other), similarity(other, tune)
    assert ab.overall == pytest.approx(ba.overall, abs=1e-9)
    for s in (ab, similarity(tune, read_motif(WALTZ))):
        assert 0.0 <= s.overall <= 1.0
        parts = 0.4 * s.interval + 0.3 * s.rhythm + 0.3 * s.contour
        assert s.overall == pytest.approx(parts, abs=1e-9)  # the documented weighted sum
    # an inversion keeps the rhythm but mirrors the contour: far, contour correlation −1
    axis = tune.notes[0].pitch
    inverted = [Note(n.start, 2 * axis - n.pitch, n.duration) for n in tune.notes]
    inv = similarity(tune, inverted)
    assert inv.contour_correlation == pytest.approx(-1.0)
    assert inv.band == "far"


def test_similarity_falls_as_more_notes_change(tune: Motif) -> None:
    notes = list(tune.notes)
    values = []
    for k in range(0, len(notes) + 1, 2):
        changed = [Note(n.start, n.pitch + (4 if i % 2 else -3), n.duration) if i < k else n
                   for i, n in enumerate(notes)]
        values.append(similarity(tune, changed).overall)
    assert values[0] == pytest.approx(1.0)
    assert all(a >= b - 1e-9 for a, b in zip(values, values[1:]))
    assert values[-1] < 0.6


def test_unrelated_real_melodies_are_rarely_close() -> None:
    """Calibration on held-out tunes: chance alone almost never reaches the close band."""
    u = unrelated_pairs(pairs=600)
    assert u["share_close"] < 0.03
    assert u["p95"] < CLOSE
    assert 0.25 < u["median"] < 0.55


# ------------------------------------------------------------------------------- bands and diversity

@pytest.mark.parametrize("band,axes", [
    ("close", "rhythm"), ("close", "melody,rhythm"), ("close", "mode"), ("medium", "rhythm,harmony"),
    ("medium", "melody"), ("medium", "development"), ("medium", "elaboration"), ("medium", "tempo,rhythm"),
    ("far", "development"), ("far", "melody,rhythm,development"), ("far", "elaboration"),
])
def test_every_variation_is_in_its_band_and_keeps_its_contour(tune: Motif, band: str, axes: str) -> None:
    batch = vary(tune, 6, axes, band, seed=3)
    assert batch.variations
    for v in batch.variations:
        s = similarity(tune, v.motif)  # re-measured, not trusted from the batch
        assert band_of(s.overall) == band, (v.recipe, s)
        if band in ("close", "medium"):
            assert s.contour_correlation >= 0.6, (v.recipe, s)
        assert check_variation(v, batch.low, batch.high) == []
        assert all(v.motif.key.contains(n.pitch) for n in v.motif.notes)
    assert batch.in_band <= batch.generated


@pytest.mark.parametrize("axes,band", [("rhythm,melody", "medium"), ("elaboration", "medium"),
                                       ("melody,rhythm,development", "far")])
def test_eight_variations_are_really_different_and_obey_scale_and_range(tune: Motif, axes: str, band: str) -> None:
    low, high = 57, 79  # A3..G5
    batch = vary(tune, 8, axes, band, seed=11, low=low, high=high)
    assert len(batch.variations) == 8
    m = pairwise(batch.variations)
    for i, j in itertools.combinations(range(8), 2):
        assert m[i, j] < CLOSE, (batch.variations[i].recipe, batch.variations[j].recipe)
    assert batch.diverse and batch.max_pairwise < CLOSE
    for v in batch.variations:
        assert all(low <= n.pitch <= high for n in v.motif.notes)
        assert all(tune.key.contains(n.pitch) for n in v.motif.notes)


def test_a_requested_mode_is_the_scale_of_every_variation() -> None:
    motif = read_motif(MAJOR)
    batch = vary(motif, 4, "mode,rhythm", "close", mode="dorian", seed=2)
    dorian = Key(0, "dorian")
    for v in batch.variations:
        assert v.motif.key == dorian
        assert all(dorian.contains(n.pitch) for n in v.motif.notes)
    assert any(n.pitch % 12 == 3 for v in batch.variations for n in v.motif.notes)  # E♭: dorian's third


def test_harmony_reharmonises_the_same_melody_and_plays_it(tune: Motif) -> None:
    batch = vary(tune, 5, "harmony", "close", seed=5)
    progressions = set()
    for v in batch.variations:
        assert [n.pitch for n in v.motif.notes] == tune.pitches  # the melody is untouched
        assert v.chords and v.chords[0].start == 0 and v.chords[-1].end >= tune.end
        acc = [ly for ly in v.layers if ly.name == "accompaniment"]
        assert acc and acc[0].notes
        for n in acc[0].notes:  # every accompaniment note is a tone of the chord sounding then
            chord = next(c for c in v.chords if c.start <= n.start < c.end)
            assert n.pitch % 12 in chord.chord.pcs
        progressions.add(tuple(c.symbol for c in v.chords))
    assert len(progressions) == len(batch.variations)  # different reharmonisations


def test_axes_combine_and_a_seed_repeats(tune: Motif) -> None:
    a = vary(tune, 4, "rhythm,harmony", "medium", seed=9)
    b = vary(tune, 4, "rhythm,harmony", "medium", seed=9)
    c = vary(tune, 4, "rhythm,harmony", "medium", seed=10)
    sig = [v.signature() for v in a.variations]
    assert sig == [v.signature() for v in b.variations]
    assert sig != [v.signature() for v in c.variations]
    for v in a.variations:
        assert any(r.startswith("rhythm") for r in v.recipe) and any(r.startswith("harmony") for r in v.recipe)
        assert v.chords and v.band == "medium"


def test_requests_that_cannot_be_met_say_why(tune: Motif) -> None:
    with pytest.raises(VariationError, match="unknown axis 'rythm'.*did you mean 'rhythm'"):
        vary(tune, 4, "rythm", "medium")
    with pytest.raises(VariationError, match="unknown band"):
        vary(tune, 4, "rhythm", "middling")
    with pytest.raises(VariationError, match="keep too much of the melody"):
        vary(tune, 4, "harmony", "medium")
    with pytest.raises(VariationError, match="span at least an octave"):
        vary(tune, 4, "rhythm", "medium", low=60, high=65)


# ------------------------------------------------------------------------------- model elaboration

def test_the_model_continues_a_motif_and_fills_between_fixed_notes(tune: Motif) -> None:
    longer = continue_motif(tune, bars=2, seed=4)
    assert longer.notes[: len(tune.notes)] == tune.notes
    new = longer.notes[len(tune.notes):]
    assert new and min(n.start for n in new) >= tune.length
    assert all(tune.key.contains(n.pitch) for n in new)
    assert max(abs(b.pitch - a.pitch) for a, b in zip(longer.notes, longer.notes[1:])) <= 12
    skeleton = read_motif("C4:2 G4:2 E4:2 C5:2")
    filled = fill_between(skeleton, seed=1)
    assert len(filled.notes) > len(skeleton.notes)
    kept = {(n.start, n.pitch) for n in filled.notes}
    assert {(n.start, n.pitch) for n in skeleton.notes} <= kept  # the composer's notes stay where they were
    assert all(skeleton.key.contains(n.pitch) for n in filled.notes)
    partial = fill_between(tune, fixed=[0, 3, 8], seed=2)
    for i in (0, 3, 8):
        assert (tune.notes[i].start, tune.notes[i].pitch) in {(n.start, n.pitch) for n in partial.notes}


# ------------------------------------------------------------------------------- morphing

def test_morph_moves_monotonically_from_a_to_b(tune: Motif) -> None:
    b = read_motif("C5:0.5 B4:0.5 A4:1 E4:1 F#4:1 G4:2 B3:2")
    path = morph_path(tune, b, 6)
    assert len(path.steps) == 6 and path.strict and path.monotone()
    to_a = [1.0] + [similarity(tune, m).overall for m in path.steps] + [similarity(tune, b).overall]
    to_b = [similarity(b, tune).overall] + [similarity(b, m).overall for m in path.steps] + [1.0]
    assert all(x > y for x, y in zip(to_a, to_a[1:]))
    assert all(x < y for x, y in zip(to_b, to_b[1:]))
    for m in path.steps:  # each step is a playable phrase
        assert m.notes and all(0 <= n.pitch <= 127 and n.duration > 0 for n in m.notes)
        assert all(a.end <= b2.start for a, b2 in zip(m.notes, m.notes[1:]))
    # the engine passes themes as plain notes
    steps = morph(list(tune.notes), list(b.notes), 3)
    assert len(steps) == 3 and all(isinstance(m, Motif) for m in steps)
    assert motif_from_notes(list(tune.notes)).key == tune.key


# ------------------------------------------------------------------------------- reading

def test_reading_text_midi_musicxml_and_abc(tmp_path: Path, tune: Motif) -> None:
    assert tune.key == Key(4, "minor") and tune.meter == Meter(4, 4)
    assert read_motif(WALTZ).meter == Meter(3, 4)
    assert read_motif("A3:1 C4:1 E4:1 G#4:1 A4:2 E4:2").key == Key(9, "harmonic_minor")
    assert read_motif(TUNE, key="G major", meter="2/4").key == Key(7, "major")
    path = _midi(tmp_path / "tune.mid", [([(int(n.start / 5), n.pitch, int(n.duration / 5)) for n in tune.notes], 0)])
    from_midi = read_motif(path)
    assert from_midi.pitches == tune.pitches and [n.start for n in from_midi.notes] == [n.start for n in tune.notes]
    xml = write_musicxml(tune, tmp_path / "tune.musicxml")
    from_xml = read_motif(xml)
    assert from_xml.pitches == tune.pitches and from_xml.key == tune.key
    abc = tmp_path / "waltz.abc"
    abc.write_text("X:1\nT:Waltz\nM:3/4\nL:1/8\nK:G\nD2|G2 B2 d2|c2 A2 F2|G4 B2|A6|]\n")
    from_abc = read_motif(abc)
    assert from_abc.meter == Meter(3, 4) and from_abc.key == Key(7, "major")
    assert from_abc.notes[0].start == 960  # the pickup keeps its place before the bar line
    assert from_abc.pitches[:4] == [62, 67, 71, 74]


def test_chords_need_the_skyline_and_get_the_top_line(tmp_path: Path) -> None:
    chords = _midi(tmp_path / "chords.mid", [([(i * 96, p, 96) for i in range(6) for p in (60, 64, 67 + i % 3)], 0)])
    with pytest.raises(VariationError, match="skyline"):
        read_motif(chords)
    top = read_motif(chords, skyline=True)
    assert top.pitches == [67 + i % 3 for i in range(6)]
    assert any("skyline" in r for r in top.remarks)
    two = _midi(tmp_path / "two.mid", [([(i * 96, 72 + i % 2, 96) for i in range(4)], 0),
                                       ([(i * 96, 48, 96) for i in range(4)] + [(i * 96, 55, 96) for i in range(4)], 1)])
    assert read_motif(two).pitches == [72, 73, 72, 73]  # the single-line part, and says so
    assert read_motif(two, skyline=True).pitches == [72, 73, 72, 73]


def test_odd_inputs_give_clear_errors_or_sensible_results(tmp_path: Path) -> None:
    (tmp_path / "empty.mid").write_bytes(b"")
    with pytest.raises(VariationError, match="empty"):
        read_motif(tmp_path / "empty.mid")
    (tmp_path / "corrupt.mid").write_bytes(b"MThd\x00\x00\x00\x06not really midi at all")
    with pytest.raises(VariationError, match="not a readable MIDI file"):
        read_motif(tmp_path / "corrupt.mid")
    drums = _midi(tmp_path / "drums.mid", [([(i * 48, 36 + i % 3, 40) for i in range(16)], 9)])
    with pytest.raises(VariationError, match="only drums"):
        read_motif(drums)
    with pytest.raises(VariationError, match="not found"):
        read_motif(tmp_path / "missing.mid")
    with pytest.raises(VariationError, match="token 2"):
        read_motif("C4:1 X9:2")
    one = read_motif(_midi(tmp_path / "one.mid", [([(0, 60, 96)], 0)]))
    assert len(one.notes) == 1
    with pytest.raises(VariationError, match="single note"):
        vary(one, 4, "rhythm", "medium")
    assert len(continue_motif(one, 1).notes) > 1  # what the message suggests works
    rng = random.Random(0)
    long = _midi(tmp_path / "long.mid", [([(i * 24, 60 + rng.choice([0, 2, 4, 5, 7, 9, 11]), 24)
                                           for i in range(2000)], 0)])
    window = read_motif(long)
    assert 1 < len(window.notes) <= 64 and any("2000 notes" in r for r in window.remarks)
    assert vary(window, 3, "rhythm,melody", "medium", seed=1).variations
    chosen = read_motif(long, bars=(3, 2))
    assert len(chosen.notes) == 32 and chosen.notes[0].start == 0


# ------------------------------------------------------------------------------- exports

def test_exports_open_in_other_tools(tmp_path: Path, tune: Motif) -> None:
    import pretty_midi
    from music21 import converter, harmony

    v = vary(tune, 1, "rhythm,texture", "medium", seed=6).variations[0]
    mid = write_midi(v, tmp_path / "v.mid")
    f = mido.MidiFile(str(mid))
    assert f.type == 1 and f.ticks_per_beat == 480
    pm = pretty_midi.PrettyMIDI(str(mid))
    by_name = {i.name: i for i in pm.instruments}
    assert sorted(by_name) == sorted(ly.name for ly in v.all_layers if ly.notes)
    assert [n.pitch for n in sorted(by_name["melody"].notes, key=lambda n: n.start)] == v.motif.pitches
    assert by_name["melody"].program == v.program
    xml = write_musicxml(v, tmp_path / "v.musicxml")
    score = converter.parse(str(xml))
    melody = [n for n in score.parts[0].stripTies().flatten().notes if not isinstance(n, harmony.ChordSymbol)]
    assert [n.pitch.midi for n in melody] == v.motif.pitches
    symbols = list(score.recurse().getElementsByClass(harmony.ChordSymbol))
    assert len(symbols) == len(v.chords)


def test_cli_vary_and_morph_write_files_sheet_and_report(tmp_path: Path) -> None:
    import soundfile as sf

    files = cli_vary(TUNE, 2, "rhythm,harmony", "medium", tmp_path / "vary", seed=1)
    sheet, report = files[0], files[1]
    assert sheet.name == "sheet.html" and all(p.is_file() for p in files)
    wavs = [p for p in files if p.suffix == ".wav"]
    assert len(wavs) == 3  # source + 2 variations
    audio, rate = sf.read(str(wavs[1]))
    assert rate == 44100 and np.abs(audio).max() > 0.05
    data = json.loads(report.read_text())
    assert data["returned"] == 2 and data["band"] == "medium"
    assert all(FAR < v["similarity"] < CLOSE for v in data["variations"])
    page = sheet.read_text()
    shown = [float(x) for x in re.findall(r"similarity</td><td>([0-9.]+) \(medium\)", page)]
    assert len(shown) == 2
    assert all(abs(a - v["similarity"]) < 0.0015 for a, v in zip(shown, data["variations"]))
    for img in ("rolls/source.png", "rolls/var01.png", "rolls/var02.png"):
        assert f"src='{img}'" in page and (sheet.parent / img).stat().st_size > 1000
    mfiles = cli_morph(TUNE, "C5:0.5 B4:0.5 A4:1 E4:1 F#4:1 G4:2 B3:2", 4, tmp_path / "morph", audio=False,
                       musicxml=False)
    mreport = json.loads(mfiles[1].read_text())
    assert mreport["monotone"] and len(mreport["similarity_to_a"]) == 6
    assert len([p for p in mfiles if p.suffix == ".mid"]) == 6
