"""The neural style's draw under hard rules: masks on the logits, temperature/top-p from the state, infilling."""

from __future__ import annotations

import numpy as np

from segue.compose import melody as mel
from segue.compose.random import rng_for
from segue.music import Chord, Key, Meter
from segue.style import load_style
from segue.style.sampling import Heat, masked_distribution


def _entropy(p: np.ndarray) -> float:
    q = p[p > 0]
    return float(-(q * np.log(q)).sum())


def test_masked_entries_get_exactly_zero_and_top_p_keeps_the_head() -> None:
    logits = np.log(np.array([0.5, 0.2, 0.15, 0.1, 0.05]))
    allowed = np.array([False, True, True, True, True])
    p = masked_distribution(logits, allowed, 1.0, 1.0)
    assert p[0] == 0.0 and abs(p.sum() - 1.0) < 1e-12
    assert np.allclose(p[1:], np.array([0.2, 0.15, 0.1, 0.05]) / 0.5)
    nucleus = masked_distribution(logits, allowed, 1.0, 0.6)  # 0.4 + 0.3 reach 0.6: two entries
    assert np.count_nonzero(nucleus) == 2 and nucleus[1] > nucleus[2] > 0.0
    assert not masked_distribution(logits, np.zeros(5, dtype=bool), 1.0, 0.9).any()
    hot, cold = masked_distribution(logits, allowed, 2.0, 1.0), masked_distribution(logits, allowed, 0.5, 1.0)
    assert _entropy(hot) > _entropy(p) > _entropy(cold)


def test_temperature_and_top_p_follow_the_state() -> None:
    heat = Heat(base=1.0, tension=0.5, density=0.2, top_p=0.9, top_p_tension=0.1)
    assert heat.temperature(0.9, 0.5) > heat.temperature(0.5, 0.5) > heat.temperature(0.1, 0.5)
    assert heat.temperature(0.5, 1.0) > heat.temperature(0.5, 0.0)
    assert heat.nucleus(1.0) > heat.nucleus(0.0) and heat.nucleus(1.0) <= 1.0


def _line(seed: int, chord: Chord, **kw) -> mel.Motif:
    key, meter = Key(0, "major"), Meter(4, 4)
    rhythm = [(i * 240, 220) for i in range(8)]
    return mel.pitch_line(rng_for(seed, "test"), load_style("neural").melody, key, meter, rhythm,
                          mel.ChordLookup([(0, chord)]), start=35, prev_steps=[], bounds=(30, 42), center=36,
                          tension=0.8, history=[], **kw)


def test_the_key_policy_is_a_mask_while_sampling() -> None:
    v_of_v = Chord(2, (2, 6, 9), degree=1, label="V/V")  # D F♯ A in C major: F (degree 3) is altered
    assert v_of_v.alterations(Key(0, "major")) == {3: 6}
    lines = [_line(s, v_of_v) for s in range(40)]
    degrees = [n.degree for line in lines for n in line]
    assert all(30 <= d <= 42 for d in degrees)
    assert not any(d % 7 == 3 for d in degrees)  # never sampled, not filtered afterwards (no rescue needed)
    tonic = Chord(0, (0, 4, 7), degree=0)
    assert any(n.degree % 7 == 3 for s in range(40) for n in _line(s, tonic))  # the mask is the chord's doing
    # same seed, same notes
    assert _line(3, v_of_v) == _line(3, v_of_v)


def test_a_cadence_goal_is_a_mask_too() -> None:
    tonic = Chord(0, (0, 4, 7), degree=0)
    for s in range(20):
        assert _line(s, tonic, final_degrees=frozenset({0}))[-1].degree % 7 == 0


def test_model_infill_writes_added_notes_between_their_neighbours() -> None:
    key, meter = Key(0, "major"), Meter(4, 4)
    motif = [mel.MotifNote(0, 960, 35), mel.MotifNote(960, 960, 39)]  # two half notes a fifth apart

    def elaborate(seed: int) -> mel.Motif:
        infill = mel.ModelInfill(rng_for(seed, "infill"), load_style("neural").melody, key, meter, [], (30, 42),
                                 0.5, 0.9, mel.ChordLookup([(0, Chord(0, (0, 4, 7), degree=0))]))
        return mel.fit_density(rng_for(seed, "fit"), motif, meter, 0.9, infill=infill)

    outs = [elaborate(s) for s in range(12)]
    assert all(len(o) > len(motif) for o in outs)
    added = [n.degree for o in outs for n in o if n.onset not in (0, 960)]
    assert added and all(30 <= d <= 42 for d in added)
    assert len(set(added)) > 1  # drawn from the model, not a fixed passing-tone rule
    assert elaborate(5) == elaborate(5)


def test_written_lengths_ignore_articulation() -> None:
    assert mel.written_lengths([0, 240, 480, 960], 1920) == [240, 240, 480, 960]
