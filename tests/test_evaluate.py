"""Tests of the evaluation library (QUALITY.md §1–3) on pieces whose answers are known by hand."""

from __future__ import annotations

import json
import math

import mido
import numpy as np
import pytest
from rich.console import Console

from segue.evaluate import (
    BASELINE_KINDS,
    MATCHED_BY_CONSTRUCTION,
    METRIC_NAMES,
    EvaluationError,
    MidiReadError,
    PieceError,
    PieceNotes,
    baseline_pieces,
    constraint_report,
    control_table,
    control_verdicts,
    midi_quarters_per_bar,
    midi_to_piece,
    notes_to_piece,
    overlapped_area,
    piece_length_beats,
    piece_metrics,
    plausibility_table,
    render_report,
    skyline,
    spearman,
    to_json,
)
from segue.music import Key, Note

C_MAJOR_SCALE: PieceNotes = [(p, float(i), 1.0) for i, p in enumerate((60, 62, 64, 65, 67, 69, 71, 72))]


# ---------------------------------------------------------------- a small synthetic "corpus"

_BAR_RHYTHMS = (
    ((0, 1), (1, 1), (2, 1), (3, 1)),
    ((0, 1.5), (1.5, 0.5), (2, 1), (3, 1)),
    ((0, 0.5), (0.5, 0.5), (1, 1), (2, 2)),
    ((0, 2), (2, 1), (3, 0.5), (3.5, 0.5)),
    ((0, 1), (1, 0.5), (1.5, 0.5), (2, 1), (3, 1)),
)


def _tune(seed: int) -> PieceNotes:
    """An 8-bar tonal melody: motif, its sequence, a stepwise answer, a cadence — twice."""
    rng = np.random.default_rng(seed)
    key = Key(int(rng.integers(12)), str(rng.choice(["major", "minor"])))
    home = key.degree_of(key.degree_pitch(0, 60 + int(rng.integers(-5, 6))))
    assert home is not None
    notes: PieceNotes = []
    for phrase in range(2):
        motif_rhythm = _BAR_RHYTHMS[rng.integers(len(_BAR_RHYTHMS))]
        motif = np.concatenate([[0], np.cumsum(rng.choice([-2, -1, -1, 1, 1, 2, 0, 3, -3], len(motif_rhythm) - 1))])
        start = int(rng.integers(0, 5))
        for b in range(4):
            if b < 2:
                rhythm, degrees = motif_rhythm, motif + start + (0 if b == 0 else int(rng.choice([-1, 1, 2])))
            elif b == 2:
                rhythm = _BAR_RHYTHMS[rng.integers(len(_BAR_RHYTHMS))]
                degrees = np.cumsum(rng.choice([-1, 1, -2, 2, 0], len(rhythm))) + start + 2
            else:
                rhythm = ((0, 2), (2, 2)) if rng.random() < 0.6 else ((0, 4),)
                degrees = np.array([2, 0][: len(rhythm)] if len(rhythm) == 2 else [0])
            for degree, (onset, duration) in zip(degrees, rhythm):
                notes.append((key.pitch_of_degree(home + int(degree)), (phrase * 4 + b) * 4 + onset, float(duration)))
    return notes


@pytest.fixture(scope="module")
def corpus() -> list[PieceNotes]:
    return [_tune(i) for i in range(30)]


# ---------------------------------------------------------------- §2 per-piece metrics


def test_c_major_scale_is_fully_diatonic_and_stepwise() -> None:
    m = piece_metrics(C_MAJOR_SCALE)
    assert set(m) == set(METRIC_NAMES)
    assert m["scale_consistency"] == 1.0
    assert m["stepwise_share"] == 1.0
    assert m["pitch_range"] == 12.0
    assert m["pitch_class_entropy"] == pytest.approx(-(6 / 8 * math.log2(1 / 8) + 2 / 8 * math.log2(2 / 8)))
    assert m["mean_interval"] == pytest.approx(12 / 7)
    assert m["polyphony"] == 1.0
    assert m["notes_per_beat"] == 1.0
    assert m["empty_beat_rate"] == 0.0
    # C D E F | G A B C: the second tetrachord is the first a fifth higher
    assert m["bar_repetition"] == 1.0


