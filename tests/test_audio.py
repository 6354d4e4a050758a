"""Floor 6 — audio: real synthesis, sample-accurate events, the bus, loudness and files."""

from __future__ import annotations

import math
from pathlib import Path

import mido
import numpy as np
import pyloudnorm
import pytest
import soundfile as sf

from segue.audio import (
    AudioError, FileSink, LayerAudio, LayerSynth, Limiter, Mixer, default_soundfont, integrated_loudness,
    normalise_loudness, read_midi, render_layers, render_midi_file, render_notes, sum_stems, write_audio,
)
from segue.music import PPQ, Note, TempoMap

SR = 44100


def first_sound(audio: np.ndarray) -> int:
    """Index of the first frame that is not exactly silent."""
    loud = np.nonzero(np.abs(audio).max(axis=1) > 0.0)[0]
    return int(loud[0]) if loud.size else -1


def pull_blocks(synth: LayerSynth, frames: int, block: int) -> np.ndarray:
    return np.concatenate([synth.render(min(block, frames - s)) for s in range(0, frames, block)])


def rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))


def tune(start: int = 0) -> list[tuple[int, int, int, int]]:
    """A few bars of melody as (on, off, pitch, velocity) at 120 bpm."""
    quarter = SR // 2
    pitches = [60, 62, 64, 65, 67, 65, 64, 62]
    return [(start + i * quarter, start + (i + 1) * quarter - 500, p, 90) for i, p in enumerate(pitches)]


def beat(start: int = 0) -> list[tuple[int, int, int, int]]:
    eighth = SR // 4
    return [(start + i * eighth, start + i * eighth + 2000, 36 if i % 4 == 0 else 42, 100) for i in range(16)]


# -- synthesis ---------------------------------------------------------------------------------
def test_default_soundfont_is_the_shipped_general_midi_font() -> None:
    path = default_soundfont()
    assert path.name == "TimGM6mb.sf2" and path.is_file() and path.stat().st_size > 1_000_000


