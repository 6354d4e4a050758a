"""Streaming renders (issue 16): a MIDI file renders through a disk spool to the very bytes that the
whole-piece-in-memory path writes, and the streaming loudness meter agrees with the whole-array one."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from segue.audio import integrated_loudness, normalise_loudness, read_midi, render_midi_file, write_audio
from segue.audio.loudness import LoudnessMeter
from segue.audio.midifile import _synth_for
from segue.audio.mixer import Mixer
from segue.audio.render import pull
from segue.audio.spool import Spool
from segue.evaluation_run import examples_dir
from segue.export.midi import write_midi
from segue.pipeline import compose
from segue.spec import load_spec

SR = 44100


def test_midi_render_streams_to_the_bytes_of_the_in_memory_path(tmp_path) -> None:
    mid = write_midi(compose(load_spec(examples_dir() / "fantasy_game.yaml"), bars=6, seed=2), tmp_path / "a.mid")
    report = render_midi_file(mid, tmp_path / "streamed.wav")
    score = read_midi(mid, SR)  # the old path: the whole mix in memory, normalised, written at once
    synths = {p.name: _synth_for(p, SR, None) for p in score.parts}
    mixer = Mixer(list(synths), SR, reverb=0.25, ceiling_dbfs=-1.0)
    mix, _ = pull(synths, mixer, score.end_sample + 2 * SR, keep_stems=False)
    whole, expected = normalise_loudness(mix, SR)
    write_audio(tmp_path / "whole.wav", whole, SR)
    assert (tmp_path / "streamed.wav").read_bytes() == (tmp_path / "whole.wav").read_bytes()
    assert report["lufs_after"] == expected["lufs_after"] and report["gain_db"] == expected["gain_db"]
    assert abs(integrated_loudness(sf.read(tmp_path / "streamed.wav")[0], SR) + 16.0) < 0.1


def test_loudness_meter_fed_in_odd_pieces_equals_the_whole_array() -> None:
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((SR * 3 + 1234, 2)) * np.linspace(0.01, 0.5, SR * 3 + 1234)[:, None]).astype(np.float32)
    meter = LoudnessMeter(SR)
    cuts = np.sort(rng.integers(1, x.shape[0], 40))
    for piece in np.split(x, cuts):
        meter.feed(piece)
    assert meter.lufs() == integrated_loudness(x, SR)


def test_spool_gives_back_what_was_written() -> None:
    rng = np.random.default_rng(4)
    blocks = [rng.standard_normal((n, 2)).astype(np.float32) for n in (2048, 7, 70000, 1)]
    with Spool() as spool:
        for b in blocks:
            spool.write(b)
        for _ in range(2):  # read as often as needed
            assert np.array_equal(np.concatenate(list(spool.read())), np.concatenate(blocks))
        assert spool.frames == sum(b.shape[0] for b in blocks)


def test_k_weighting_filter_is_scipys_without_importing_scipy_signal() -> None:
    """The loudness filter gives scipy.signal.sosfilt's numbers bit for bit, state carried across pieces,
    and a MIDI render never imports scipy.signal (2 CPU s of start-up)."""
    import subprocess
    import sys

    from scipy.signal import sosfilt as scipy_sosfilt

    from segue.audio.iir import sosfilt
    from segue.audio.loudness import _k_weighting

    sos = _k_weighting(SR)
    x = np.random.default_rng(5).standard_normal((30000, 2))
    ours, state = sosfilt(sos, x[:12345])
    ours2, state2 = sosfilt(sos, x[12345:], state)
    theirs, zi = scipy_sosfilt(sos, x[:12345], axis=0, zi=np.zeros((2, 2, 2)))
    theirs2, zi2 = scipy_sosfilt(sos, x[12345:], axis=0, zi=zi)
    assert np.array_equal(ours, theirs) and np.array_equal(ours2, theirs2) and np.array_equal(state2, zi2)
    code = ("import sys, pathlib, tempfile; from segue.audio import render_midi_file; from segue.export.midi import write_midi;"
            "from segue.pipeline import compose; from segue.spec import load_spec; from segue.evaluation_run import examples_dir;"
            "d = pathlib.Path(tempfile.mkdtemp()); m = write_midi(compose(load_spec(examples_dir() / 'dark_ambient.yaml'), bars=2,"
            " seed=1), d / 'a.mid'); render_midi_file(m, d / 'a.wav'); print('scipy.signal' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_gain_without_the_limiter_is_computed_as_measuring_the_gained_audio_would() -> None:
    """plan_loudness no longer reads a piece again when the gain alone keeps the peak under the ceiling:
    the loudness it reports equals metering the gained audio — the absolute gate included: a very quiet
    piece whose softest second sits under −70 LUFS until the gain lifts it above."""
    from segue.audio.loudness import PeakMeter, array_source, plan_loudness

    rng = np.random.default_rng(9)
    x = (rng.standard_normal((SR * 4, 2)) * 0.0004).astype(np.float32)
    x[:SR] *= np.float32(0.35)
    assert integrated_loudness(x[:SR], SR) == -np.inf  # under the absolute gate before the gain
    meter, peak = LoudnessMeter(SR), PeakMeter()
    meter.feed(x)
    peak.feed(x)
    for measured in (None, (meter, peak)):
        plan = plan_loudness(array_source(x), SR, target_lufs=-16.0, peak_dbfs=-1.0, measured=measured)
        assert not plan["limited"] and plan["limiter_reduction_db"] == 0.0
        gained = x * np.float32(10.0 ** (plan["gain_db"] / 20.0))
        assert integrated_loudness(gained[:SR], SR) > -70.0  # now above it, and counted
        assert abs(plan["lufs_after"] - integrated_loudness(gained, SR)) < 1e-4
        assert plan["lufs_after"] < -16.01  # the quiet second, now gated in, pulls it under the target
        assert abs(plan["peak_dbfs"] - 20 * np.log10(np.abs(gained).max())) < 1e-4


def test_a_spool_meters_what_is_written() -> None:
    rng = np.random.default_rng(10)
    blocks = [(rng.standard_normal((n, 2)) * 0.1).astype(np.float32) for n in (4096, 33, 50000)]
    with Spool(sample_rate=SR) as spool:
        for b in blocks:
            spool.write(b)
        meter, peak = spool.measured
        whole = np.concatenate(blocks)
        assert meter.lufs() == integrated_loudness(whole, SR)
        assert peak.peak == float(np.abs(whole).max())
