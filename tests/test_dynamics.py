"""Dynamics that mean loudness: per-key voicing of SoundFont presets and the continuous master volume."""

from __future__ import annotations

import numpy as np
import pytest

from segue.audio.loudness import k_weighted
from segue.audio.synth import LayerSynth
from segue.audio.voicing import key_trims
from segue.engine.controls import Timeline
from segue.engine.params import ParameterTrack
from segue.engine.volume import VolumeAutomation
from segue.evaluation_run import examples_dir
from segue.pipeline import play
from segue.spec import SpecError, load_spec, spec_from_dict
from segue.spec.schema import Mapping

SR = 44100


def _note_level_db(program: int, pitch: int, velocity: int, *, voicing: bool) -> float:
    s = LayerSynth(program=program, sample_rate=SR, voicing=voicing)
    s.schedule(0, "on", pitch, velocity)
    s.schedule(int(0.3 * SR), "off", pitch)
    audio = k_weighted(s.render(int(0.4 * SR)), SR)
    return 10.0 * float(np.log10(np.mean(np.sum(audio ** 2, axis=1))))


@pytest.mark.parametrize(("program", "low", "high"), [(73, 60, 92), (60, 45, 80)])  # flute, horn: uneven presets
def test_voicing_makes_a_preset_even_across_its_range(program: int, low: int, high: int) -> None:
    pitches = list(range(low, high, 3))
    raw = [_note_level_db(program, p, 64, voicing=False) for p in pitches]
    voiced = [_note_level_db(program, p, 64, voicing=True) for p in pitches]
    assert max(raw) - min(raw) > 5.0  # the font really is uneven here (or this test proves nothing)
    assert max(voiced) - min(voiced) < 0.4 * (max(raw) - min(raw))
    assert max(voiced) - min(voiced) < 3.0


def test_voicing_keeps_velocity_meaning_louder() -> None:
    levels = [_note_level_db(73, 72, v, voicing=True) for v in (30, 60, 90, 120)]
    assert levels == sorted(levels) and levels[-1] - levels[0] > 10.0


def test_drum_kits_are_not_voiced() -> None:
    assert np.all(key_trims(None, 0, 0, True) == 1.0)
    trims = key_trims(None, 0, 73, False)
    assert trims.shape == (128,) and np.all(trims > 0) and np.any(trims != 1.0)
    assert key_trims(None, 0, 73, False) is trims  # measured once per process


def _track(seek: float) -> ParameterTrack:
    return ParameterTrack("intensity", 0.0, 1.0, seek, SR, 0.0, 0.0)


def _volume(track: ParameterTrack, curve) -> VolumeAutomation:
    m = Mapping(parameter="intensity", target="volume", curve=curve)
    return VolumeAutomation([m], {"intensity": track}, SR)


def test_master_volume_follows_the_parameter_through_its_curve() -> None:
    track = _track(seek=0.5)
    vol = _volume(track, [[0.0, -18.0], [1.0, 0.0]])
    track.set_target(0, 1.0)
    gains = np.concatenate([np.broadcast_to(vol.gains(i, 512), (512,)) for i in range(0, 3 * SR, 512)])
    db = 20 * np.log10(gains)
    assert db[0] == pytest.approx(-18.0, abs=1e-6)
    assert np.all(np.diff(db) >= -1e-9)  # a rising parameter only raises the volume
    assert db[SR] == pytest.approx(-9.0, abs=0.6)  # halfway after one second (small smoothing lag)
    assert db[-1] == pytest.approx(0.0, abs=1e-3)
    assert vol.level_db() == pytest.approx(db[-1], abs=1e-6)


def test_a_parameter_jump_moves_the_volume_without_a_click() -> None:
    track = _track(seek=0.0)
    vol = _volume(track, [[0.0, -24.0], [1.0, 0.0]])
    vol.gains(0, 1000)
    track.set_target(1000, 1.0)  # a 24 dB jump
    gains = np.concatenate([np.broadcast_to(vol.gains(i, 500), (500,)) for i in range(1000, 1000 + SR, 500)])
    steps = np.abs(np.diff(20 * np.log10(gains)))
    assert steps.max() < 0.05  # dB per sample: a smooth glide (a click would be the whole 24 dB at once)
    assert 20 * np.log10(gains[int(0.25 * SR)]) == pytest.approx(0.0, abs=0.05)  # but it gets there


def test_volume_is_the_same_however_the_blocks_are_cut() -> None:
    def run(block: int) -> np.ndarray:
        track = _track(seek=0.3)
        vol = _volume(track, [[0.0, -20.0], [0.5, -3.0], [1.0, 0.0]])
        out, pos = [], 0
        while pos < 2 * SR:
            if pos == 4096:
                track.set_target(pos, 1.0)
            if pos == 40960:
                track.set_target(pos, 0.2)
            n = min(block, 4096 - pos if pos < 4096 else 40960 - pos if pos < 40960 else block)
            out.append(np.broadcast_to(vol.gains(pos, n), (n,)))
            pos += n
        return np.concatenate(out)[: 2 * SR]

    assert np.array_equal(run(512), run(2048))


