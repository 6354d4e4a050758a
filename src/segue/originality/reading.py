"""Reading a music file as *works*, each with every melodic line worth comparing.

A tune can hide anywhere in a file: in its own track, in the top of a piano part, or in an
inner voice of a chorale. So every part (MIDI: every track and channel; notation: every part
and every written voice) becomes a line through :func:`~segue.originality.melody.skyline`, and
the skyline of all parts together becomes one more. Identical lines are kept once.

MIDI is read directly with mido (fast; drums on channel 10 left out, like
:mod:`segue.style.reading` does). MusicXML and ABC go through music21, imported only when such a
file is read; ties are merged first (``stripTies``) so that a tied note is one note, as in MIDI.
An ABC book holds many tunes: each is its own work.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path

from segue.originality.bars import BarGrid
from segue.originality.errors import OriginalityError
from segue.originality.melody import MIN_NOTES, Line, Triple, skyline
from segue.style.reading import DRUM_CHANNEL, MIDI_SUFFIXES, MUSIC_SUFFIXES


@dataclass
class Work:
    """One piece: where it came from, its bar layout and its melodic lines (each ≥ MIN_NOTES notes)."""

    ident: str  # stable key in an index: "ryansMammoth/BanishMisfortune.abc" or an absolute path, "#n" per tune
    title: str
    collection: str
    source: str
    lines: list[Line]
    bars: BarGrid = field(default_factory=BarGrid)
    digest: str = ""  # sha256 of the file's bytes: an unchanged file is not indexed twice


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_works(path: str | Path, ident: str | None = None, collection: str = "user") -> list[Work]:
    """Every work in one MIDI, MusicXML or ABC file, or a clear :class:`OriginalityError`.

    Raised for: a missing file, an empty file, a file of another kind, a corrupt file, a file
    with only drums, and a file whose longest line has fewer than ``MIN_NOTES`` notes.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise OriginalityError(f"{p}: no such file")
    if not p.is_file():
        raise OriginalityError(f"{p}: not a file (give a MIDI, MusicXML or ABC file)")
    if p.stat().st_size == 0:
        raise OriginalityError(f"{p}: the file is empty")
    suffix = p.suffix.lower()
    if suffix not in MUSIC_SUFFIXES:
        raise OriginalityError(f"{p}: not a music file Segue reads (expected one of {', '.join(MUSIC_SUFFIXES)})")
    ident = ident or str(p.resolve())
    digest = file_digest(p)
    if suffix in MIDI_SUFFIXES:
        works = [_read_midi(p, ident, collection)]
    else:
        works = _read_notation(p, ident, collection)
    for w in works:
        w.digest = digest
    return works


def _usable(lines: list[Line], where: str, pitched_notes: int) -> list[Line]:
    """Lines long enough to compare, duplicates dropped; an OriginalityError when none is left."""
    kept: list[Line] = []
    for line in lines:
        if len(line) >= MIN_NOTES and not any(line.same_notes(k) for k in kept):
            kept.append(line)
    if not kept:
        longest = max((len(line) for line in lines), default=0)
        raise OriginalityError(f"{where}: too few notes to compare ({pitched_notes} pitched notes, longest line "
                               f"{longest}); a melody needs at least {MIN_NOTES} notes")
    return kept


# ---------------------------------------------------------------- MIDI


def _read_midi(path: Path, ident: str, collection: str) -> Work:
    import mido

    try:
        mid = mido.MidiFile(str(path))
    except Exception as exc:  # mido raises OSError, EOFError, ValueError, KeyError… on damaged files
        raise OriginalityError(f"{path}: not a readable MIDI file ({type(exc).__name__}: {exc})") from exc
    if mid.type == 2:
        raise OriginalityError(f"{path}: MIDI type 2 (independent sequences) is not supported")
    tpb = mid.ticks_per_beat
    if not tpb or tpb <= 0:
        raise OriginalityError(f"{path}: SMPTE-timed MIDI is not supported (ticks per beat must be positive)")
    meters: list[tuple[float, int, int]] = []
    parts: dict[tuple[int, int], list[Triple]] = defaultdict(list)
    names: dict[int, str] = {}
    drums = 0
    for ti, track in enumerate(mid.tracks):
        tick = 0
        held: dict[tuple[int, int], deque[int]] = defaultdict(deque)
        for msg in track:
            tick += msg.time
            if msg.type == "track_name" and ti not in names and msg.name.strip():
                names[ti] = msg.name.strip()
            elif msg.type == "time_signature":
                meters.append((tick / tpb, msg.numerator, msg.denominator))
            elif msg.type in ("note_on", "note_off"):
                if msg.channel == DRUM_CHANNEL:
                    drums += msg.type == "note_on" and msg.velocity > 0
                    continue
                key = (msg.channel, msg.note)
                if msg.type == "note_on" and msg.velocity > 0:
                    held[key].append(tick)
                elif held[key]:
                    start = held[key].popleft()
                    if tick > start:
                        parts[(ti, msg.channel)].append((msg.note, start / tpb, (tick - start) / tpb))
        for (ch, pitch), starts in held.items():  # notes never released end with their track
            parts[(ti, ch)].extend((pitch, s / tpb, (tick - s) / tpb) for s in starts if tick > s)
    pitched = sum(len(v) for v in parts.values())
    if pitched == 0:
        if drums:
            raise OriginalityError(f"{path}: only drums (MIDI channel 10, {drums} notes): there is no melody to compare")
        raise OriginalityError(f"{path}: the MIDI file has no notes")
    lines = [skyline(_track_label(ti, ch, names.get(ti), len(mid.tracks)), notes)
             for (ti, ch), notes in sorted(parts.items())]
    if len(parts) > 1:
        lines.append(skyline("skyline of all parts", (n for notes in parts.values() for n in notes)))
    # in a multi-track file, the name of a first track without notes is the song's title
    conductor_only = len(mid.tracks) > 1 and not any(ti == 0 for ti, _ in parts)
    title = names.get(0) if conductor_only else None
    return Work(ident, title or path.stem, collection, str(path), _usable(lines, str(path), pitched),
                BarGrid.from_meter_changes(meters))