def test_one_repeated_note_has_no_entropy_range_or_motion() -> None:
    m = piece_metrics([(67, float(i), 1.0) for i in range(16)])
    assert m["pitch_class_entropy"] == 0.0
    assert m["pitch_range"] == 0.0
    assert m["mean_interval"] == 0.0
    assert m["stepwise_share"] == 0.0  # a repeated note is not a step
    assert m["bar_repetition"] == 1.0
    assert m["groove_consistency"] == 1.0


def test_chromatic_scale_fits_no_scale() -> None:
    m = piece_metrics([(60 + i, float(i), 1.0) for i in range(12)])
    assert m["pitch_class_entropy"] == pytest.approx(math.log2(12))
    assert m["scale_consistency"] == pytest.approx(7 / 12)


def test_scale_consistency_against_a_requested_key() -> None:
    notes = [(60, 0.0, 1.0), (66, 1.0, 1.0), (67, 2.0, 1.0), (70, 3.0, 1.0)]  # C F# G Bb
    assert piece_metrics(notes, key_pcs=Key.parse("C major").pitch_classes)["scale_consistency"] == 0.5
    assert piece_metrics(notes, key_pcs=Key.parse("G major").pitch_classes)["scale_consistency"] == 0.75


def test_held_whole_note_is_not_empty_but_empty_bars_are() -> None:
    # bar 1: a whole note; bar 2: silence; bar 3: one quarter; bar 4: silence; bar 5: one quarter
    notes = [(60, 0.0, 4.0), (62, 8.0, 1.0), (64, 16.0, 1.0)]
    assert piece_length_beats(notes) == 20.0
    m = piece_metrics(notes)
    assert m["empty_beat_rate"] == pytest.approx(14 / 20)
    assert m["notes_per_beat"] == pytest.approx(3 / 20)
    # a caller that knows the piece has a sixth, silent bar says so
    assert piece_metrics(notes, length_beats=24.0)["empty_beat_rate"] == pytest.approx(18 / 24)


def test_a_beat_touched_by_a_short_note_is_not_empty() -> None:
    assert piece_metrics([(60, 0.5, 0.25), (60, 3.75, 0.25)])["empty_beat_rate"] == pytest.approx(0.5)


def test_polyphony_counts_held_notes_at_each_onset() -> None:
    chords = [(p + 5 * bar, float(bar * 4), 4.0) for bar in range(2) for p in (60, 64, 67)]
    assert piece_metrics(chords)["polyphony"] == 3.0
    melody_over_chord = [(p, 0.0, 4.0) for p in (48, 52, 55)] + [(72 + i, float(i), 1.0) for i in range(4)]
    assert piece_metrics(melody_over_chord)["polyphony"] == 4.0


def test_melody_is_the_skyline() -> None:
    # a held high C over a moving lower voice, then D: the melody is C → D
    notes = [(72, 0.0, 4.0), (60, 0.0, 1.0), (62, 1.0, 1.0), (64, 2.0, 1.0), (65, 3.0, 1.0), (74, 4.0, 1.0)]
    assert [p for p, _, _ in skyline(sorted(notes, key=lambda n: (n[1], n[0])))] == [72, 74]
    m = piece_metrics(notes)
    assert m["mean_interval"] == 2.0
    assert m["stepwise_share"] == 1.0


def test_groove_consistency_is_one_minus_bar_hamming_distance() -> None:
    on_beats = [(60, float(b), 0.5) for b in range(4)]
    off_beats = [(60, 4.0 + b + 0.5, 0.5) for b in range(4)]
    assert piece_metrics(on_beats + [(p, o + 4, d) for p, o, d in on_beats])["groove_consistency"] == 1.0
    # 4 onsets moved by an eighth: 8 of 16 sixteenth steps differ
    assert piece_metrics(on_beats + off_beats)["groove_consistency"] == pytest.approx(0.5)


def _bar(pitches: list[int], bar: int, rhythm: tuple[float, ...] = (0, 1, 2, 3)) -> PieceNotes:
    return [(p, bar * 4 + o, 1.0) for p, o in zip(pitches, rhythm)]