def test_no_volume_mapping_means_unity_gain() -> None:
    vol = VolumeAutomation([], {"intensity": _track(0.5)}, SR)
    assert not vol.active and vol.gains(0, 512) == 1.0 and vol.level_db() == 0.0


def test_a_volume_mapping_in_a_spec_swells_the_engine_mix() -> None:
    game = load_spec(examples_dir() / "fantasy_game.yaml")
    data = game.model_dump(mode="json", by_alias=True, exclude_none=True)
    with_volume = spec_from_dict(data, base_dir=examples_dir())
    data["mappings"] = [m for m in data["mappings"] if m["target"] != "volume"]
    without = spec_from_dict(data, base_dir=examples_dir())
    trace = Timeline.from_data({"duration": 6.0, "controls": [
        {"time": 0.0, "type": "param", "name": "intensity", "value": 0.0},
        {"time": 3.0, "type": "param", "name": "intensity", "value": 1.0}]})
    a, b = play(with_volume, trace), play(without, trace)
    quiet = slice(int(0.5 * SR), int(2.5 * SR))

    def level(x: np.ndarray) -> float:
        return 10 * np.log10(np.mean(x[quiet].astype(np.float64) ** 2))

    assert level(b.mix) - level(a.mix) > 10.0  # at intensity 0 the curve says -18 dB
    assert a.mix.shape == b.mix.shape and np.max(np.abs(a.mix)) > 0.01


def test_a_volume_curve_outside_its_range_is_a_spec_error_at_its_line(tmp_path) -> None:
    text = (examples_dir() / "fantasy_game.yaml").read_text()
    bad = text.replace("curve: [[0.0, -18.0], [1.0, 0.0]]", "curve: [[0.0, -99.0], [1.0, 0.0]]")
    assert bad != text
    path = tmp_path / "bad.yaml"
    path.write_text(bad)
    line = next(i for i, t in enumerate(bad.splitlines(), 1) if "-99.0" in t)
    with pytest.raises(SpecError) as err:
        load_spec(path)
    message = str(err.value)
    assert f":{line}:" in message and "curve" in message, message


def test_a_layer_gain_mapping_moves_its_layer_at_once_not_bars_later() -> None:
    """Vertical layering: a parameter mapped to one layer's gain moves that layer within the de-zipper's
    time (~0.1 s), wherever in the bar the change comes — not at the bar line after next."""
    game = load_spec(examples_dir() / "fantasy_game.yaml")
    data = game.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["parameters"].append({"name": "proximity", "range": [0.0, 1.0], "default": 0.0, "seek": 0.0})
    data["mappings"].append({"parameter": "proximity", "target": "layer_gain", "layer": "strings",
                             "curve": [[0.0, -30.0], [1.0, 0.0]]})
    spec = spec_from_dict(data, base_dir=examples_dir())
    at = 3.3  # inside a bar (bars are 2.67 s at the explore state's 90 bpm)
    trace = Timeline.from_data({"duration": 6.0, "controls": [
        {"time": at, "type": "param", "name": "proximity", "value": 1.0}]})
    played = play(spec, trace, keep_stems=True)
    strings = played.stems["strings"].astype(np.float64)

    def level(t0: float, t1: float) -> float:
        return 10 * np.log10(np.mean(strings[int(t0 * SR):int(t1 * SR)] ** 2) + 1e-20)

    assert level(at + 0.2, at + 0.7) - level(at - 0.5, at) > 20.0
    others = played.stems["harp"].astype(np.float64)
    before = np.mean(others[int((at - 0.5) * SR):int(at * SR)] ** 2)
    assert before > 0  # (the harp is playing: the comparison above is not two silences)


def test_jumps_glides_and_rest_are_the_same_however_the_blocks_are_cut() -> None:
    def run(block: int) -> np.ndarray:
        track = _track(seek=0.0)
        vol = _volume(track, [[0.0, -24.0], [1.0, 0.0]])
        changes = {1000: 1.0, 30000: 0.3, 31000: 0.8, 60000: 0.0}
        out, pos, end = [], 0, 80000
        while pos < end:
            if pos in changes:
                track.set_target(pos, changes[pos])
            nxt = min([c for c in changes if c > pos] + [end])
            n = min(block, nxt - pos)
            out.append(np.broadcast_to(vol.gains(pos, n), (n,)))
            pos += n
        return np.concatenate(out)

    a = run(512)
    assert np.array_equal(a, run(2048)) and np.array_equal(a, run(700))
    db = 20 * np.log10(a)
    assert db[20000] == pytest.approx(0.0, abs=1e-9)  # at rest: the exact curve value
    assert np.abs(np.diff(db)).max() < 0.05  # every jump glides
