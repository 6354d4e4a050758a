"""The built-in numpy SoundFont player (``SEGUE_SYNTH=builtin``): what a plain ``pip install`` plays with.

It must be a real synthesizer (right pitch, a level and spectrum close to TinySoundFont's on the same
font, envelopes that end), keep the engine's determinism contracts (any block size, live = offline),
refuse bad fonts with a clear error, and render a whole spec end to end.
"""

from __future__ import annotations

import numpy as np
import pytest

from segue.audio import AudioError, LayerSynth, default_soundfont
from segue.audio import soundfont as sfmod
from segue.audio.render import LayerAudio, render_layers
from segue.audio.sf2 import OutputMode, SoundFont

SR = 44100


@pytest.fixture
def builtin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEGUE_SYNTH", "builtin")


def _clone(font: SoundFont) -> SoundFont:
    """A fresh voice set over the same parsed font (as every layer gets), at the test's rate and gain."""
    clone = SoundFont(font)
    clone.set_output(OutputMode.StereoInterleaved, SR, -6.0)
    return clone


def _note(font, program: int, key: int, velocity: float = 0.8, frames: int = 30000, drums: bool = False) -> np.ndarray:
    font.set_max_voices(64)
    font.channel_set_bank(0, 0)
    font.channel_set_preset_number(0, program, drums)
    buf = np.zeros((frames + 14100, 2), np.float32)
    font.channel_note_on(0, key, velocity)
    font.render(buf[:frames])
    font.channel_note_off(0, key)
    font.render(buf[frames:])
    return buf


def _peak_hz(x: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    spec[:20] = 0
    return float(np.argmax(spec) * SR / len(x))


def _rms_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-20))


@pytest.fixture(scope="module")
def fonts():
    data = default_soundfont().read_bytes()
    ours = SoundFont(data)
    ours.set_output(OutputMode.StereoInterleaved, SR, -6.0)
    from tinysoundfont import _tinysoundfont as tsf

    theirs = tsf.SoundFont(data)
    theirs.set_output(tsf.OutputMode.StereoInterleaved, SR, -6.0)
    return ours, theirs


@pytest.mark.parametrize("program,key", [(0, 60), (40, 69), (73, 81), (32, 40), (48, 57), (19, 48)])
def test_pitch_and_level_match_tinysoundfont_on_the_same_font(fonts, program: int, key: int) -> None:
    ours, theirs = fonts
    a = _note(_clone(ours), program, key)
    b = _note(theirs, program, key)
    expected = 440.0 * 2 ** ((key - 69) / 12)
    held_a, held_b = a[2000:30000, 0], b[2000:30000, 0]
    assert _rms_db(held_a) > -60, "silent"
    # the same partial dominates, within a quarter tone of each other
    assert abs(np.log2(_peak_hz(held_a) / _peak_hz(held_b))) < 1 / 24, (_peak_hz(held_a), _peak_hz(held_b))
    # and the fundamental is where the key says (the font's tuning, ± a quarter tone), for pitched tones
    harmonics = _peak_hz(held_a) / expected
    assert abs(harmonics - round(harmonics)) < 0.03 * max(1, round(harmonics)), (program, key, _peak_hz(held_a))
    assert abs(_rms_db(held_a) - _rms_db(held_b)) < 3.0, (_rms_db(held_a), _rms_db(held_b))


def test_velocity_release_and_voice_end(fonts) -> None:
    ours, _ = fonts
    loud = _note(_clone(ours), 0, 60, 1.0)
    soft = _note(_clone(ours), 0, 60, 0.25)
    assert _rms_db(loud[:30000]) - _rms_db(soft[:30000]) == pytest.approx(12.0, abs=1.5)  # velocity is linear gain
    font = _clone(ours)
    buf = _note(font, 40, 64)
    assert np.abs(buf[-200:]).max() < 1e-3, "the release must fade the note out"
    out = np.zeros((4 * SR, 2), np.float32)
    font.render(out)
    assert not out.any() and not font._voices, "a released note must end and free its voice"


def test_pitch_bend_moves_the_pitch_by_its_range(fonts) -> None:
    ours, _ = fonts
    font = _clone(ours)
    font.channel_set_preset_number(0, 73, False)
    font.channel_set_pitch_wheel(0, 16383)  # +2 semitones (default range)
    font.channel_note_on(0, 69, 0.8)
    buf = np.zeros((30000, 2), np.float32)
    font.render(buf)
    assert _peak_hz(buf[2000:, 0]) == pytest.approx(440 * 2 ** (2 / 12), rel=0.03)


def test_drum_kit_and_exclusive_hihat(fonts) -> None:
    ours, _ = fonts
    font = _clone(ours)
    font.set_max_voices(64)
    font.channel_set_preset_number(0, 0, True)
    assert font.get_preset_name(font.channel_get_preset_index(0))
    buf = np.zeros((SR, 2), np.float32)
    font.channel_note_on(0, 46, 0.9)  # open hi-hat
    font.channel_note_on(0, 38, 0.9)  # snare: no exclusive class
    font.render(buf[:2000])
    assert {v.key for v in font._voices if not v.done} >= {46, 38}
    font.channel_note_on(0, 42, 0.9)  # closed hi-hat: same exclusive class as the open one in this kit
    font.render(buf[2000:4000])
    sounding = {v.key for v in font._voices if not v.done}
    assert 46 not in sounding and {42, 38} <= sounding, sounding
    assert _rms_db(buf) > -60