def test_bar_repetition_counts_transposed_and_close_repeats_within_a_phrase() -> None:
    motif = [60, 62, 64, 60]
    phrase = (
        _bar(motif, 0)
        + _bar([p + 7 for p in motif], 1)  # transposed repeat
        + _bar([65, 64, 62, 59], 2, (0, 0.5, 1, 2))  # new rhythm and contour
        + _bar([60], 3, (0,))  # cadence
    )
    assert piece_metrics(phrase)["bar_repetition"] == pytest.approx(1 / 3)
    close = _bar(motif, 0) + _bar([60, 62, 64, 67], 1)  # 3 of 4 notes repeat
    assert piece_metrics(close)["bar_repetition"] == 1.0
    far = _bar(motif, 0) + _bar([60, 65, 64, 67], 1)  # 2 of 4
    assert piece_metrics(far)["bar_repetition"] == 0.0
    # repetition does not reach across phrases: bar 5 repeats bar 1, but bar 5 opens a new phrase
    across = _bar(motif, 0) + _bar([71, 67, 65, 64], 1) + _bar(motif, 4)
    assert piece_metrics(across)["bar_repetition"] == 0.0


def test_three_four_bars_have_twelve_sixteenth_steps() -> None:
    waltz = [(60, float(b * 3), 1.0) for b in range(4)] + [(64, float(b * 3 + 1), 1.0) for b in range(4)]
    m = piece_metrics(waltz, beats_per_bar=3)
    assert m["groove_consistency"] == 1.0
    assert m["empty_beat_rate"] == pytest.approx(4 / 12)


def test_empty_piece_is_degenerate_not_an_error() -> None:
    m = piece_metrics([])
    assert m["empty_beat_rate"] == 1.0
    assert all(v == 0.0 for k, v in m.items() if k != "empty_beat_rate")


@pytest.mark.parametrize(
    "bad", [[(128, 0.0, 1.0)], [(60, -1.0, 1.0)], [(60, 0.0, 0.0)], [(60, float("nan"), 1.0)], [(60.5, 0.0, 1.0)], [(60, 0.0)]]
)
def test_malformed_notes_raise_a_clear_error(bad: PieceNotes) -> None:
    with pytest.raises(PieceError) as info:
        piece_metrics(bad)
    assert isinstance(info.value, ValueError) and "note 0" in str(info.value)


def test_notes_to_piece_converts_ticks_to_quarters() -> None:
    assert notes_to_piece([Note(960, 64, 240), Note(0, 60, 480)]) == [(60, 0.0, 1.0), (64, 2.0, 0.5)]


# ---------------------------------------------------------------- overlapped area


def test_overlap_of_identical_samples_is_one_and_of_distant_samples_zero() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(0, 1, 200)
    assert overlapped_area(a, a) == pytest.approx(1.0, abs=1e-3)
    assert overlapped_area(a, a + 50) < 1e-6


def test_overlap_matches_theory_and_is_symmetric() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(0, 1, 3000), rng.normal(1, 1, 3000)
    # two unit normals one sd apart overlap by 2·Φ(−1/2) ≈ 0.617
    assert overlapped_area(a, b) == pytest.approx(2 * 0.5 * math.erfc(0.5 / math.sqrt(2)), abs=0.03)
    small_a, small_b = rng.normal(0, 1, 20), rng.normal(0.5, 3, 35)
    assert overlapped_area(small_a, small_b) == pytest.approx(overlapped_area(small_b, small_a), abs=1e-9)
    near, far = overlapped_area(a, a + 0.5), overlapped_area(a, a + 2.0)
    assert 1.0 > near > far > 0.0


def test_overlap_of_constant_samples_does_not_crash() -> None:
    assert overlapped_area([2.0, 2.0, 2.0], [2.0, 2.0]) == 1.0
    assert overlapped_area([2.0, 2.0], [5.0, 5.0]) == 0.0
    assert overlapped_area([3.0], [3.0]) == 1.0
    spread = [0.0, 1.0, 2.0, 1.0, 1.5]
    partial = overlapped_area([1.0, 1.0, 1.0], spread)
    assert 0.0 < partial < 1.0
    assert partial == pytest.approx(overlapped_area(spread, [1.0, 1.0, 1.0]), abs=1e-9)
    assert overlapped_area([100.0] * 4, spread) < 1e-6
    assert overlapped_area([1.0, float("nan"), 1.0], [1.0]) == 1.0
    with pytest.raises(EvaluationError):
        overlapped_area([], spread)


# ---------------------------------------------------------------- baselines


