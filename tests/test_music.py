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


def test_tempo_points_sit_on_samples_so_long_sessions_stay_cheap() -> None:
    """A tempo change every bar for hours: conversions must not grow with the session (they did, when
    every point's time was an exact sum of all the fractions before it)."""
    import random

    tm = TempoMap.constant(90.0, 44100)
    rng = random.Random(3)
    for i in range(1, 3000):  # ~2 hours of bars, each at a new tempo
        tm.set_tempo(i * 1920, 60 + 80 * rng.random())
    for p in tm.points:
        exact = tm.seconds_exact(p.tick) * 44100
        assert exact.denominator == 1  # every point on a sample
    late = tm.seconds_exact(3000 * 1920 - 7)
    assert late.denominator < 10 ** 12  # bounded, whatever came before
    samples = [tm.sample(t) for t in range(0, 3000 * 1920, 997)]
    assert samples == sorted(samples)
    assert tm.tick_at_sample(tm.sample(2999 * 1920)) == 2999 * 1920


def test_a_tempo_ramp_is_a_monotone_staircase_that_reaches_its_target() -> None:
    tm = TempoMap.constant(90.0)
    tm.ramp(1920, 3840, 120.0, 240)
    bpms = [tm.bpm_at(t) for t in range(1920, 3840, 240)]
    assert len(bpms) == 8 and bpms == sorted(bpms) and bpms[0] > 90.0 and bpms[-1] == 120.0
    steps = [b - a for a, b in zip([90.0] + bpms, bpms)]
    assert max(steps) - min(steps) < 1e-9  # even steps
    assert tm.bpm_at(1919) == 90.0 and tm.bpm_at(5000) == 120.0
    # the ramp's bar lasts between a bar at the old tempo and one at the new
    bar = tm.seconds(3840) - tm.seconds(1920)
    assert 4 * 60 / 120 < bar < 4 * 60 / 90
    tm.ramp(3840, 5760, 60.0, 240)  # and down again (a ritardando)
    down = [tm.bpm_at(t) for t in range(3840, 5760, 240)]
    assert down == sorted(down, reverse=True) and down[-1] == 60.0
