"""QUALITY §7 musicianship measures on small hand-made pieces whose values are known."""

from __future__ import annotations

import json
import math

import mido
import pytest

from segue.evaluate.musicianship import (
    Chord, KeySig, Score, Track, beat_chords, dissonance, fit_chord, harmony_measures, key_measures,
    measure_score, melody_measures, read_midi_score, repetition_measures, summarise, texture_measures,
)
from segue.evaluate.musicianship_reference import REFERENCE_PATH, load_reference
from segue.evaluate.musicianship_report import emotion_checks, meets, musicianship_rows

Q = 480  # ticks per quarter
BAR = 4 * Q


def weights(*pcs: int) -> list[float]:
    w = [0.0] * 12
    for pc in pcs:
        w[pc % 12] += 1.0
    return w


def block_chords(*chords: tuple[int, ...], name: str = "pad", bars_each: int = 1) -> Track:
    """One chord (MIDI pitches) per bar, held for the whole bar."""
    notes = [(p, i * bars_each * BAR, bars_each * BAR) for i, chord in enumerate(chords) for p in chord]
    return Track(name, notes, "harmony")


def piece(*tracks: Track, key: str = "C major", **kw) -> Score:
    return Score(list(tracks), Q, keys=[(0, KeySig.parse(key))], **kw)


# --- keys and chord fitting --------------------------------------------------------------------------


def test_keysig_parses_segue_markers_and_midi_names():
    assert KeySig.parse("D dorian") == KeySig(2, "dorian")
    assert KeySig.parse("C harmonic_minor") == KeySig(0, "harmonic_minor")
    assert KeySig.parse("F#m") == KeySig(6, "minor")
    assert KeySig.parse("Bb") == KeySig(10, "major")
    assert KeySig.parse("A aeolian") == KeySig.parse("A minor")  # aliases are the same key
    with pytest.raises(ValueError):
        KeySig.parse("C bebop")


@pytest.mark.parametrize("pcs, bass, expected", [
    ((0, 4, 7), None, Chord(0, "maj")),
    ((0, 4, 7, 10), None, Chord(0, "dom7")),
    ((9, 0, 4), None, Chord(9, "min")),
    ((11, 2, 5), None, Chord(11, "dim")),
    ((11, 2, 5, 9), None, Chord(11, "hdim7")),
    ((0, 4, 8), 0, Chord(0, "aug")),
    ((0, 4), 0, Chord(0, "maj")),  # a dyad: the sounding root in the bass wins the tie with A minor
    ((4, 7), 4, Chord(4, "min")),
])
def test_fit_chord_templates(pcs, bass, expected):
    assert fit_chord(weights(*pcs), bass) == expected


def test_fit_chord_silence_is_none_and_empty_beats_carry_the_previous_chord():
    assert fit_chord([0.0] * 12) is None
    pad = Track("pad", [(60, 0, Q), (64, 0, Q), (67, 0, Q)])  # one beat of C major, then three beats of rest
    chords = beat_chords(piece(pad, length_ticks=BAR))
    assert chords == [Chord(0, "maj")] * 4


# --- harmony ----------------------------------------------------------------------------------------


def test_c_major_triad_is_not_chromatic_an_ab_major_triad_is_and_is_borrowed():
    c, ab = (60, 64, 67), (56, 60, 63)
    diatonic = harmony_measures(piece(block_chords(c, (65, 69, 72), c)))
    assert diatonic["chromatic_beats"] == 0.0
    assert diatonic["borrowed_chords"] == 0.0 and diatonic["has_secondary_or_borrowed"] == 0.0
    h = harmony_measures(piece(block_chords(c, ab, c)))
    assert h["chromatic_beats"] == pytest.approx(4 / 12)
    assert h["borrowed_chords"] == pytest.approx(1 / 2)  # two changes land in C major, one on bVI
    assert h["has_secondary_or_borrowed"] == 1.0
    assert h["notes_outside_key"] == pytest.approx(2 / 9)  # Ab and Eb


def test_v_of_v_counts_one_secondary_dominant_but_the_keys_own_v_does_not():
    c, d7, g7 = (60, 64, 67), (62, 66, 69, 72), (55, 59, 62, 65)
    h = harmony_measures(piece(block_chords(c, d7, g7, c)))
    assert h["secondary_dominants_per_100_changes"] == pytest.approx(100 / 3)
    assert h["has_secondary_or_borrowed"] == 1.0
    plain = harmony_measures(piece(block_chords(c, (65, 69, 72), g7, c)))
    assert plain["secondary_dominants_per_100_changes"] == 0.0
    # a chromatic D major that does not resolve down a fifth is no secondary dominant
    wander = harmony_measures(piece(block_chords(c, (62, 66, 69), (65, 69, 72), c)))
    assert wander["secondary_dominants_per_100_changes"] == 0.0