def test_baselines_have_their_documented_properties(corpus: list[PieceNotes]) -> None:
    reference = corpus[:10]
    for kind in BASELINE_KINDS:
        pieces = baseline_pieces(kind, reference, seed=7)
        assert len(pieces) == len(reference)
        for base, ref in zip(pieces, reference):
            assert len(base) == len(ref)
            assert piece_length_beats(base) == piece_length_beats(ref)
            # the reference's durations, shuffled, only ever cut short at the end of the piece
            assert all(b <= r for b, r in zip(sorted(d for _, _, d in base), sorted(d for _, _, d in ref)))
            assert all(o * 4 == int(o * 4) and o + d <= piece_length_beats(ref) + 1e-9 for _, o, d in base)
            pitches = {p for p, _, _ in base}
            if kind == "repeated_note":
                assert len(pitches) == 1 and pitches <= {p for p, _, _ in ref}
            elif kind == "random_diatonic":
                assert any({p % 12 for p in pitches} <= Key(t, "major").pitch_classes for t in range(12))
                assert len({p % 12 for p in pitches}) >= 5
            else:
                assert len({p % 12 for p in pitches}) >= 8
    # determinism per seed
    for kind in BASELINE_KINDS:
        assert baseline_pieces(kind, reference, seed=3) == baseline_pieces(kind, reference, seed=3)
        assert baseline_pieces(kind, reference, seed=3) != baseline_pieces(kind, reference, seed=4)
    assert baseline_pieces("random_diatonic", [[]], seed=0) == [[]]
    with pytest.raises(EvaluationError):
        baseline_pieces("silence", reference, seed=0)  # type: ignore[arg-type]


def test_diatonic_baseline_on_a_narrow_reference_still_has_a_full_scale() -> None:
    narrow = [[(60 + i % 3, float(i), 1.0) for i in range(32)]]
    (piece,) = baseline_pieces("random_diatonic", narrow, seed=5)
    pcs = {p % 12 for p, _, _ in piece}
    assert len(pcs) >= 5
    assert any(pcs <= Key(t, "major").pitch_classes for t in range(12))


# ---------------------------------------------------------------- §2 table


def test_reference_against_itself_beats_random_diatonic_everywhere(corpus: list[PieceNotes]) -> None:
    table = plausibility_table(corpus, corpus, seed=0)
    for metric in METRIC_NAMES:
        row = table[metric]
        assert row["beats_random_diatonic"], metric
        assert row["ours"] == pytest.approx(1.0, abs=1e-3)
        assert row["ref_mean"] == row["ours_mean"]
        assert row["ours"] >= row["random_diatonic"]
    assert table["overall"]["beats_random_diatonic"]
    # random diatonic notes are not the corpus: clearly below 1 on several metrics
    assert sum(table[m]["random_diatonic"] < 0.9 for m in METRIC_NAMES) >= 4
    assert table["pitch_class_entropy"]["uniform_chromatic"] < table["pitch_class_entropy"]["random_diatonic"]
    # the baselines copy these from their reference piece: an oracle, (nearly) identical to the reference
    assert all(table["notes_per_beat"][k] == pytest.approx(1.0, abs=1e-3) for k in BASELINE_KINDS)
    assert "pitch_range" in MATCHED_BY_CONSTRUCTION
    assert table["pitch_range"]["random_diatonic"] > 0.85 and table["pitch_range"]["uniform_chromatic"] > 0.85


def test_random_chromatic_output_does_not_pass(corpus: list[PieceNotes]) -> None:
    generated = baseline_pieces("uniform_chromatic", corpus, seed=99)
    table = plausibility_table(generated, corpus, seed=0)
    assert not table["overall"]["beats_random_diatonic"]
    assert "pitch_class_entropy" in table["overall"]["failing"]
    with pytest.raises(EvaluationError):
        plausibility_table([], corpus)


# ---------------------------------------------------------------- §3 control


def test_spearman() -> None:
    assert spearman([1, 2, 3, 4], [10, 20, 25, 100]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 2, 3], [5, 5, 5]) == 0.0
    assert spearman([1, 1, 1], [1, 2, 3]) == 0.0
    assert spearman([1], [2]) == 0.0
    assert spearman([1, 2, float("nan"), 4], [1, 2, 0, 3]) == pytest.approx(1.0)


