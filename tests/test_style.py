"""Floor 3: the learned style models — shipped weights, what they learned, training from a folder."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import mido
import numpy as np
import pytest

from segue.music import Key
from segue.style import (
    StyleError,
    StyleModel,
    load_default,
    load_heldout,
    load_heldout_pieces,
    load_style,
    train,
)
from segue.style.analysis import (
    SLOTS_PER_BEAT,
    beat_cells,
    diatonic_index,
    find_key,
    fit_triad,
    rhythm_grid,
)
from segue.style.training import main as train_main

STEP = {s: s + 7 for s in range(-7, 8)}  # step -> index in step_probs


def _is_distribution(p: np.ndarray, n: int) -> bool:
    return p.shape == (n,) and bool(np.all(p > 0)) and abs(float(p.sum()) - 1.0) < 1e-9


# ---------------------------------------------------------------- shipped default model


def test_default_model_gives_valid_distributions() -> None:
    m = load_default()
    for ctx in ([], [1], [-1, 1], [7, 7], [-30, 30], [0, 0]):
        assert _is_distribution(m.melody.step_probs(ctx), 15), ctx
    for compound in (False, True):
        cells = m.rhythm.cells(compound)
        assert 10 <= len(cells) <= 40 and len(set(cells)) == len(cells)
        assert () in cells and (0,) in cells
        assert all(list(c) == sorted(set(c)) and all(0 <= s < SLOTS_PER_BEAT for s in c) for c in cells)
        for prev in (None, cells[0], cells[-1], (1, 2, 5)):  # (1, 2, 5) is not in the vocabulary
            for beat in (None, 0, 1, 2, 3):
                assert _is_distribution(m.rhythm.cell_probs(compound, prev, beat), len(cells))
        assert [m.rhythm.onsets_per_beat(c) for c in cells[:3]] == [len(c) for c in cells[:3]]
    for fam in ("major", "minor"):
        assert _is_distribution(m.harmony.first_probs(fam), 7)
        for d in range(7):
            assert _is_distribution(m.harmony.next_probs(fam, d), 7)
        cad = m.harmony.cadence_probs(fam)
        assert cad.shape == (7, 7) and abs(cad.sum() - 1) < 1e-9 and np.all(cad > 0)
    assert 1.0 < m.harmony.changes_per_bar["mean"] < 4.5
    with pytest.raises(ValueError):
        m.harmony.first_probs("dorian")


def test_default_model_reflects_real_music() -> None:
    m = load_default()
    p = m.melody.step_probs([])
    # steps dominate leaps, in both directions; the model is far from uniform
    for step in (1, -1):
        for leap in (5, -5, 7, -7):
            assert p[STEP[step]] > 4 * p[STEP[leap]]
    assert p.max() > 3 / 15
    # after a big leap up, melodies turn back down more often than they continue up (gap fill)
    after_leap = m.melody.step_probs([4])
    assert after_leap[:7].sum() > after_leap[8:].sum()
    # V -> I is the commonest cadence in major and V's likeliest successor is I, in major and minor
    cad = m.harmony.cadence_probs("major")
    assert np.unravel_index(np.argmax(cad), cad.shape) == (4, 0)
    assert int(np.argmax(m.harmony.next_probs("major", 4))) == 0
    assert int(np.argmax(m.harmony.next_probs("minor", 4))) == 0
    assert int(np.argmax(m.harmony.first_probs("major"))) == 0
    # jigs: three eighths per dotted-quarter beat is the commonest compound cell
    assert m.rhythm.cells(True)[0] == (0, 4, 8)
    simple = m.rhythm.cell_probs(False, None)
    assert {m.rhythm.cells(False)[i] for i in np.argsort(-simple)[:2]} == {(0,), (0, 6)}
    # downbeats rarely lack an onset; the position matters
    hold = m.rhythm.cells(False).index(())
    assert m.rhythm.cell_probs(False, None, 0)[hold] < m.rhythm.cell_probs(False, None, 3)[hold]
    # melody notes on strong beats are mostly chord tones (three of seven pitch classes would be ~0.43)
    assert m.melody.chord_tone_on_strong_beat > 0.7


def test_default_model_identity_manifest_and_round_trip(tmp_path: Path) -> None:
    m = load_default()
    assert m.id == f"default-{m.sha256[:12]}" and len(m.sha256) == 64
    assert load_style("markov") is m
    # the default style is the neural one (it wins segue eval); its rhythm and harmony are these tables
    assert load_style(None) is load_style("default") is load_style("neural") and load_style(None) is not m
    assert load_style(None).rhythm is m.rhythm and load_style(None).harmony is m.harmony
    names = {s["path"] for s in m.sources}
    assert names == {"music21/corpus/bach/", "music21/corpus/ryansMammoth/", "music21/corpus/oneills1850/",
                     "music21/corpus/airdsAirs/"}
    assert all(s["licence"] and s["pieces"] > 50 for s in m.sources)
    assert m.training["pieces"] == sum(s["pieces"] for s in m.sources)
    assert m.training["seconds"] < 15 * 60
    for path in (tmp_path / "m.json", tmp_path / "m.json.gz"):
        m.save(path)
        again = load_style(str(path))
        assert again.sha256 == m.sha256 and again.training == m.training
        np.testing.assert_allclose(again.melody.step_probs([2, -1]), m.melody.step_probs([2, -1]))
    assert (tmp_path / "m.json.gz").stat().st_size < 1_000_000


def test_heldout_pieces_are_real_melodies_kept_out_of_training() -> None:
    melodies = load_heldout()
    pieces = load_heldout_pieces()
    assert 90 <= len(melodies) <= 110 and len(pieces) == len(melodies)
    assert sorted(p["id"] for p in pieces) == load_default().training["heldout"]
    assert len({p["collection"] for p in pieces}) == 4  # drawn from every collection
    for mel in melodies:
        assert len(mel) >= 16
        onsets = [o for _, o, _ in mel]
        assert onsets == sorted(onsets) and onsets[0] >= 0
        assert all(0 <= p <= 127 and d > 0 for p, _, d in mel)


def test_load_style_errors(tmp_path: Path) -> None:
    with pytest.raises(StyleError, match="no style model"):
        load_style(tmp_path / "missing.json")
    bad = tmp_path / "bad.json.gz"
    bad.write_bytes(gzip.compress(b"{not json"))
    with pytest.raises(StyleError, match="not a Segue style model"):
        load_style(str(bad))
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"format": "segue-style/1", "name": "x", "melody": {}}))
    with pytest.raises(StyleError, match="corrupt"):
        StyleModel.load(wrong)


# ---------------------------------------------------------------- the analysis it learns with


def test_analysis_building_blocks() -> None:
    c_major = Key(0, "major")
    assert [diatonic_index(p, c_major) for p in (60, 62, 64, 72)] == [35, 36, 37, 42]
    a_minor = Key(9, "minor")
    assert diatonic_index(68, a_minor) - diatonic_index(69, a_minor) == -1  # G# is the leading note, below A
    w = np.zeros(12)
    for pc, dur in ((0, 4), (2, 1), (4, 3), (5, 1), (7, 3), (9, 1), (11, 1)):
        w[pc] = dur
    assert find_key(w, 0) == c_major
    assert find_key(w, 9, sharps=0).tonic in (0, 9)  # with a signature only C major or A minor are possible
    g7 = np.zeros(12)
    g7[[7, 11, 2, 5]] = 1
    assert fit_triad(g7, g7, c_major).degree == 4  # type: ignore[union-attr]
    am = np.zeros(12)
    am[[9, 0, 4]] = 1
    assert fit_triad(am, am, c_major).degree == 5  # type: ignore[union-attr]
    assert fit_triad(np.zeros(12), np.zeros(12), c_major) is None
    grid = rhythm_grid(6, 8)
    assert grid is not None and grid.compound and grid.beats_per_bar == 2
    assert rhythm_grid(2, 2) is not None and rhythm_grid(2, 2).beats_per_bar == 4  # type: ignore[union-attr]
    assert rhythm_grid(7, 8) is None
    four = rhythm_grid(4, 4)
    assert four is not None
    cells = beat_cells([0, 1 / 3, 2 / 3, 1.5, 2.75, 3.999], four, range(5))
    assert cells == {0: (0, 4, 8), 1: (6,), 2: (9,), 3: (), 4: (0,)}


# ---------------------------------------------------------------- training from a folder of MIDI files

# (pitch, quarters): a tune in C whose strong beats (beats 1 and 3) are tones of the chord below
MELODY = [(60, 1), (62, 1), (65, 1), (64, .5), (62, .5), (67, 1), (65, 1), (64, 1), (62, .5), (64, .5),
          (67, 1), (69, 1), (72, 1), (71, .5), (69, .5), (67, 1), (65, 1), (64, 1), (62, .5), (60, .5)]
PROGRESSION = [(48, 52, 55), (53, 57, 60), (55, 59, 62), (48, 52, 55)]  # I IV V I in C, two beats each


def _write_midi(path: Path, transpose: int = 0, meter: tuple[int, int] = (4, 4), chords: bool = True) -> None:
    tpb = 480
    mid = mido.MidiFile(ticks_per_beat=tpb)
    melody = mido.MidiTrack()
    melody.append(mido.MetaMessage("time_signature", numerator=meter[0], denominator=meter[1], time=0))
    for pitch, quarters in MELODY:
        melody.append(mido.Message("note_on", note=pitch + transpose, velocity=90, time=0))
        melody.append(mido.Message("note_off", note=pitch + transpose, velocity=0, time=int(quarters * tpb)))
    mid.tracks.append(melody)
    if chords:
        harmony = mido.MidiTrack()
        for _ in range(2):
            for chord in PROGRESSION:  # two beats each: I IV | V I | I IV | V I
                for n in chord:
                    harmony.append(mido.Message("note_on", channel=1, note=n + transpose, velocity=70, time=0))
                for j, n in enumerate(chord):
                    harmony.append(mido.Message("note_off", channel=1, note=n + transpose, velocity=0,
                                                time=2 * tpb if j == 0 else 0))
        mid.tracks.append(harmony)
    drums = mido.MidiTrack()  # channel 10 must never become the melody, even though it is "high"
    for _ in range(16):
        drums.append(mido.Message("note_on", channel=9, note=81, velocity=100, time=0))
        drums.append(mido.Message("note_off", channel=9, note=81, velocity=0, time=tpb))
    mid.tracks.append(drums)
    mid.save(str(path))


@pytest.fixture()
def midi_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "my tunes"
    (folder / "sub").mkdir(parents=True)
    for i, t in enumerate((0, 2, 5, -3)):
        _write_midi(folder / ("sub" if i % 2 else "") / f"tune{i}.mid", transpose=t)
    return folder


def test_train_on_midi_folder_learns_it_and_is_deterministic(midi_folder: Path, tmp_path: Path) -> None:
    a = train(midi_folder, tmp_path / "a.json.gz", workers=1)
    b = train(midi_folder, tmp_path / "b.json", workers=1)
    copy = tmp_path / "copy"
    shutil.copytree(midi_folder, copy)
    c = train(copy, tmp_path / "c.json.gz", workers=2)
    assert a.sha256 == b.sha256 == c.sha256
    assert StyleModel.load(tmp_path / "a.json.gz").sha256 == a.sha256
    assert a.sha256 != load_default().sha256
    assert a.name == "my tunes" and a.id.startswith("my tunes-")
    assert a.sources[0]["pieces"] == 4 and a.training["files_skipped"] == 0
    # it learned these files (transposed copies of one tune), not the default corpus
    p = a.melody.step_probs([])
    assert int(np.argmax(p)) in (STEP[1], STEP[-1])
    assert p[STEP[0]] < 0.05  # the tune never repeats a note
    assert int(np.argmax(a.harmony.next_probs("major", 4))) == 0  # V -> I
    assert int(np.argmax(a.harmony.next_probs("major", 0))) == 3  # I -> IV
    assert a.harmony.first_probs("major")[0] > 0.5
    assert a.melody.chord_tone_on_strong_beat == 1.0
    # three quarters and two eighths per bar: exactly those cells (plus the always-available held beat)
    assert a.rhythm.cells(False) == [(0,), (0, 6), ()]
    assert a.rhythm.cell_probs(False, (0, 6))[0] > 0.8  # after the eighths comes a new bar's quarter
    # minor harmony and compound rhythm were not in the files: taken from the default, and said so
    inherited = " ".join(a.training["inherited"])
    assert "harmony.minor" in inherited and "rhythm.compound" in inherited
    assert "harmony.major" not in inherited and "rhythm.simple" not in inherited


def test_corrupt_files_are_skipped_and_counted(midi_folder: Path, tmp_path: Path) -> None:
    (midi_folder / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06garbage")
    (midi_folder / "broken.musicxml").write_text("<score-partwise><oops")
    (midi_folder / "notes.txt").write_text("not music, not counted")
    m = train(midi_folder, tmp_path / "m.json", workers=1)
    assert m.training["files"] == 6 and m.training["files_skipped"] == 2
    assert m.sources[0]["pieces"] == 4


def test_folder_without_usable_files_raises_style_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.mid").write_bytes(b"not a midi file at all")
    (bad / "b.xml").write_text("<nothing/>")
    with pytest.raises(StyleError, match="no usable music files"):
        train(bad, tmp_path / "out.json", workers=1)
    with pytest.raises(StyleError, match="does not exist"):
        train(tmp_path / "nowhere", tmp_path / "out.json")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(StyleError, match="no music files"):
        train(empty, tmp_path / "out.json")
    assert not (tmp_path / "out.json").exists()
    # the command line prints the message, not a traceback
    assert train_main([str(bad), "--out", str(tmp_path / "out.json"), "--workers", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no usable music files") and "Traceback" not in err


def test_command_line_trains_a_folder(midi_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "style.json.gz"
    assert train_main([str(midi_folder), "--out", str(out), "--workers", "1", "--quiet", "--name", "mine"]) == 0
    model = load_style(str(out))
    assert model.name == "mine" and model.id in capsys.readouterr().out
    assert model.training["command"].startswith("python -m segue.style.train")


ABC_BOOK = """X:1
T:First jig
M:6/8
L:1/8
K:D
A|dfa afd|gbg fdB|AFA dFA|GEC D2:|

X:2
T:Second jig
M:6/8
L:1/8
K:G
D|GBd gdB|cec BGB|AFD DEF|G3 G2:|
"""


def test_train_reads_an_abc_book_of_tunes(tmp_path: Path) -> None:
    folder = tmp_path / "jigs"
    folder.mkdir()
    (folder / "book.abc").write_text(ABC_BOOK)
    m = train(folder, tmp_path / "jigs.json", workers=1)
    assert m.sources[0]["pieces"] == 2 and m.training["rhythm_beats"]["compound"] > 0
    assert m.rhythm.cells(True)[0] == (0, 4, 8)
    assert not any("rhythm.compound" in s for s in m.training["inherited"])  # learned, not borrowed
    assert any("harmony.major" in s for s in m.training["inherited"])  # bare tunes teach no chords