def _track_label(track: int, channel: int, name: str | None, tracks: int) -> str:
    where = f"track {track + 1}, channel {channel + 1}" if tracks > 1 else f"channel {channel + 1}"
    return f"{where} ({name})" if name else where


# ---------------------------------------------------------------- notation (music21, imported lazily)


def _read_notation(path: Path, ident: str, collection: str) -> list[Work]:
    try:
        from music21 import converter, stream

        parsed = converter.parse(str(path), forceSource=True)
    except Exception as exc:  # music21 raises many kinds of errors on bad files
        raise OriginalityError(f"{path}: not a readable {path.suffix.lstrip('.')} file ({type(exc).__name__}: "
                               f"{str(exc)[:200]})") from exc
    scores = list(parsed.scores) if isinstance(parsed, stream.Opus) else [parsed]
    if not scores:
        raise OriginalityError(f"{path}: the file holds no music")
    works: list[Work] = []
    problems: list[str] = []
    for i, score in enumerate(scores, start=1):
        tag = f"#{i}" if len(scores) > 1 else ""
        try:
            works.append(_score_work(score, path, ident + tag, collection, tag))
        except OriginalityError as exc:
            problems.append(str(exc))
        except Exception as exc:  # one strange tune must not lose the rest of a book
            problems.append(f"{path}{tag}: {type(exc).__name__}: {exc}")
    if not works:
        raise OriginalityError(problems[0] if len(problems) == 1 else f"{path}: no tune could be read "
                               f"({len(problems)} tried; first problem: {problems[0]})")
    return works


def _score_work(score, path: Path, ident: str, collection: str, tag: str) -> Work:
    from music21 import chord, harmony, meter, note, percussion, stream

    def pitched(s) -> list[Triple]:
        out: list[Triple] = []
        for n in s.flatten().notes:
            if isinstance(n, (harmony.ChordSymbol, percussion.PercussionChord)):
                continue
            if not isinstance(n, (note.Note, chord.Chord)) or not n.pitches:
                continue
            dur = float(n.duration.quarterLength)
            if dur > 0:
                out.extend((p.midi, float(n.offset), dur) for p in n.pitches)
        return out

    parts = list(score.parts) or [score]
    lines: list[Line] = []
    everything: list[Triple] = []
    for k, part in enumerate(parts, start=1):
        part.stripTies(inPlace=True)
        notes = pitched(part)
        if not notes:
            continue
        label = part.partName.strip() if part.partName and part.partName.strip() else f"part {k}"
        lines.append(skyline(label if len(parts) > 1 else "melody", notes))
        everything += notes
        if any(True for _ in part.recurse().getElementsByClass(stream.Voice)):
            for v, voice in enumerate(part.voicesToParts().parts, start=1):
                lines.append(skyline(f"{label}, voice {v}", pitched(voice)))
    where = f"{path}{tag}"
    if not everything:
        raise OriginalityError(f"{where}: no pitched notes (only rests or unpitched percussion): "
                               "there is no melody to compare")
    if len(lines) > 1:
        lines.append(skyline("skyline of all parts", everything))
    first = parts[0]
    measures = [(float(m.offset), float(m.duration.quarterLength), int(m.number))
                for m in first.getElementsByClass(stream.Measure)]
    meters = [(float(ts.getOffsetInHierarchy(first)), int(ts.numerator), int(ts.denominator))
              for ts in first.recurse().getElementsByClass(meter.TimeSignature)]
    num, den = (meters[0][1], meters[0][2]) if meters else (4, 4)
    md = score.metadata
    title = (getattr(md, "bestTitle", None) or md.title if md is not None else None) or f"{path.stem}{tag}"
    return Work(ident, str(title), collection, str(path), _usable(lines, where, len(everything)),
                BarGrid.from_measures(measures, num, den, meters))
