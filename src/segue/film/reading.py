"""Open whatever the editor handed over — Fountain, SRT, CSV or YAML — as a timed :class:`Script`.

The file kind follows the extension (``.fountain``/``.spmd``/``.txt``, ``.srt``, ``.csv``/``.tsv``,
``.yaml``/``.yml``). Bytes are checked before anything is parsed: a binary file, a file too big to
be a script, or an empty one is refused with a :class:`FilmError` saying so.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

from segue.film.errors import FilmError
from segue.film.fountain import parse_fountain
from segue.film.scenelist import parse_scene_csv, parse_scene_yaml
from segue.film.script import Script
from segue.film.subtitles import parse_srt
from segue.film.timecode import FrameRate, frame_rate, parse_timecode
from segue.film.timing import TimingOptions, apply_timing, estimate_times

MAX_BYTES = 20_000_000
"""A 400-page screenplay is about 1 MB; anything past 20 MB is not a script."""
FOUNTAIN_EXT = {".fountain", ".spmd", ".txt", ".ftn", ".text", ""}
SRT_EXT = {".srt"}
CSV_EXT = {".csv", ".tsv"}
YAML_EXT = {".yaml", ".yml"}


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """Frame rate, start timecode and timing estimates for reading a script."""

    fps: FrameRate | str | float | None = None
    start: str | float | None = None
    timing: TimingOptions = TimingOptions()
    length: float | None = None
    """Film length in seconds when the script's last scene ends earlier (end credits …)."""


def decode_text(data: bytes, source: str) -> str:
    """Bytes → text, refusing binary junk with a clear message."""
    if len(data) > MAX_BYTES:
        raise FilmError(f"{source}: {len(data) / 1e6:.0f} MB is too big for a script (the limit is "
                        f"{MAX_BYTES / 1e6:.0f} MB)")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise FilmError(f"{source}: not readable text (broken UTF-16)") from None
    elif b"\x00" in data[:65536]:
        raise FilmError(f"{source}: this is a binary file, not a script (Fountain, SRT, CSV or YAML text)")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    sample = text[:65536]
    if sample:
        bad = sum(1 for ch in sample if unicodedata.category(ch) in ("Cc", "Co", "Cs", "Cn") and ch not in "\n\r\t\f")
        bad += sample.count("\ufffd")
        if bad > max(8, len(sample) // 100):
            raise FilmError(f"{source}: this looks like a binary file, not a script ({bad} control characters "
                            "in the first 64 KB)")
    if not text.strip():
        raise FilmError(f"{source}: the file is empty")
    return text


def read_text(path: Path) -> str:
    try:
        if path.is_dir():
            raise FilmError(f"{path}: is a folder, not a script")
        data = path.read_bytes()
    except FileNotFoundError:
        raise FilmError(f"{path}: no such file") from None
    except OSError as exc:
        raise FilmError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return decode_text(data, str(path))


def kind_of(path: Path, text: str | None = None) -> str:
    ext = path.suffix.lower()
    if ext in SRT_EXT:
        return "srt"
    if ext in CSV_EXT:
        return "csv"
    if ext in YAML_EXT:
        return "yaml"
    if ext in FOUNTAIN_EXT:
        if text is not None and "-->" in text[:2000] and ext in (".txt", ""):
            return "srt"
        return "fountain"
    raise FilmError(f"{path.name}: don't know how to read {ext!r} files; use .fountain, .srt, .csv or .yaml")


def parse_text(text: str, kind: str, source: str, opt: ReadOptions, *, estimate: bool = True) -> Script:
    """Parse text of a known kind and (unless ``estimate`` is False) time it."""
    rate = frame_rate(opt.fps) if opt.fps is not None else None
    offset = parse_timecode(opt.start, rate, what="start timecode") if opt.start not in (None, "") else None
    if kind == "fountain":
        script = parse_fountain(text, source)
    elif kind == "srt":
        script = parse_srt(text, source, rate=rate, offset=offset or 0.0)
    elif kind == "csv":
        script = parse_scene_csv(text, source, rate=rate, offset=offset or 0.0)
    elif kind == "yaml":
        from ruamel.yaml import YAML
        from ruamel.yaml.error import YAMLError

        try:
            data = YAML(typ="safe").load(text)
        except YAMLError as exc:
            raise FilmError(f"{source}: not valid YAML ({str(exc).splitlines()[0]})") from None
        script, _, _ = parse_scene_yaml(data, source, rate=rate, offset=offset)
    else:
        raise FilmError(f"unknown script kind {kind!r}")
    if opt.length is not None:
        if not opt.length > 0:
            raise FilmError(f"film length must be positive, got {opt.length}")
        script.length = max(script.length, float(opt.length))
    return estimate_times(script, opt.timing) if estimate else script


def load_script(path: str | Path, opt: ReadOptions | None = None, timing: str | Path | None = None) -> Script:
    """Read a script or scene list; ``timing`` (a CSV/YAML scene list) times a screenplay's scenes."""
    opt = opt or ReadOptions()
    path = Path(path)
    text = read_text(path)
    script = parse_text(text, kind_of(path, text), str(path), opt, estimate=timing is None)
    if timing is not None:
        tpath = Path(timing)
        ttext = read_text(tpath)
        tkind = kind_of(tpath, ttext)
        if tkind not in ("csv", "yaml", "srt"):
            raise FilmError(f"{tpath}: a timing file is a scene list (.csv or .yaml)")
        times = parse_text(ttext, tkind, str(tpath), opt)
        apply_timing(script, times)
        estimate_times(script, opt.timing)
    return script