def test_control_table_and_verdicts() -> None:
    sweep = [(a, {"tempo": 80 + 40 * a, "notes_per_beat": 1 + a, "brightness": 1.0}) for a in (0.0, 0.25, 0.5, 0.75, 1.0)]
    sweep[2][1].pop("notes_per_beat")
    table = control_table({"arousal": sweep, "valence": [(v, {"brightness": -v}) for v in (0, 1, 2)]})
    assert table == {
        "arousal": {"tempo": pytest.approx(1.0), "notes_per_beat": pytest.approx(1.0), "brightness": 0.0},
        "valence": {"brightness": pytest.approx(-1.0)},
    }
    verdicts = control_verdicts(table)
    assert verdicts["arousal"] == {"tempo": True, "notes_per_beat": True}
    assert verdicts["valence"] == {"brightness": False}


# ---------------------------------------------------------------- §1 constraints


def test_constraint_report() -> None:
    report = constraint_report(
        [
            {"key": True, "tempo": True, "hit_points": 1.0},
            {"key": 0.98, "tempo": True},  # 98% of notes in key: the piece fails
            {"key": True, "tempo": True, "hit_points": False},
            {"key": True, "tempo": True},
        ]
    )
    assert report == {"key": 0.75, "tempo": 1.0, "hit_points": 0.5, "mean": pytest.approx(0.75)}
    assert constraint_report([]) == {"mean": 1.0}
    with pytest.raises(EvaluationError):
        constraint_report([{"key": 1.5}])
    with pytest.raises(EvaluationError):
        constraint_report([{"mean": True}])


# ---------------------------------------------------------------- output


def test_report_renders_and_serialises(corpus: list[PieceNotes]) -> None:
    plaus = plausibility_table(corpus[:8], corpus[8:16])
    control = control_table({"arousal": [(0, {"tempo": 90}), (1, {"tempo": 120})]})
    constraints = constraint_report([{"key": True, "range": False}])
    console = Console(width=160, record=True)
    console.print(render_report(plaus, control, constraints))
    text = console.export_text()
    for word in ("pitch class entropy", "random diatonic", "arousal", "← bug"):
        assert word in text
    doc = json.loads(to_json(plaus, control, {**constraints, "odd": float("nan")}, seed=3))
    assert doc["plausibility"]["overall"]["n_generated"] == 8
    assert doc["constraints"]["odd"] is None and doc["seed"] == 3
    assert set(json.loads(to_json(control=control))) == {"control"}


# ---------------------------------------------------------------- MIDI input


def test_midi_to_piece_reads_pitched_notes_in_quarters(tmp_path) -> None:
    midi = mido.MidiFile(ticks_per_beat=96)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.MetaMessage("time_signature", numerator=6, denominator=8, time=0))
    track.append(mido.Message("note_on", note=60, velocity=90, time=0))
    track.append(mido.Message("note_on", channel=9, note=36, velocity=100, time=0))  # kick drum: ignored
    track.append(mido.Message("note_on", note=60, velocity=0, time=96))  # velocity-0 note-off
    track.append(mido.Message("note_off", channel=9, note=36, time=0))
    track.append(mido.Message("note_on", channel=1, note=67, velocity=70, time=48))
    track.append(mido.Message("note_off", channel=1, note=67, time=144))
    track.append(mido.Message("note_on", note=64, velocity=70, time=0))  # never released: ends with the track
    track.append(mido.MetaMessage("end_of_track", time=192))
    path = tmp_path / "tune.mid"
    midi.save(path)
    assert midi_to_piece(path) == [(60, 0.0, 1.0), (67, 1.5, 1.5), (64, 3.0, 2.0)]
    assert midi_quarters_per_bar(path) == 3.0


def test_corrupt_or_missing_midi_raises_a_clear_error(tmp_path) -> None:
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\x00\x00\xff\xff garbage")
    for path in (bad, tmp_path / "missing.mid"):
        with pytest.raises(MidiReadError) as info:
            midi_to_piece(path)
        assert isinstance(info.value, ValueError) and str(path) in str(info.value)
    noise = tmp_path / "noise.mid"
    noise.write_bytes(bytes(np.random.default_rng(0).integers(0, 256, 500, dtype=np.uint8)))
    with pytest.raises(MidiReadError):
        midi_to_piece(noise)
