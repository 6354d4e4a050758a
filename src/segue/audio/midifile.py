"""``segue render IN.mid --out OUT.wav``: a Standard MIDI File through Segue's own audio path.

MIDI semantics kept: all tracks are merged (channel state is shared across tracks), tempo
changes move every later event, channel 10 is percussion, program/bank changes, controllers
(volume, pan, expression, sustain pedal, RPN pitch-bend range) and pitch bend all take effect
at their exact sample. Each MIDI channel becomes one layer, rendered by the same
:class:`LayerSynth`/:class:`Mixer` path as generated music, then normalised and written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from segue.limits import MAX_MIDI_BYTES, MAX_RENDER_SECONDS, clip_text

from segue.audio.errors import AudioError
from segue.audio.mixer import Mixer
from segue.audio.render import pull_blocks
from segue.audio.smf import BEND, CONTROL, NOTE_OFF, NOTE_ON, PROGRAM, SMF, TEMPO, SMFError, parse_smf
from segue.audio.sinks import audio_format
from segue.audio.spool import Spool, write_normalised
from segue.audio.synth import LayerSynth

DRUM_CHANNEL = 9
DEFAULT_TEMPO = 500_000  # microseconds per quarter note (120 bpm), the SMF default


@dataclass(slots=True)
class ChannelPart:
    """Everything one MIDI channel does, as sample-stamped events."""

    channel: int
    program: int = 0  # the program in force at the channel's first note
    bank: int = 0
    notes: int = 0
    events: list[tuple[int, str, int, int]] = field(default_factory=list)  # (sample, kind, a, b)

    @property
    def is_drums(self) -> bool:
        return self.channel == DRUM_CHANNEL

    @property
    def name(self) -> str:
        return f"ch{self.channel + 1:02d}"


@dataclass(slots=True)
class MidiScore:
    parts: list[ChannelPart]
    end_sample: int  # the last event's sample
    ticks_per_beat: int


def _load(path: Path) -> SMF:
    try:
        found = path.is_file()
        size = path.stat().st_size if found else 0
    except OSError as exc:
        raise AudioError(f"cannot read MIDI file {clip_text(str(path), 120)} ({exc.strerror or exc})") from None
    if not found:
        raise AudioError(f"MIDI file not found: {path}")
    if size > MAX_MIDI_BYTES:
        raise AudioError(f"{path} is larger than {MAX_MIDI_BYTES // (1024 * 1024)} MiB; Segue renders MIDI files "
                         f"up to that size")
    try:
        midi = parse_smf(path.read_bytes())
    except OSError as exc:
        raise AudioError(f"cannot read MIDI file {clip_text(str(path), 120)} ({exc.strerror or exc})") from None
    except SMFError as exc:
        raise AudioError(f"not a readable MIDI file: {path} ({exc})") from None
    if midi.format == 2:
        raise AudioError(f"{path} is a type-2 MIDI file (independent patterns), which Segue cannot render")
    if midi.ticks_per_beat <= 0:
        raise AudioError(f"{path} uses SMPTE time code instead of beats, which Segue cannot render")
    return midi


def _round_half_even(numerator: int, denominator: int) -> int:
    """``round(Fraction(numerator, denominator))`` in integers: to the nearest, ties to even."""
    q, r = divmod(numerator, denominator)
    twice = 2 * r
    if twice > denominator or (twice == denominator and q % 2):
        q += 1
    return q


def read_midi(path: Path, sample_rate: int = 44100) -> MidiScore:
    """Parse a MIDI file into per-channel, sample-stamped events.

    Tick → sample conversion is exact rational arithmetic, rounded once per event, because a
    file's own PPQ (96, 384, 960 …) generally differs from Segue's internal 480.
    """
    midi = _load(Path(path))
    ppq = midi.ticks_per_beat
    parts: dict[int, ChannelPart] = {}
    # time in exact integers: ``elapsed / per_second`` seconds (ticks × µs per beat over PPQ × 10⁶);
    # Fraction arithmetic gave the same samples at ~10× the cost (a sixth of a 1-minute render)
    elapsed = 0
    per_second = ppq * 1_000_000
    limit = MAX_RENDER_SECONDS * per_second
    tempo = DEFAULT_TEMPO
    sounding: dict[tuple[int, int], int] = {}  # (channel, key) → sample of its note-on
    end = 0
    previous = 0
    for tick, kind, channel, a, b in midi.events:
        elapsed += (tick - previous) * tempo
        previous = tick
        if elapsed > limit:
            # a 37-byte file once asked for 77 hours (91.9 GiB, when the output was allocated whole)
            raise AudioError(f"{path} lasts more than {MAX_RENDER_SECONDS / 3600:g} hours (an event at "
                             f"{elapsed / per_second / 3600:.1f} h); Segue renders MIDI files up to that length")
        if kind == TEMPO:
            tempo = a
            continue
        sample = _round_half_even(elapsed * sample_rate, per_second)
        part = parts.get(channel)
        if part is None:
            part = parts[channel] = ChannelPart(channel)
        if kind == NOTE_ON and b > 0:
            if part.notes == 0:
                part.program = _program_before_first_note(part)
            part.notes += 1
            sounding[(channel, a)] = sample
            part.events.append((sample, "on", a, b))
        elif kind == NOTE_ON or kind == NOTE_OFF:
            started = sounding.pop((channel, a), None)
            if started is not None and started >= sample:
                sample = started + 1  # a zero-length note still has to end after it starts
            part.events.append((sample, "off", a, 0))
        elif kind == PROGRAM:
            part.events.append((sample, "program", a, 0))
        elif kind == CONTROL:
            if a == 0 and part.notes == 0:
                part.bank = b
            part.events.append((sample, "control", a, b))
        elif kind == BEND:
            part.events.append((sample, "bend", a, 0))
        if sample > end:
            end = sample
    used = [part for _, part in sorted(parts.items()) if part.notes > 0]
    if not used:
        raise AudioError(f"{path} contains no notes")
    return MidiScore(used, end, ppq)


def _program_before_first_note(part: ChannelPart) -> int:
    programs = [a for _, kind, a, _ in part.events if kind == "program"]
    return programs[-1] if programs else 0


def _synth_for(part: ChannelPart, sample_rate: int, soundfont: Path | None) -> LayerSynth:
    synth = LayerSynth(program=part.program, is_drums=part.is_drums, bank=part.bank if not part.is_drums else 0,
                       sample_rate=sample_rate, soundfont=soundfont)
    for sample, kind, a, b in part.events:
        if kind == "on":
            synth.schedule(sample, "on", a, b)
        elif kind == "off":
            synth.schedule(sample, "off", a)
        elif kind == "program":
            synth.schedule_program(sample, a)
        elif kind == "control":
            synth.schedule_control(sample, a, b)
        elif kind == "bend":
            synth.schedule_pitch_bend(sample, a)
    return synth


FILE_BLOCK = 32768
"""A file render's block (0.74 s at 44.1 kHz): 16× the engine's offline block. Any multiple of 64 gives
the same samples (the synths, reverb and limiter are block-size invariant), and a file has no one
listening for the first block, so larger blocks only cut the per-block Python overhead (8192 → 32768:
−0.07 CPU s on a 1-minute render); the mix still streams, 256 KiB a block."""


def render_midi_file(midi_path: Path, out_path: Path, *, soundfont: Path | None = None,
                     sample_rate: int = 44100, tail_seconds: float = 2.0, target_lufs: float = -16.0,
                     peak_dbfs: float = -1.0, reverb: float = 0.25) -> dict:
    """Render a MIDI file to .wav/.flac; returns a report (layers, duration, loudness, peak)."""
    midi_path, out_path = Path(midi_path), Path(out_path)
    audio_format(out_path)  # refuse a bad extension before spending time rendering
    score = read_midi(midi_path, sample_rate)
    synths = {part.name: _synth_for(part, sample_rate, soundfont) for part in score.parts}
    mixer = Mixer(list(synths), sample_rate, reverb=reverb, ceiling_dbfs=peak_dbfs)
    frames = score.end_sample + int(round(tail_seconds * sample_rate))
    with Spool(sample_rate=sample_rate) as spool:  # streamed to disk: memory does not grow with the length of the piece
        for mix, _ in pull_blocks(synths, mixer, frames, block=FILE_BLOCK, keep_stems=False):
            spool.write(mix)
        loudness = write_normalised(spool, out_path, sample_rate, target_lufs=target_lufs, peak_dbfs=peak_dbfs)
    layers = {part.name: {"program": part.program, "drums": part.is_drums, "notes": part.notes,
                          "preset": synths[part.name].preset_name} for part in score.parts}
    return {"midi": str(midi_path), "out": str(out_path), "sample_rate": sample_rate,
            "seconds": frames / sample_rate, "layers": layers, **loudness}