@pytest.mark.parametrize("program, drums, pitch", [(0, False, 60), (33, False, 40), (0, True, 38)])
def test_a_note_makes_real_sound(program: int, drums: bool, pitch: int) -> None:
    synth = LayerSynth(program=program, is_drums=drums)
    synth.schedule(0, "on", pitch, 100)
    synth.schedule(SR // 2, "off", pitch)
    audio = synth.render(SR)
    assert audio.shape == (SR, 2) and audio.dtype == np.float32
    assert rms(audio[: SR // 4]) > 0.005, "a struck note must be clearly audible"
    assert np.all(np.isfinite(audio))
    assert synth.position == SR


def test_drums_and_melody_use_different_instruments() -> None:
    piano = LayerSynth(program=0)
    kit = LayerSynth(program=0, is_drums=True)
    assert piano.preset_name != kit.preset_name
    for synth in (piano, kit):
        synth.schedule(0, "on", 38, 100)
    assert not np.allclose(piano.render(4096), kit.render(4096))


@pytest.mark.parametrize("at", [1037, 2048, 4095])
def test_a_note_starts_at_its_scheduled_sample(at: int) -> None:
    synth = LayerSynth(program=0)
    synth.schedule(at, "on", 64, 100)
    audio = pull_blocks(synth, 8192, 512)
    onset = first_sound(audio)
    assert at <= onset <= at + int(0.003 * SR), f"note scheduled at {at} starts at {onset}"


def test_an_event_in_the_past_is_applied_at_once() -> None:
    synth = LayerSynth(program=0)
    silence = synth.render(3000)
    synth.schedule(500, "on", 64, 100)  # already rendered past 500
    after = synth.render(2000)
    assert first_sound(silence) == -1
    assert 0 <= first_sound(after) <= int(0.003 * SR)


def test_note_off_releases_and_repeated_notes_restrike() -> None:
    held = LayerSynth(program=19)  # organ: sustains while held, stops soon after release
    held.schedule(0, "on", 60, 100)
    held.schedule(SR // 4, "off", 60)
    audio = held.render(SR)
    assert rms(audio[SR // 8 : SR // 4]) > 20 * rms(audio[SR - 4410 :])

    def after_half_second(restrike: bool) -> float:
        synth = LayerSynth(program=0)
        synth.schedule(0, "on", 60, 100)
        if restrike:  # scheduled before the off on purpose: at one sample, offs go first
            synth.schedule(SR // 2, "on", 60, 100)
        synth.schedule(SR // 2, "off", 60)
        return rms(synth.render(SR)[SR // 2 + 4000 : SR // 2 + 8000])

    assert after_half_second(restrike=True) > 5 * after_half_second(restrike=False)


def test_sustain_pedal_holds_released_notes() -> None:
    def tail(pedal: bool) -> float:
        synth = LayerSynth(program=19)
        if pedal:
            synth.schedule_control(0, 64, 127)
        synth.schedule(0, "on", 60, 100)
        synth.schedule(SR // 4, "off", 60)
        return rms(synth.render(SR)[SR // 2 :])

    assert tail(pedal=True) > 20 * tail(pedal=False)


def test_all_notes_off_releases_and_drops_pending_events() -> None:
    synth = LayerSynth(program=19)
    synth.schedule(0, "on", 60, 100)
    synth.schedule(SR, "on", 67, 100)  # pending: must never sound
    synth.render(SR // 4)
    synth.all_notes_off()
    assert synth.pending == 0
    later = synth.render(2 * SR)
    assert rms(later[SR:]) < 1e-4


def test_rendering_is_bit_identical_for_any_block_size_that_is_a_multiple_of_64() -> None:
    def run(block: int) -> np.ndarray:
        synth = LayerSynth(program=48)
        for on, off, pitch, velocity in tune(start=777):
            synth.schedule(on, "on", pitch, velocity)
            synth.schedule(off, "off", pitch)
        return pull_blocks(synth, 5 * SR, block)

    reference = run(2048)
    assert np.array_equal(run(512), reference)
    assert np.array_equal(run(64 * 7), reference)


def test_layers_share_one_parsed_soundfont_but_not_their_voices() -> None:
    from segue.audio import soundfont

    assert soundfont._template(default_soundfont()) is soundfont._template(default_soundfont())
    synths = [LayerSynth(program=p) for p in range(10)]
    synths[3].schedule(0, "on", 60, 100)
    blocks = [s.render(1024) for s in synths]
    assert rms(blocks[3]) > 0.001
    assert all(not b.any() for i, b in enumerate(blocks) if i != 3), "a note on one layer leaked into another"


# -- user errors -------------------------------------------------------------------------------
def test_missing_or_corrupt_soundfont_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="not found"):
        LayerSynth(program=0, soundfont=tmp_path / "nope.sf2")
    junk = tmp_path / "junk.sf2"
    junk.write_bytes(b"RIFF\x00\x00\x00\x00not a soundfont at all" * 50)
    with pytest.raises(AudioError, match="not a valid SF2"):
        LayerSynth(program=0, soundfont=junk)


def test_a_user_named_soundfont_is_used(tmp_path: Path) -> None:
    copy = tmp_path / "mine.sf2"
    copy.write_bytes(default_soundfont().read_bytes())
    synth = LayerSynth(program=0, soundfont=copy)
    synth.schedule(0, "on", 60, 100)
    assert rms(synth.render(4096)) > 0.001


def test_corrupt_missing_or_empty_midi_is_a_user_error(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.mid"
    corrupt.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\x00\x00\x10\x00\x90\x3c")
    with pytest.raises(AudioError, match="not a readable MIDI file"):
        render_midi_file(corrupt, tmp_path / "out.wav")
    with pytest.raises(AudioError, match="not found"):
        render_midi_file(tmp_path / "absent.mid", tmp_path / "out.wav")
    empty = tmp_path / "empty.mid"
    mido.MidiFile(tracks=[mido.MidiTrack([mido.MetaMessage("end_of_track")])]).save(empty)
    with pytest.raises(AudioError, match="no notes"):
        render_midi_file(empty, tmp_path / "out.wav")
    assert not (tmp_path / "out.wav").exists()


def test_unknown_layer_and_bad_output_paths_are_user_errors(tmp_path: Path) -> None:
    mixer = Mixer(["melody"])
    with pytest.raises(AudioError, match="unknown layer 'melodie'"):
        mixer.set_gain("melodie", -6.0)
    audio = np.zeros((100, 2), dtype=np.float32)
    with pytest.raises(AudioError, match="unknown audio format"):
        write_audio(tmp_path / "out.mp3", audio, SR)
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(AudioError, match="cannot write"):
        write_audio(blocker / "out.wav", audio, SR)


# -- mixer -------------------------------------------------------------------------------------
def test_stems_sum_to_what_the_bus_received() -> None:
    layers = [LayerAudio("melody", 73, notes=tune()), LayerAudio("drums", 0, True, -3.0, beat()),
              LayerAudio("bass", 33, gain_db=-6.0, notes=[(0, SR * 2, 36, 90)])]
    raw = render_layers(layers, SR, reverb=0.0, target_lufs=None, tail_seconds=0.5)
    assert raw.report["bus_limiter_reduction_db"] == 0.0  # quiet enough: the limiter is a pure delay
    assert set(raw.stems) == {"melody", "drums", "bass"}
    assert all(stem.shape == raw.mix.shape for stem in raw.stems.values())
    assert np.array_equal(raw.mix, sum_stems(raw.stems, raw.mix.shape[0]))
    # after normalisation (no limiting at a low target) the mix is the stems' sum, scaled
    mix, stems = render_notes(layers, SR, reverb=0.0, target_lufs=-30.0, tail_seconds=0.5)
    gain = np.max(np.abs(mix)) / np.max(np.abs(sum_stems(stems, mix.shape[0])))
    assert np.allclose(mix, sum_stems(stems, mix.shape[0]) * gain, atol=1e-6)
    assert integrated_loudness(mix, SR) == pytest.approx(-30.0, abs=0.1)


def test_the_bus_reverb_adds_a_tail_and_is_block_size_independent() -> None:
    def run(block: int, reverb: float) -> np.ndarray:
        synth = LayerSynth(program=0)
        synth.schedule(0, "on", 60, 110)
        synth.schedule(4000, "off", 60)
        mixer = Mixer(["piano"], SR, reverb=reverb)
        out = [mixer.process({"piano": synth.render(block)}) for _ in range(0, 2 * SR, block)]
        return np.concatenate(out)[: 2 * SR]

    dry, wet = run(2048, 0.0), run(2048, 0.5)
    assert rms(wet[SR:]) > 3 * rms(dry[SR:]) + 1e-6
    assert np.array_equal(run(512, 0.5), wet)


def ramp_steps(stem: np.ndarray, change_at: int, ramp: int) -> tuple[float, float]:
    """Largest sample-to-sample step while a fader goes −20 dB → 0 dB at ``change_at`` over
    ``ramp`` frames, and the largest step of the same signal at full gain afterwards."""
    mixer = Mixer(["layer"], SR, reverb=0.0)
    mixer.set_gain("layer", -20.0, ramp_samples=0)
    mixer.set_gain("layer", 0.0, ramp_samples=ramp, at=change_at)
    mix = np.concatenate([mixer.process({"layer": stem[i : i + 1024]}) for i in range(0, stem.shape[0], 1024)]
                         + [mixer.flush()])[mixer.latency :]
    during = mix[change_at - 1 : change_at + max(ramp, 1) + 1]
    after = mix[change_at + ramp + 1024 :]
    return float(np.abs(np.diff(during, axis=0)).max()), float(np.abs(np.diff(after, axis=0)).max())


def test_a_gain_ramp_makes_no_click() -> None:
    synth = LayerSynth(program=19)  # a real, steady organ chord
    for pitch in (48, 55, 60):
        synth.schedule(0, "on", pitch, 100)
    organ = synth.render(2 * SR)
    step, own = ramp_steps(organ, SR // 2, 2048)
    assert step <= own, f"ramp step {step:.4f} exceeds the signal's own largest step {own:.4f}"
    # the same check catches a click: a low sine jumped by 20 dB at its crest
    t = np.arange(2 * SR) / SR
    sine = np.repeat((0.5 * np.sin(2 * np.pi * 80 * t)).astype(np.float32)[:, None], 2, axis=1)
    crest = int(SR / 2 + SR / 320)  # 80 Hz: a quarter period after a zero crossing
    step, own = ramp_steps(sine, crest, 2048)
    assert step <= own
    jump, own = ramp_steps(sine, crest, 0)
    assert jump > 10 * own, "an instant 20 dB jump must register as a click, or the test proves nothing"


def test_gain_changes_can_land_on_an_exact_sample_and_mute() -> None:
    mixer = Mixer(["a"], SR, reverb=0.0)
    ones = np.full((4096, 2), 0.25, dtype=np.float32)
    mixer.set_gain("a", -200.0, ramp_samples=1, at=3000)
    out = np.concatenate([mixer.process({"a": ones}) for _ in range(2)])[mixer.latency :]
    assert np.all(out[:3000] == 0.25) and np.all(out[3000:8000] == 0.0)
    assert mixer.gain_db("a") == -math.inf


def test_an_interrupted_fade_continues_from_where_it_was() -> None:
    mixer = Mixer(["a"], SR, reverb=0.0)
    flat = np.full((512, 2), 0.5, dtype=np.float32)
    mixer.set_gain("a", -40.0, ramp_samples=4096)
    out = [mixer.process({"a": flat}) for _ in range(2)]  # halfway down…
    mixer.set_gain("a", 0.0, ramp_samples=1024)  # …then back up
    out += [mixer.process({"a": flat}) for _ in range(6)]
    gain = np.concatenate(out)[mixer.latency :, 0] / 0.5
    assert 0.7 < gain[1023] < 0.8  # linear in amplitude: a quarter of the way from 1.0 to 0.01
    assert np.abs(np.diff(gain)).max() < 1.0 / 1024 + 1e-6  # no jump where the second move starts
    assert gain[-1] == pytest.approx(1.0) and mixer.gain_db("a") == pytest.approx(0.0)


def test_offline_render_equals_a_live_pull_in_small_blocks() -> None:
    layers = [LayerAudio("melody", 73, notes=tune(start=999)), LayerAudio("drums", 0, True, -3.0, beat(333))]
    offline = render_layers(layers, SR, target_lufs=None, keep_stems=False, block=2048)
    live = render_layers(layers, SR, target_lufs=None, keep_stems=False, block=256)
    assert offline.report["bus_limiter_reduction_db"] == 0.0
    assert np.array_equal(offline.mix, live.mix)


# -- limiter and loudness ----------------------------------------------------------------------
def test_limiter_holds_the_ceiling_without_jumps() -> None:
    t = np.arange(SR) / SR
    # a 110 Hz tone alternating between +9.5 dBFS bursts and a quiet −10 dBFS
    loud = (np.sin(2 * np.pi * 110 * t) * np.where((t * 4) % 1 < 0.5, 3.0, 0.3)).astype(np.float32)
    audio = np.stack([loud, 0.5 * loud], axis=1)
    limiter = Limiter(SR, ceiling_dbfs=-1.0)
    out = np.concatenate([limiter.process(audio[i : i + 1000]) for i in range(0, SR, 1000)] + [limiter.flush()])
    out = out[limiter.latency :]
    assert out.shape == audio.shape
    assert np.abs(out).max() <= 10 ** (-1 / 20)
    assert limiter.max_reduction_db < -9.0
    assert np.abs(out[int(0.4 * SR) : int(0.5 * SR)]).max() > 0.25  # the quiet part comes back up
    # gain moves smoothly: the output never steps further than the input's own largest step
    assert np.abs(np.diff(out, axis=0)).max() <= np.abs(np.diff(audio, axis=0)).max()


def test_limiter_is_an_exact_delay_below_the_ceiling() -> None:
    audio = (np.random.default_rng(5).uniform(-0.5, 0.5, (5000, 2))).astype(np.float32)
    limiter = Limiter(SR)
    out = np.concatenate([limiter.process(audio[i : i + 700]) for i in range(0, 5000, 700)] + [limiter.flush()])
    assert np.array_equal(out[limiter.latency :], audio)


def test_our_loudness_meter_agrees_with_pyloudnorm() -> None:
    mix, _ = render_notes([LayerAudio("m", 0, notes=tune()), LayerAudio("d", 0, True, 0.0, beat())], SR,
                          target_lufs=None, keep_stems=False)
    ours = integrated_loudness(mix, SR)
    reference = pyloudnorm.Meter(SR).integrated_loudness(mix.astype(np.float64))
    # pyloudnorm normalises the RLB high-pass to unity gain at DC-adjacent… in effect −0.043 dB;
    # we use BS.1770's published coefficients exactly, hence the small allowance
    assert ours == pytest.approx(reference, abs=0.1)


@pytest.mark.parametrize("level", [0.02, 0.9])
def test_normalisation_meets_loudness_target_and_peak_ceiling(level: float) -> None:
    synth = LayerSynth(program=0, is_drums=True)
    for on, off, pitch, velocity in beat() + beat(4 * SR // 2):
        synth.schedule(on, "on", pitch, velocity)
        synth.schedule(off, "off", pitch)
    audio = synth.render(5 * SR)
    audio *= level / np.abs(audio).max()
    out, report = normalise_loudness(audio, SR)
    assert integrated_loudness(out, SR) == pytest.approx(-16.0, abs=0.5)
    assert report["lufs_after"] == pytest.approx(-16.0, abs=0.5)
    assert np.abs(out).max() <= 10 ** (-1 / 20)
    assert report["peak_dbfs"] <= -1.0
    assert report["limiter_reduction_db"] < 0.0  # drums at −16 LUFS need limiting, not clipping


def test_silence_is_returned_unchanged() -> None:
    silence = np.zeros((SR, 2), dtype=np.float32)
    out, report = normalise_loudness(silence, SR)
    assert np.array_equal(out, silence)
    assert report["lufs_before"] == -math.inf and report["gain_db"] == 0.0


# -- offline rendering and files ---------------------------------------------------------------
def arrangement() -> list[LayerAudio]:
    tempo = TempoMap.constant(100.0, SR)
    melody = [Note(i * PPQ, p, PPQ, 90) for i, p in enumerate([67, 69, 71, 72, 74, 72, 71, 69])]
    chords = [Note(0, p, 4 * PPQ, 70) for p in (55, 59, 62)] + [Note(4 * PPQ, p, 4 * PPQ, 70) for p in (57, 60, 64)]
    kit = [Note(i * PPQ // 2, 36 if i % 4 == 0 else 42, PPQ // 4, 100) for i in range(16)]
    return [LayerAudio.from_notes("melody", melody, tempo, program=73),
            LayerAudio.from_notes("harmony", chords, tempo, program=48, gain_db=-4.0),
            LayerAudio.from_notes("drums", kit, tempo, program=0, is_drums=True)]


def test_offline_render_is_loud_enough_never_clips_and_is_deterministic(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    mix, stems = render_notes(arrangement(), SR, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1][0] == seen[-1][1] == mix.shape[0]
    assert integrated_loudness(mix, SR) == pytest.approx(-16.0, abs=0.5)
    assert np.abs(mix).max() <= 10 ** (-1 / 20)
    again, _ = render_notes(arrangement(), SR)
    write_audio(tmp_path / "a.wav", mix, SR)
    write_audio(tmp_path / "b.wav", again, SR)
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()


def test_notes_placed_through_the_tempo_map_land_on_their_samples() -> None:
    tempo = TempoMap.constant(90.0, SR)
    layer = LayerAudio.from_notes("solo", [Note(3 * PPQ + 120, 72, PPQ, 100)], tempo, program=0)
    expected = tempo.sample(3 * PPQ + 120)
    assert layer.notes[0][0] == expected
    _, stems = render_notes([layer], SR, reverb=0.0)
    assert expected <= first_sound(stems["solo"]) <= expected + int(0.003 * SR)


@pytest.mark.parametrize("suffix", [".wav", ".flac"])
def test_audio_files_are_written_and_read_back(tmp_path: Path, suffix: str) -> None:
    rng = np.random.default_rng(3)
    audio = (rng.uniform(-0.8, 0.8, (SR // 2, 2))).astype(np.float32)
    path = tmp_path / "nested" / f"take{suffix}"
    write_audio(path, audio, SR)
    data, rate = sf.read(path, dtype="float32")
    info = sf.info(path)
    assert rate == SR and data.shape == audio.shape and info.subtype == "PCM_24"
    assert np.abs(data - audio).max() < 2.0**-22
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left behind


def test_file_sink_streams_blocks_into_the_same_file(tmp_path: Path) -> None:
    audio = (np.random.default_rng(4).uniform(-0.5, 0.5, (10_000, 2))).astype(np.float32)
    with FileSink(tmp_path / "live.wav", SR) as sink:
        for start in range(0, 10_000, 512):
            sink.write(audio[start : start + 512])
    write_audio(tmp_path / "whole.wav", audio, SR)
    assert (tmp_path / "live.wav").read_bytes() == (tmp_path / "whole.wav").read_bytes()


def write_midi(path: Path) -> None:
    """Piano on channel 1, drums on channel 10, in two tracks; tempo 120 → 60 after two beats."""
    ppq = 96
    conductor = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500_000, time=0),
                                mido.MetaMessage("set_tempo", tempo=1_000_000, time=2 * ppq)])
    piano = mido.MidiTrack([mido.Message("program_change", channel=0, program=0, time=0)])
    when = 0
    for beat_index, pitch in enumerate([60, 64, 67, 72]):
        on = beat_index * ppq
        piano.append(mido.Message("note_on", channel=0, note=pitch, velocity=90, time=on - when))
        piano.append(mido.Message("note_off", channel=0, note=pitch, velocity=0, time=ppq // 2))
        when = on + ppq // 2
    drums = mido.MidiTrack()
    for i in range(4):
        drums.append(mido.Message("note_on", channel=9, note=36, velocity=110, time=0 if i == 0 else ppq - 10))
        drums.append(mido.Message("note_on", channel=9, note=36, velocity=0, time=10))
    mido.MidiFile(type=1, ticks_per_beat=ppq, tracks=[conductor, piano, drums]).save(path)


def test_midi_files_render_with_tempo_changes_programs_and_drums(tmp_path: Path) -> None:
    midi = tmp_path / "song.mid"
    write_midi(midi)
    score = read_midi(midi, SR)
    assert [(p.name, p.is_drums) for p in score.parts] == [("ch01", False), ("ch10", True)]
    piano_ons = [s for s, kind, *_ in score.parts[0].events if kind == "on"]
    # beats 0 and 1 at 120 bpm, beats 2 and 3 after the change to 60 bpm
    assert piano_ons == [0, SR // 2, SR, 2 * SR]
    report = render_midi_file(midi, tmp_path / "song.flac")
    data, rate = sf.read(tmp_path / "song.flac", dtype="float32")
    assert rate == SR and data.shape[1] == 2
    assert data.shape[0] == pytest.approx((2.5 + 2.0) * SR, abs=SR * 0.05)  # last off (3.5 s… 2.5 s) + tail
    assert report["lufs_after"] == pytest.approx(-16.0, abs=0.5)
    assert np.abs(data).max() <= 10 ** (-1 / 20)
    assert report["layers"]["ch10"]["drums"] and report["layers"]["ch10"]["notes"] == 4


def test_midi_time_rounding_in_integers_is_exactly_fraction_rounding() -> None:
    """read_midi turns ticks into samples with integers; it must round exactly as Fraction did (ties to even)."""
    import random
    from fractions import Fraction

    from segue.audio.midifile import _round_half_even

    rng = random.Random(7)
    cases = [(k * 2 + 1, 2) for k in range(-3, 6)] + [(0, 7), (44100 * 500_000 * 3, 480 * 1_000_000)]
    cases += [(rng.randrange(10**14), rng.choice([96, 384, 480, 960]) * 1_000_000) for _ in range(5000)]
    for num, den in cases:
        assert _round_half_even(num, den) == round(Fraction(num, den)), (num, den)