def test_any_block_size_gives_the_same_samples(builtin) -> None:
    def run(blocks: list[int]) -> np.ndarray:
        synth = LayerSynth(program=48)
        for i, pitch in enumerate((60, 64, 67, 72, 71, 67)):
            synth.schedule(i * 11025 + 37, "on", pitch, 90)
            synth.schedule(i * 11025 + 9000, "off", pitch)
        synth.schedule_pitch_bend(20000, 3000)
        synth.schedule_control(30000, 7, 80)
        synth.schedule_control(31000, 64, 127)
        synth.schedule_control(52000, 64, 0)
        out, done, i = [], 0, 0
        while done < 3 * SR:
            n = min(blocks[i % len(blocks)], 3 * SR - done)
            out.append(synth.render(n))
            done += n
            i += 1
        return np.concatenate(out)

    reference = run([2048])
    assert np.abs(reference).max() > 0.01
    assert np.array_equal(run([512]), reference)
    assert np.array_equal(run([64, 333, 1000, 7]), reference)  # even off-grid blocks: exact by construction


def test_offline_equals_live_pull_with_the_builtin_synth(builtin) -> None:
    notes = [(i * 5512, i * 5512 + 4000, 60 + (i * 5) % 12, 100) for i in range(16)]
    layers = [LayerAudio("melody", 73, notes=notes), LayerAudio("drums", 0, True, -3.0,
                                                                [(i * 11025, i * 11025 + 2000, 36, 110) for i in range(8)])]
    offline = render_layers(layers, SR, target_lufs=None, keep_stems=False, block=2048)
    live = render_layers(layers, SR, target_lufs=None, keep_stems=False, block=256)
    assert np.abs(offline.mix).max() > 0.01
    assert np.array_equal(offline.mix, live.mix)


def test_the_synth_in_use_is_chosen_and_reported(builtin, monkeypatch: pytest.MonkeyPatch) -> None:
    assert sfmod.synth_name() == "builtin"
    font = sfmod.open_voice_set(None, SR, -6.0, 32)
    assert isinstance(font, SoundFont)
    monkeypatch.setenv("SEGUE_SYNTH", "fluid")
    with pytest.raises(AudioError, match="SEGUE_SYNTH"):
        sfmod.synth_name()


@pytest.mark.parametrize("payload,reason", [
    (b"not a soundfont at all", "not a RIFF"),
    (b"RIFF\x04\x00\x00\x00sfbk", "no 'INFO'"),
])
def test_bad_fonts_are_refused_with_a_reason(payload: bytes, reason: str, builtin, tmp_path) -> None:
    with pytest.raises(ValueError, match=reason):
        SoundFont(payload)
    bad = tmp_path / "bad.sf2"
    bad.write_bytes(payload)
    with pytest.raises(AudioError, match="not a valid SF2"):
        sfmod.open_voice_set(bad, SR, 0.0, 8)


def test_truncated_font_is_refused_not_crashed(builtin, tmp_path) -> None:
    data = default_soundfont().read_bytes()
    for cut in (100, len(data) // 2, len(data) - 50):
        with pytest.raises(ValueError):
            SoundFont(data[:cut])


def test_a_spec_renders_end_to_end_with_the_builtin_synth(builtin, tmp_path) -> None:
    from segue import pipeline
    from segue.spec import default_spec

    r = pipeline.render(default_spec(), bars=4, seed=5)
    assert r.mix.shape[1] == 2
    level = _rms_db(r.mix)
    assert -40 < level < -5, level
    assert np.abs(r.mix).max() <= 1.0


@pytest.mark.parametrize("synth", ["tinysoundfont", "builtin"])
def test_shipped_voicing_tables_are_what_measuring_gives(synth: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bundled font's voicing ships precomputed (start-up); it must be exactly what measuring gives,
    and rendering with the bundled font must use it rather than measure."""
    from segue.audio import voicing

    monkeypatch.setenv("SEGUE_SYNTH", synth)
    tables = voicing._shipped_tables()
    for program in (0, 40, 73):
        shipped = tables[voicing._table_key(synth, 0, program)]
        assert np.allclose(shipped, voicing.measure_trims(None, 0, program, False), rtol=0, atol=1e-9)
    monkeypatch.setattr(voicing, "_cache", {})
    monkeypatch.setattr(voicing, "measure_trims", lambda *a: pytest.fail("measured a tabled preset"))
    trims = voicing.key_trims(None, 0, 19, False)
    assert np.array_equal(trims, tables[voicing._table_key(synth, 0, 19)])


def test_voice_filter_is_lfilter_without_importing_scipy_signal() -> None:
    """The built-in synth's per-voice low-pass (segue.audio.iir.biquad) gives scipy.signal.lfilter's
    numbers, state carried across pieces, and rendering with the built-in synth never imports
    scipy.signal (0.8 CPU s)."""
    import subprocess
    import sys

    from scipy.signal import lfilter

    from segue.audio.iir import biquad
    from segue.audio.sf2.voice import _lowpass

    sos = _lowpass(1800.0, 6.0, 44100)
    x = np.random.default_rng(6).standard_normal(3000)
    state = np.zeros((1, 1, 2))
    ours = np.concatenate([biquad(sos, x[:128], state), biquad(sos, x[128:1000], state), biquad(sos, x[1000:], state)])
    theirs, _ = lfilter(sos[0, :3], sos[0, 3:], x, zi=np.zeros(2))
    assert np.allclose(ours, theirs, rtol=0, atol=1e-12)
    code = ("import os, sys, pathlib, tempfile; os.environ['SEGUE_SYNTH'] = 'builtin'; from segue.audio import render_midi_file;"
            "from segue.export.midi import write_midi; from segue.pipeline import compose; from segue.spec import load_spec;"
            "from segue.evaluation_run import examples_dir; d = pathlib.Path(tempfile.mkdtemp());"
            "m = write_midi(compose(load_spec(examples_dir() / 'fantasy_game.yaml'), bars=2, seed=1), d / 'a.mid');"
            "render_midi_file(m, d / 'a.wav'); print('scipy.signal' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False"