def test_harmonic_rhythm_and_vocabulary():
    c, f, g, am = (60, 64, 67), (65, 69, 72), (67, 71, 74), (57, 60, 64)
    h = harmony_measures(piece(block_chords(c, f, g, am)))
    assert h["chord_changes_per_bar"] == pytest.approx(3 / 4)
    assert h["distinct_chords_per_16_bars"] == pytest.approx(4 * 16 / 4)  # under 16 bars: scaled
    long = harmony_measures(piece(block_chords(*[c, f, g, c] * 8)))  # 32 bars, two windows of 3 chords
    assert long["distinct_chords_per_16_bars"] == pytest.approx(3.0)


# --- repetition -------------------------------------------------------------------------------------


def melody_bar(pitches: tuple[int, ...], bar: int, rhythm: tuple[int, ...] = (0, Q, 2 * Q, 3 * Q)) -> list:
    return [(p, bar * BAR + t, Q) for p, t in zip(pitches, rhythm)]


A, B, C_, D, E = (60, 62, 64, 65), (67, 65, 64, 62), (60, 60, 67, 67), (69, 69, 67, 65), (72, 71, 69, 67)


def test_a_bar_copied_exactly_counts_as_a_repeat_and_a_shifted_copy_does_not():
    copied = Track("lead", melody_bar(A, 0) + melody_bar(B, 1) + melody_bar(A, 2), "melody")
    r = repetition_measures(piece(copied))
    assert r["bars_repeating"] == pytest.approx(1 / 3)
    assert r["longest_repeat_bars"] == 1.0
    shifted = Track("lead", melody_bar(A, 0) + melody_bar(B, 1) + melody_bar(A, 2, (0, Q, 2 * Q, 3 * Q + Q // 2)))
    assert repetition_measures(piece(shifted))["bars_repeating"] == 0.0
    # every layer counts: the same melody over a different bass is not a repeat
    bass = Track("bass", [(36, 0, BAR), (41, BAR, BAR), (43, 2 * BAR, BAR)], "bass")
    assert repetition_measures(piece(copied, bass))["bars_repeating"] == 0.0


def test_a_returning_four_bar_phrase():
    phrase = [A, B, C_, D]
    back = Track("lead", [n for i, bar in enumerate(phrase + phrase) for n in melody_bar(bar, i)])
    r = repetition_measures(piece(back))
    assert r["phrases_returning"] == pytest.approx(1 / 2)
    assert r["longest_repeat_bars"] == 4.0
    assert r["bars_repeating"] == pytest.approx(4 / 8)
    varied = Track("lead", [n for i, bar in enumerate(phrase + [A, B, C_, E]) for n in melody_bar(bar, i)])
    r = repetition_measures(piece(varied))
    assert r["phrases_returning"] == 0.0
    assert r["longest_repeat_bars"] == 3.0


# --- melody -----------------------------------------------------------------------------------------


def test_a_melody_under_a_pad_is_below_the_top():
    pad = block_chords((64, 67, 72))
    under = Track("lead", melody_bar((60, 62, 60, 62), 0), "melody")
    assert melody_measures(piece(under, pad))["melody_below_top"] == 1.0
    over = Track("lead", melody_bar((76, 77, 79, 76), 0), "melody")
    assert melody_measures(piece(over, pad))["melody_below_top"] == 0.0
    doubled = Track("flute", [(76, 0, BAR)])  # the same pitch in another layer is not above the melody
    assert melody_measures(piece(Track("lead", [(76, 0, BAR)], "melody"), doubled))["melody_below_top"] == 0.0


def test_melody_falls_back_to_the_highest_track():
    low = Track("a", [(48, 0, Q)])
    high = Track("b", [(72, 0, Q)])
    assert piece(low, high).melody() is high
    tagged = Track("c", [(40, 0, Q)], "melody")
    assert piece(low, high, tagged).melody() is tagged


def test_syncopation_is_an_off_beat_onset_with_nothing_on_the_next_beat():
    # onsets: 0, 1.5 (held over beat 2), 2.5 (followed by an onset on beat 3), 3
    lead = Track("lead", [(60, 0, 3 * Q // 2), (62, 3 * Q // 2, Q), (64, 5 * Q // 2, Q // 2), (65, 3 * Q, Q),
                          (67, BAR, BAR)], "melody")
    assert melody_measures(piece(lead))["melody_syncopation"] == pytest.approx(1 / 5)
    straight = Track("lead", melody_bar(A, 0) + melody_bar(B, 1), "melody")
    assert melody_measures(piece(straight))["melody_syncopation"] == 0.0


def test_strong_beat_notes_outside_the_chord_and_their_resolution():
    pad = block_chords((48, 52, 55), (48, 52, 55))
    # beat 1: D over C major (a step to C follows); beat 3: E (chord tone); bar 2 beat 1: F leaps to A
    lead = Track("lead", [(74, 0, Q), (72, Q, Q), (76, 2 * Q, 2 * Q), (77, BAR, Q), (81, BAR + Q, 3 * Q)], "melody")
    m = melody_measures(piece(lead, pad))
    assert m["strong_beat_outside_chord"] == pytest.approx(2 / 3)
    assert m["resolved_by_step"] == pytest.approx(1 / 2)


def test_parallel_fifths_between_melody_and_bass():
    bass = Track("bass", [(53, 0, Q), (55, Q, Q)], "bass")
    parallel = Track("lead", [(72, 0, Q), (74, Q, Q)], "melody")  # C over F, then D over G: fifths
    assert melody_measures(piece(parallel, bass))["parallels_per_100_moves"] == pytest.approx(100.0)
    contrary = Track("lead", [(72, 0, Q), (71, Q, Q)], "melody")
    assert melody_measures(piece(contrary, bass))["parallels_per_100_moves"] == 0.0


# --- texture, bass, key, dissonance -----------------------------------------------------------------


def test_texture_change_is_the_cv_of_onsets_per_bar():
    even = Track("lead", melody_bar(A, 0) + melody_bar(B, 1))
    assert texture_measures(piece(even))["onsets_cv"] == 0.0
    uneven = Track("lead", [(60, 0, BAR // 2), (62, BAR // 2, BAR // 2)]
                   + [(60 + i, BAR + i * Q // 2, Q // 2) for i in range(6)])
    assert texture_measures(piece(uneven))["onsets_cv"] == pytest.approx(0.5)  # 2 and 6: std 2, mean 4


def test_bass_needs_a_low_note_when_three_layers_play():
    lead = Track("lead", melody_bar(A, 0), "melody")
    pad = block_chords((64, 67, 72))
    with_bass = texture_measures(piece(lead, pad, Track("bass", [(40, 0, BAR)])))
    assert with_bass["bass_bars"] == 1.0 and with_bass["has_bass"] == 1.0
    without = texture_measures(piece(lead, pad, Track("cello", [(55, 0, BAR)])))
    assert without["bass_bars"] == 0.0 and without["has_bass"] == 0.0
    duo = texture_measures(piece(lead, pad))  # fewer than three layers: nothing to judge
    assert math.isnan(duo["bass_bars"]) and duo["has_bass"] == 1.0


def test_home_key_held_and_characteristic_degree():
    pad = block_chords((62, 65, 69), (62, 65, 69), (65, 69, 72), (65, 69, 72))
    s = Score([pad], Q, keys=[(0, KeySig.parse("D dorian")), (2 * BAR, KeySig.parse("F major"))])
    k = key_measures(s)
    assert k["home_key_held"] == pytest.approx(0.5)
    assert k["characteristic_degree_heard"] == 0.0  # no B natural: could as well be D aeolian
    s.tracks.append(Track("lead", [(71, 0, Q)], "melody"))
    assert key_measures(s)["characteristic_degree_heard"] == 1.0
    s.home = KeySig.parse("F major")
    assert key_measures(s)["home_key_held"] == pytest.approx(0.5)


def test_dissonance_counts_minor_seconds_and_tritones():
    assert dissonance(piece(block_chords((60, 64, 67)))) == 0.0
    assert dissonance(piece(block_chords((60, 61)))) == 1.0
    assert dissonance(piece(block_chords((60, 66, 67)))) == pytest.approx(2 / 3)  # C–F# and F#–G of three pairs


# --- whole pieces, files, summaries, tables ---------------------------------------------------------


def test_measure_score_on_an_empty_piece_is_all_nan_not_an_error():
    m = measure_score(Score([], Q))
    assert all(math.isnan(v) or v in (0.0, 1.0) for v in m.values())
    assert math.isnan(m["chromatic_beats"]) and math.isnan(m["melody_below_top"])


def test_read_midi_score(tmp_path):
    mid = mido.MidiFile(type=1, ticks_per_beat=Q)
    conductor = mido.MidiTrack([
        mido.MetaMessage("time_signature", numerator=3, denominator=4),
        mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(90)),
        mido.MetaMessage("key_signature", key="Am"),
        mido.MetaMessage("marker", text="key: D dorian"),
        mido.MetaMessage("marker", text="key: F major", time=3 * Q),
    ])
    lead = mido.MidiTrack([
        mido.MetaMessage("track_name", name="lead"),
        mido.Message("note_on", channel=0, note=62, velocity=90),
        mido.Message("note_on", channel=0, note=62, velocity=0, time=Q),  # velocity 0 ends a note
        mido.Message("note_on", channel=0, note=65, velocity=90),
        mido.Message("note_off", channel=0, note=65, time=2 * Q),
    ])
    drums = mido.MidiTrack([
        mido.MetaMessage("track_name", name="drums"),
        mido.Message("note_on", channel=9, note=36, velocity=100),
        mido.Message("note_off", channel=9, note=36, time=Q // 2),
        mido.MetaMessage("end_of_track", time=5 * Q // 2 + 3 * Q),
    ])
    mid.tracks.extend([conductor, lead, drums])
    path = tmp_path / "t.mid"
    mid.save(str(path))
    s = read_midi_score(path, roles={"lead": "melody"})
    assert (s.numerator, s.denominator, s.bar_ticks, s.n_bars) == (3, 4, 3 * Q, 2)
    assert s.keys == [(0, KeySig(2, "dorian")), (3 * Q, KeySig(5, "major"))]
    assert s.home_key == KeySig(2, "dorian")
    assert [(t.name, t.role, t.is_drums, t.notes) for t in s.tracks] == [
        ("lead", "melody", False, [(62, 0, Q), (65, Q, 2 * Q)]), ("drums", None, True, [(36, 0, Q // 2)])]
    assert s.tempos == [(0, pytest.approx(90.0))]
    assert read_midi_score(path, home="F major").home_key == KeySig(5, "major")


def test_summarise_means_skip_nan_and_count_piece_shares():
    base = {k: 0.0 for k in measure_score(Score([], Q))}
    a = dict(base, chromatic_beats=0.2, has_secondary_or_borrowed=1.0, bass_bars=1.0, has_bass=1.0,
             characteristic_degree_heard=1.0)
    b = dict(base, chromatic_beats=math.nan, has_secondary_or_borrowed=math.nan, bass_bars=math.nan, has_bass=1.0,
             characteristic_degree_heard=0.0)
    s = summarise([a, b])
    assert s["pieces"] == 2 and s["chromatic_beats"] == pytest.approx(0.2)
    assert s["pieces_with_secondary_or_borrowed"] == 1.0  # b has no key: not counted
    assert s["pieces_with_bass"] == 1.0 and s["pieces_hearing_characteristic_degree"] == 0.5


def test_rows_mark_targets_met_or_not():
    assert meets(2.0, (1.5, 3.0)) and not meets(3.5, (1.5, 3.0)) and not meets(math.nan, (1.0, None))
    rows = {r["measure"]: r for r in musicianship_rows({"chord_changes_per_bar": 1.0, "onsets_cv": 0.3}, {})}
    assert rows["chord_changes_per_bar"]["met"] is False and rows["onsets_cv"]["met"] is True
    assert rows["notes_outside_key"]["met"] is None  # no target
    assert rows["chromatic_beats"]["game_music_quoted"] == pytest.approx(0.24)
    moods = {m: {"chromatic_beats": 0.1, "dissonance": 0.05} for m in ("tense", "angry", "joyful")}
    moods["tense"] = {"chromatic_beats": 0.3, "dissonance": 0.1}
    checks = emotion_checks(moods)
    assert checks["tense_chromatic_beats_above_joyful"] and not checks["angry_dissonance_above_joyful"]


def test_committed_bach_reference_is_complete():
    doc = load_reference()
    assert len(doc["pieces"]) == doc["summary"]["pieces"] == 40
    assert set(measure_score(Score([], Q))) <= set(doc["summary"])
    assert json.loads(REFERENCE_PATH.read_text())["corpus"].startswith("Bach chorales")
