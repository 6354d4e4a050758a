"""Floor 1: ticks, tempo map, keys and chords."""

from fractions import Fraction

import pytest

from segue.music import PPQ, Key, Meter, Position, TempoMap, parse_pitch, pitch_name


def test_tempo_map_round_trip_and_exact_boundaries() -> None:
    tm = TempoMap.constant(120.0, 48000)
    assert tm.sample(PPQ) == 24000  # one beat at 120 bpm = 0.5 s
    tm.set_tempo(4 * PPQ, 90.0)
    # bar 2 starts at 2 s; one beat at 90 bpm = 2/3 s
    assert tm.seconds_exact(5 * PPQ) == Fraction(2) + Fraction(2, 3)
    assert tm.sample(5 * PPQ) == 128000
    for tick in (0, 1, 479, 480, 1919, 1920, 1921, 10_000):
        assert tm.tick_at_seconds(tm.seconds(tick) + 1e-9) == tick


def test_tempo_map_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        TempoMap.constant(0.0)


def test_meters() -> None:
    assert Meter(4, 4).ticks_per_bar == 4 * PPQ
    six = Meter(6, 8)
    assert six.compound and six.beats_per_bar == 2 and six.ticks_per_beat == 3 * PPQ // 2
    assert Meter.parse("3/4").beats_per_bar == 3
    assert str(Position.of(4 * PPQ + PPQ + 7, Meter(4, 4))) == "2.2.7"
    with pytest.raises(ValueError):
        Meter.parse("4-4")


def test_keys_modes_and_chords() -> None:
    d_dorian = Key.parse("D dorian")
    assert d_dorian.pitch_classes == Key.parse("C major").pitch_classes
    assert d_dorian.family == "minor"
    assert Key.parse("A harmonic minor").contains(68) and not Key.parse("A minor").contains(68)
    assert Key.parse("F lydian").contains(71) and Key.parse("G mixolydian").contains(65)
    assert Key.parse("E phrygian").contains(65)
    c = Key.parse("C major")
    assert c.chord(4).name() == "G" and c.chord(4).roman() == "V"
    assert c.chord(6).quality == "dim" and c.chord(4, seventh=True).name() == "G7"
    for p in range(0, 128):
        d = c.degree_of(p)
        if d is not None:
            assert c.pitch_of_degree(d) == p


def test_pitch_names() -> None:
    assert parse_pitch("C4") == 60 and parse_pitch("A4") == 69 and parse_pitch("Bb2") == 46
    assert parse_pitch("B#3") == 60 and parse_pitch("Cb4") == 59
    assert pitch_name(61) == "C#4"
    with pytest.raises(ValueError):
        parse_pitch("H4")
