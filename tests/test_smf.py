"""Segue's own Standard MIDI File reader (segue.audio.smf) reads what mido reads: the same events at the
same ticks on real files and on hundreds of corrupted ones, and refuses what mido refuses."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import mido
import pytest

from segue.audio.smf import BEND, CONTROL, NOTE_OFF, NOTE_ON, PROGRAM, TEMPO, SMFError, parse_smf
from segue.evaluation_run import examples_dir
from segue.export.midi import write_midi
from segue.pipeline import compose
from segue.spec import load_spec

REPRO = Path(__file__).parent / "data" / "repro"


def mido_events(data: bytes, path: Path) -> list[tuple[int, str, int, int, int]]:
    """The same events read the old way: mido.MidiFile(clip=True) and merge_tracks, absolute ticks."""
    path.write_bytes(data)
    midi = mido.MidiFile(str(path), clip=True)
    tick, out = 0, []
    for m in mido.merge_tracks(midi.tracks):
        tick += m.time
        if m.type == "set_tempo":
            out.append((tick, TEMPO, 0, m.tempo, 0))
        elif m.type in ("note_on", "note_off"):
            out.append((tick, m.type, m.channel, m.note, m.velocity))
        elif m.type == "program_change":
            out.append((tick, PROGRAM, m.channel, m.program, 0))
        elif m.type == "control_change":
            out.append((tick, CONTROL, m.channel, m.control, m.value))
        elif m.type == "pitchwheel":
            out.append((tick, BEND, m.channel, m.pitch, 0))
    return out


@pytest.fixture(scope="module")
def composed(tmp_path_factory) -> list[bytes]:
    folder = tmp_path_factory.mktemp("smf")
    files = []
    for name, seed in (("fantasy_game.yaml", 3), ("dark_ambient.yaml", 1), ("light_orchestral_film.yaml", 2)):
        spec_path = examples_dir() / name
        if not spec_path.exists():
            continue
        files.append(write_midi(compose(load_spec(spec_path), bars=12, seed=seed), folder / f"{name}.mid").read_bytes())
    assert len(files) >= 2
    return files


def test_real_files_read_as_mido_reads_them(composed, tmp_path) -> None:
    others = [REPRO / "midi_ppq1_9.8_hours.mid", REPRO / "midi_37_bytes_77_hours.mid"]
    for data in composed + [p.read_bytes() for p in others]:
        ours = parse_smf(data)
        assert ours.events == mido_events(data, tmp_path / "a.mid")
        assert ours.events and any(kind == NOTE_ON for _, kind, *_ in ours.events)


def test_corrupted_files_are_read_or_refused_as_mido_does(composed, tmp_path) -> None:
    """300 mutants (bytes changed, cut out, inserted): where mido reads a file we read the same events;
    where it refuses, we refuse with SMFError (never another exception). Known, deliberate differences
    (a system real-time byte mido cannot parse, a header that promises more than the file has) stay rare."""
    rng = random.Random(7)
    agree = 0
    for i in range(300):
        data = bytearray(composed[i % len(composed)])
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(len(data))
            op = rng.random()
            if op < 0.6:
                data[pos] = rng.randrange(256)
            elif op < 0.8:
                del data[pos : pos + rng.randint(1, 8)]
            else:
                data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
        try:
            theirs = mido_events(bytes(data), tmp_path / "m.mid")
        except Exception:  # noqa: BLE001 — mido refuses in many ways
            theirs = None
        try:
            ours = parse_smf(bytes(data)).events
        except SMFError:
            ours = None
        agree += ours == theirs
    assert agree >= 297


def _file(*tracks: bytes, fmt: int = 1, division: int = 480, extra: bytes = b"") -> bytes:
    head = b"MThd" + struct.pack(">Lhhh", 6, fmt, len(tracks), division)
    return head + extra + b"".join(b"MTrk" + struct.pack(">L", len(t)) + t for t in tracks)


def test_running_status_sysex_clipping_and_unknown_chunks() -> None:
    track = bytes([0x00, 0x90, 60, 100,  # note on
                   0x10, 64, 90,  # running status: another note on, 16 ticks later
                   0x00, 0xF0, 0x03, 0x7E, 0x01, 0xF7,  # sysex, skipped
                   0x00, 0xB1, 7, 200,  # a data byte above 127: clipped to 127
                   0x00, 0xE2, 0x00, 0x40,  # pitch bend centre
                   0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20,  # tempo 500000
                   0x81, 0x00, 0x80, 60, 0,  # note off 128 ticks later
                   0x00, 0xFF, 0x2F, 0x00])
    data = _file(track, extra=b"XYZW" + struct.pack(">L", 3) + b"abc")
    assert parse_smf(data).events == [(0, NOTE_ON, 0, 60, 100), (16, NOTE_ON, 0, 64, 90), (16, CONTROL, 1, 7, 127),
                                      (16, BEND, 2, 0, 0), (16, TEMPO, 0, 500000, 0), (144, NOTE_OFF, 0, 60, 0)]


def test_merged_tracks_keep_track_order_at_one_tick() -> None:
    a = bytes([0x00, 0xC0, 5, 0x00, 0xFF, 0x2F, 0x00])
    b = bytes([0x00, 0xC1, 7, 0x00, 0xFF, 0x2F, 0x00])
    assert [e[2] for e in parse_smf(_file(a, b)).events] == [0, 1]
    assert [e[2] for e in parse_smf(_file(b, a)).events] == [1, 0]


@pytest.mark.parametrize("track,reason", [
    (bytes([0x00, 0xFF, 0x51, 0x02, 0x07, 0xA1]), "too few"),  # a tempo of two bytes
    (bytes([0x00, 0xFF, 0x59, 0x02, 0x00, 55]), "could not decode key"),
    (bytes([0x00, 60, 100]), "running status"),
    (bytes([0x00, 0x90, 60]), "ends in the middle"),
    (bytes([0x00, 0xF4]), "undefined status"),
])
def test_what_mido_refuses_we_refuse(track: bytes, reason: str, tmp_path) -> None:
    data = _file(track)
    with pytest.raises(SMFError, match=reason):
        parse_smf(data)
    with pytest.raises(Exception):  # noqa: B017 — mido's own exception types vary
        mido_events(data, tmp_path / "r.mid")


def test_not_a_midi_file() -> None:
    with pytest.raises(SMFError, match="MThd"):
        parse_smf(b"RIFF....WAVEfmt ")
    with pytest.raises(SMFError, match="ends in the middle"):
        parse_smf(_file(bytes([0x00, 0x90, 60, 100]))[:-2])
