"""The neural melody style: shipped weights, probabilities, determinism, constraints, training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from segue.compose import melody as mel
from segue.music import Chord, Key, Meter
from segue.style import load_default, load_style
from segue.style.errors import StyleError
from segue.style.neural import (
    NeuralMelodyModel,
    NoteContext,
    backward,
    forward,
    init_params,
    load_neural_bytes,
    save_neural,
    softmax,
    weights_sha256,
)
from segue.style.neural_train import bits_per_note, examples, fit, piece_arrays
from segue.style.shipped import load_neural_melody


def _ctx(**kw) -> NoteContext:
    base = dict(history=[(35, 0.0, 0.5), (36, 0.5, 0.5), (37, 1.0, 0.5), (36, 1.5, 0.5)], onset=2.0, duration=1.0,
                onsets_in_bar=6, chord_degree=4, family="major", numerator=4, denominator=4)
    base.update(kw)
    return NoteContext(**base)


def test_shipped_model_small_and_float32() -> None:
    m = load_neural_melody()
    assert all(a.dtype == np.float32 for a in m.params.values())
    assert m.parameter_count * 4 <= 20 * 2**20
    path = Path(__file__).resolve().parents[1] / "src/segue/style/data/neural.bin.gz"
    assert path.stat().st_size <= 20 * 2**20


def test_probabilities_sum_to_one() -> None:
    m = load_neural_melody()
    for prev in ([], [1], [-2, 1], [3, -1, -1, 0, 2]):
        p = m.step_probs(prev)
        assert p.shape == (15,) and np.all(p > 0) and abs(p.sum() - 1) < 1e-9
    for c in (_ctx(), _ctx(history=[], chord_degree=None, family=None), _ctx(numerator=6, denominator=8)):
        p = m.note_probs(c)
        assert p.shape == (15,) and np.all(p > 0) and abs(p.sum() - 1) < 1e-9


def test_deterministic_and_musical() -> None:
    m = load_neural_melody()
    a, b = m.note_probs(_ctx()), m.note_probs(_ctx())
    assert np.array_equal(a, b)
    # on the leading note (degree 6 of a major key) over V, the step up to the tonic beats the step down
    lead = _ctx(history=[(35, 0.0, 1.0), (36, 1.0, 1.0), (34, 2.0, 1.0)], onset=3.0, duration=1.0)
    p = m.note_probs(lead)
    assert p[8] > p[6]
    # steps by a second are the commonest moves, as in the Markov chain
    q = m.step_probs([])
    assert q[[6, 8]].sum() > 0.35


def test_chord_context_moves_probability_to_chord_tones() -> None:
    m = load_neural_melody()
    # from degree 2 (E in C) on a downbeat: over I (C-E-G) and over V (G-B-D) the chord tones differ
    h = [(37, 0.0, 1.0), (36, 1.0, 1.0), (37, 2.0, 1.0), (37, 3.0, 1.0)]
    over_i = m.note_probs(_ctx(history=h, onset=0.0, duration=2.0, chord_degree=0))
    over_v = m.note_probs(_ctx(history=h, onset=0.0, duration=2.0, chord_degree=4))
    # +2 lands on G (in both), −1 lands on D (V only), +0 stays on E (I only)
    assert over_v[6] / over_i[6] > 1.0
    assert over_i[7] / over_v[7] > 1.0


def test_style_neural_in_spec_and_composition_deterministic(tmp_path: Path) -> None:
    from segue.evaluation_run import check_midi_constraints, example_specs, melody_piece
    from segue.export import write_midi
    from segue.pipeline import compose
    from segue.spec import spec_from_dict

    neural = load_style("neural")
    assert neural.melody is load_neural_melody() and neural.rhythm is load_default().rhythm
    assert load_style("markov") is load_default()
    for spec in example_specs():
        data = spec.model_dump(mode="json")
        data["style"] = "neural"
        spec_n = spec_from_dict(data)
        assert spec_n.style_path is None
        one = compose(spec_n, bars=12, seed=5)
        two = compose(spec_n, bars=12, seed=5)
        assert melody_piece(one) == melody_piece(two)
        # the spec's style is used: the melody differs from the Markov one; "default" is the neural style
        data["style"] = "markov"
        assert melody_piece(one) != melody_piece(compose(spec_from_dict(data), bars=12, seed=5))
        assert spec.style == "default" and melody_piece(one) == melody_piece(compose(spec, bars=12, seed=5))
        checks = check_midi_constraints(write_midi(one, tmp_path / f"{spec.name}.mid"), spec_n, 12)
        assert all(v for k, v in checks.items() if k != "key_share"), checks


def test_pitch_line_keeps_hard_constraints_with_neural_model() -> None:
    m = load_neural_melody()
    key, meter = Key(2, "minor"), Meter(6, 8)
    chord_at = mel.ChordLookup([(0, key.chord(0)), (meter.ticks_per_bar // 2, key.chord(4))])
    for seed in range(20):
        rng = np.random.default_rng(seed)
        rhythm = mel.rhythm_bar(rng, load_default().rhythm, meter, 0.7)
        line = mel.pitch_line(rng, m, key, meter, rhythm, chord_at, start=30, prev_steps=[1, -1], bounds=(27, 33),
                              center=30, tension=0.8, final_degrees=frozenset({0}), history=[(31, 0.0, 0.5)])
        assert all(27 <= n.degree <= 33 for n in line)
        assert line[-1].degree % 7 == 0
        assert [(n.onset, n.duration) for n in line] == rhythm
    # the Markov model ignores ``history`` and behaves as before
    rng_a, rng_b = np.random.default_rng(1), np.random.default_rng(1)
    rhythm = [(0, 480), (480, 480), (960, 960)]
    cl = mel.ChordLookup([(0, Chord(root=0, tones=(0, 4, 7), degree=0))])
    a = mel.pitch_line(rng_a, load_default().melody, Key(0), Meter(4, 4), rhythm, cl, start=35, prev_steps=[],
                       bounds=(30, 42), center=35, tension=0.5)
    b = mel.pitch_line(rng_b, load_default().melody, Key(0), Meter(4, 4), rhythm, cl, start=35, prev_steps=[],
                       bounds=(30, 42), center=35, tension=0.5, history=[(34, 0.0, 1.0)])
    assert a == b


def _toy_melodies(n: int) -> list[dict]:
    rng = np.random.default_rng(0)
    out = []
    for k in range(n):
        pitches = [60, 62, 64, 65, 67, 65, 64, 62] * 3 if k % 2 else [67, 64, 60, 64, 67, 72, 67, 64] * 3
        notes = [(p, 0.5 * i, 0.5) for i, p in enumerate(pitches)]
        a = piece_arrays(notes, "C major", "4/4" if rng.random() < 0.5 else "6/8")
        out.append(a)
    return out


def test_tiny_training_run_converges_and_is_deterministic(tmp_path: Path) -> None:
    data = examples(_toy_melodies(12))
    start = bits_per_note(init_params(32, 3), *data)
    p1, hist = fit(data, data, hidden=32, epochs=12, batch=32, lr=1e-2, seed=3, steps_only_share=0.1)
    p2, _ = fit(data, data, hidden=32, epochs=12, batch=32, lr=1e-2, seed=3, steps_only_share=0.1)
    end = bits_per_note(p1, *data)
    assert end < start - 1.0, (start, end, hist)
    assert hist[-1]["train_bits"] < hist[0]["train_bits"]
    assert weights_sha256(p1) == weights_sha256(p2)
    path = tmp_path / "m.bin.gz"
    save_neural(path, p1, {"note": "test"})
    again, meta = load_neural_bytes(path.read_bytes())
    assert meta == {"note": "test"} and weights_sha256(again) == weights_sha256(p1)
    assert path.read_bytes() == (save_neural(tmp_path / "n.bin.gz", p1, {"note": "test"}) or
                                 (tmp_path / "n.bin.gz").read_bytes())
    bad = bytearray(path.read_bytes())
    with pytest.raises(StyleError):
        load_neural_bytes(bytes(bad[:40]))


def test_backprop_matches_numerical_gradient() -> None:
    data, y = examples(_toy_melodies(2))
    b = data.take(np.arange(6))
    b.cur_chord[:3] = [0, 4, 3]  # exercise the chord head too
    yy = y[:6]
    p = {k: v.astype(np.float64) for k, v in init_params(8, 1).items()}

    def loss(params):
        pr = softmax(forward(params, b))
        return float(-np.log(pr[np.arange(6), yy]).sum())

    logits, cache = forward(p, b, keep=True)
    dl = softmax(logits)
    dl[np.arange(6), yy] -= 1.0
    g = backward(p, b, cache, dl)
    rng = np.random.default_rng(0)
    for name in ("W1", "W2", "Wo", "Wd", "Wc", "E_step", "E_pos", "E_chord", "bd"):
        for _ in range(3):
            idx = tuple(int(rng.integers(s)) for s in p[name].shape)
            old = p[name][idx]
            p[name][idx] = old + 1e-5
            up = loss(p)
            p[name][idx] = old - 1e-5
            down = loss(p)
            p[name][idx] = old
            num = (up - down) / 2e-5
            assert abs(num - g[name][idx]) < 1e-4 + 1e-3 * abs(num), (name, idx, num, g[name][idx])


def test_model_is_a_neural_melody_model() -> None:
    assert isinstance(load_style("neural").melody, NeuralMelodyModel)


def test_bare_melody_implies_chords_per_half_bar() -> None:
    from segue.style.neural_train import arrays_of, harmony_span, melody_chords
    from segue.style.neural import grid_of

    # G major: bar 1 outlines I then IV, bar 2 V then I (4/4: one chord per half bar)
    notes = [(67, 0, 0.5), (71, 0.5, 0.5), (74, 1, 0.5), (71, 1.5, 0.5), (72, 2, 0.5), (76, 2.5, 0.5), (79, 3, 1),
             (74, 4, 0.5), (78, 4.5, 0.5), (81, 5, 1), (79, 6, 2)]
    assert harmony_span(grid_of(4, 4)) == 2 and harmony_span(grid_of(6, 8)) == 1 and harmony_span(grid_of(3, 4)) == 3
    assert melody_chords(notes, "G major", "4/4") == [0, 0, 3, 3, 4, 4, 0, 0]
    assert melody_chords(notes, None, "4/4") == []

    class P:  # a melody-only training piece (no chords of its own)
        key, meter, chords, chord_beat0 = "G major", "4/4", [], 0

    P.notes = notes
    with_chords, bare = arrays_of([P])[0], arrays_of([P], implied_chords=False)[0]
    assert list(with_chords["chord"]) == [0, 0, 0, 0, 3, 3, 3, 4, 4, 4, 0]
    assert set(bare["chord"]) == {7}


def _chorale_folder(folder: Path, count: int) -> Path:
    """MIDI files of a few Bach chorales from the music21 corpus (public domain, as in training)."""
    from music21 import corpus

    folder.mkdir(parents=True, exist_ok=True)
    for name in ["bach/bwv66.6", "bach/bwv269", "bach/bwv347", "bach/bwv153.1"][:count]:
        corpus.parse(name).write("midi", fp=str(folder / (name.split("/")[1] + ".mid")))
    return folder


def test_finetune_on_a_folder_composes_and_is_deterministic(tmp_path: Path) -> None:
    from segue.evaluation_run import example_specs, melody_piece
    from segue.pipeline import compose
    from segue.style.neural_train import finetune
    from segue.style.shipped import is_neural_file

    folder = _chorale_folder(tmp_path / "bach", 3)
    out_a, out_b = tmp_path / "a.bin.gz", tmp_path / "b.bin.gz"
    meta = finetune(folder, out_a, workers=1, epochs=2, max_steps=20)
    finetune(folder, out_b, workers=1, epochs=2, max_steps=20)
    same = [load_neural_bytes(p.read_bytes())[0] for p in (out_a, out_b)]
    assert weights_sha256(same[0]) == weights_sha256(same[1])  # the timings in the header differ
    assert meta["files"] == 3 and meta["training_notes"] > 50 and 0 < meta["history"][-1]["steps"] <= 20
    assert is_neural_file(out_a) and not is_neural_file(folder / "bwv269.mid")
    style = load_style(out_a)
    assert isinstance(style.melody, NeuralMelodyModel) and style.melody.sha256 != load_neural_melody().sha256
    assert style.melody.heat == load_neural_melody().heat
    assert style.melody.conditions_on_chords == load_neural_melody().conditions_on_chords
    spec = example_specs()[0]
    one, two = compose(spec, bars=8, seed=2, style=style), compose(spec, bars=8, seed=2, style=style)
    assert melody_piece(one) == melody_piece(two) and len(melody_piece(one)) > 8
    with pytest.raises(StyleError):
        finetune(tmp_path / "nothing-here", tmp_path / "c.bin.gz")


def test_cli_train_style_neural(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from segue.cli import app

    folder = _chorale_folder(tmp_path / "bach", 2)
    out = tmp_path / "mine.bin.gz"
    import segue.style.neural_train as nt

    old = dict(nt.FINETUNE)
    nt.FINETUNE.update(max_steps=10, epochs=1)
    try:
        r = CliRunner().invoke(app, ["train", str(folder), "--out", str(out), "--style", "neural", "--workers", "1"])
    finally:
        nt.FINETUNE.clear()
        nt.FINETUNE.update(old)
    assert r.exit_code == 0, r.output
    assert "wrote" in r.output and out.is_file()
    assert isinstance(load_style(out).melody, NeuralMelodyModel)
    bad = CliRunner().invoke(app, ["train", str(folder), "--out", str(out), "--style", "lstm"])
    assert bad.exit_code != 0


def test_composing_settings_come_from_the_model_file(tmp_path: Path) -> None:
    from segue.style.neural_train import COMPOSE, set_compose
    from segue.style.sampling import Heat, heat_from
    from segue.style.shipped import neural_melody_from_file

    m = load_neural_melody()
    assert m.heat == heat_from(COMPOSE) and m.conditions_on_chords == COMPOSE["conditions_on_chords"]
    assert m.meta["compose"] == COMPOSE and m.to_dict()["heat"][0] == m.heat.base
    path = tmp_path / "x.bin.gz"
    save_neural(path, m.params, {"compose": {"temperature": 1.3, "top_p": 0.8, "conditions_on_chords": False}})
    other = neural_melody_from_file(path)
    assert other.heat.base == 1.3 and other.heat.top_p == 0.8 and not other.conditions_on_chords
    # a file from before temperature and top-p (sharpness s) reads as temperature 1/s
    save_neural(path, m.params, {"compose": {"sharpness": 0.5}})
    assert neural_melody_from_file(path).heat == Heat(base=2.0)
    # a file without composing settings (the first model's format) gets the old behaviour
    save_neural(path, m.params, {})
    old = neural_melody_from_file(path)
    assert abs(old.heat.base - 1 / 0.7) < 1e-9 and not old.conditions_on_chords
    # the settings can be rewritten without touching the weights
    set_compose(path, COMPOSE)
    assert neural_melody_from_file(path).heat == m.heat and neural_melody_from_file(path).sha256 == m.sha256
    assert load_style(path).id != load_style("neural").id  # the settings are part of the style's identity


def test_validation_split_is_the_training_works_validation_part() -> None:
    from segue.style.neural_train import split_valid
    from segue.style.neural_validate import judged_metrics, neural_variant, validation_reference, validation_table

    class W:
        def __init__(self, k: int, n: int) -> None:
            self.ident, self.notes = f"work{k}", [(60 + i % 5, 0.5 * i, 0.5) for i in range(n)]

    works = [W(k, 20 if k % 3 else 8) for k in range(200)]
    _, valid = split_valid(works, 0.05)
    ref = validation_reference(works)
    assert ref and len(ref) == sum(1 for w in valid if len(w.notes) >= 16)
    assert "mean_interval" in judged_metrics() and "pitch_range" not in judged_metrics()
    from segue.style.sampling import Heat

    variant = neural_variant(load_style("neural"), heat=Heat(base=1.7))
    assert variant.melody.heat.base == 1.7 and load_style("neural").melody.heat.base != 1.7
    table = validation_table(variant, ref, pieces=2, seed=1)
    assert 0.0 <= table["mean_interval"]["ours"] <= 1.0
