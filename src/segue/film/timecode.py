"""Timecode and frame rates: the film's clock, converted to and from seconds.

Picture editors count *frames*, not seconds. A timecode label ``01:00:10:12`` names a frame; at
23.976 or 29.97 fps each frame lasts 1001/24000 or 1001/30000 s, so the label runs slightly
slower than the wall clock (non-drop-frame). 29.97 drop-frame (``;`` before the frames) skips
frame *labels* 00 and 01 each minute except every tenth minute so that its labels stay close to
real time. Everything inside Segue works in seconds (film time from the first frame); this module
is the only place that knows about frame labels.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

from segue.film.errors import FilmError


@dataclass(frozen=True, slots=True)
class FrameRate:
    """A picture frame rate: exact frames per second, the nominal label rate and drop-frame labelling."""

    fps: Fraction
    nominal: int
    drop: bool = False

    @property
    def frame_seconds(self) -> float:
        return float(1 / self.fps)

    @property
    def name(self) -> str:
        if self.fps.denominator == 1:
            return str(self.fps.numerator)
        return f"{float(self.fps):.3f}".rstrip("0") + (" DF" if self.drop else "")

    def __str__(self) -> str:
        return self.name


_RATES: dict[str, FrameRate] = {
    "23.976": FrameRate(Fraction(24000, 1001), 24),
    "23.98": FrameRate(Fraction(24000, 1001), 24),
    "24": FrameRate(Fraction(24), 24),
    "25": FrameRate(Fraction(25), 25),
    "29.97": FrameRate(Fraction(30000, 1001), 30),
    "29.97df": FrameRate(Fraction(30000, 1001), 30, drop=True),
    "30": FrameRate(Fraction(30), 30),
    "50": FrameRate(Fraction(50), 50),
    "59.94": FrameRate(Fraction(60000, 1001), 60),
    "60": FrameRate(Fraction(60), 60),
}
SUPPORTED_RATES = ("23.976", "24", "25", "29.97", "29.97df", "30", "50", "59.94", "60")


def frame_rate(value: str | float | int | FrameRate | None) -> FrameRate:
    """A :class:`FrameRate` from ``24``, ``"23.976"``, ``29.97``, ``"29.97df"``; 24 when None."""
    if value is None:
        return _RATES["24"]
    if isinstance(value, FrameRate):
        return value
    text = str(value).strip().lower().replace(" ", "").replace("fps", "")
    text = text.replace("drop", "df").replace("-df", "df")
    if text.endswith(".0"):
        text = text[:-2]
    if text in _RATES:
        return _RATES[text]
    try:
        x = float(text)
    except ValueError:
        x = math.nan
    for key, rate in _RATES.items():
        if not rate.drop and math.isfinite(x) and abs(float(rate.fps) - x) < 0.005:
            return rate
    raise FilmError(f"unsupported frame rate {value!r}; use one of {', '.join(SUPPORTED_RATES)}")


_TC = re.compile(r"^(\d{1,3}):(\d{1,2}):(\d{1,2})([:;])(\d{1,3})$|^()(\d{1,2}):(\d{1,2})(;)(\d{1,3})$")
"""Frames: ``HH:MM:SS:FF`` — four fields — or ``HH:MM:SS;FF`` / ``MM:SS;FF`` (drop-frame)."""
_THREE = re.compile(r"^\d{1,3}:\d{1,2}:\d{1,2}$")
"""Three fields without a fraction: read as ``HH:MM:SS`` (a clock), never as ``MM:SS:FF``."""


def is_three_field(text: object) -> bool:
    """``00:03:00``: a clock time by Segue's rule, but an editor may have meant minutes, seconds, frames."""
    return isinstance(text, str) and bool(_THREE.match(text.strip()))


def three_field_warning(source: str, example: str) -> str:
    return (f"{source}: timecodes with three fields (like {example!r}) are read as HH:MM:SS (hours, minutes, "
            "seconds); write HH:MM:SS:FF for frames or HH:MM:SS.mmm for milliseconds to be explicit")
_CLOCK = re.compile(r"^(\d{1,3}:){0,2}\d{1,2}(?:[.,]\d+)?$|^\d+(?:[.,]\d+)?$")
_UNITS = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m(?!s))?\s*(?:(\d+(?:\.\d+)?)s)?$")


def _drop_frame_number(h: int, m: int, s: int, f: int) -> int:
    total_minutes = 60 * h + m
    return (3600 * h + 60 * m + s) * 30 + f - 2 * (total_minutes - total_minutes // 10)


def parse_timecode(text: str | float | int, rate: FrameRate | None = None, *, what: str = "timecode") -> float:
    """Seconds from a timecode or clock time.

    The rules, by the number of fields: four (``HH:MM:SS:FF``) are frames (``;`` before the frames
    means drop-frame, also ``MM:SS;FF``); three (``HH:MM:SS``, ``HH:MM:SS.mmm``, ``HH:MM:SS,mmm``) are
    a clock — hours, minutes, seconds — never minutes, seconds, frames (readers warn, see
    :func:`is_three_field`); two (``MM:SS``, ``MM:SS.mmm``) are minutes and seconds; one is seconds
    (``83.4``); and ``1m23.4s``. Frame labels need ``rate`` (24 fps if None). Raises
    :class:`FilmError` naming ``what``.
    """
    rate = rate or frame_rate(None)
    if isinstance(text, bool):
        raise FilmError(f"{what}: {text!r} is not a time")
    if isinstance(text, (int, float)):
        if not math.isfinite(text) or text < 0:
            raise FilmError(f"{what}: {text!r} is not a time ≥ 0")
        return float(text)
    t = str(text).strip()
    if not t:
        raise FilmError(f"{what}: empty time")
    m = _TC.match(t)
    if m:
        g = m.groups()[:5] if m.group(2) is not None else m.groups()[5:]
        h, mi, s, sep, f = int(g[0] or 0), int(g[1]), int(g[2]), g[3], int(g[4])
        if mi > 59 or s > 59:
            raise FilmError(f"{what}: {t!r} has minutes or seconds above 59")
        if f >= rate.nominal:
            raise FilmError(f"{what}: {t!r} has frame {f}, but {rate.name} fps counts frames 0..{rate.nominal - 1}")
        if sep == ";" or rate.drop:
            if rate.nominal != 30:
                raise FilmError(f"{what}: drop-frame timecode ({t!r}) needs 29.97 fps")
            if f < 2 and s == 0 and mi % 10 != 0:
                raise FilmError(f"{what}: {t!r} is a dropped frame label (29.97 DF skips frames 00 and 01)")
            frames = _drop_frame_number(h, mi, s, f)
        else:
            frames = ((h * 60 + mi) * 60 + s) * rate.nominal + f
        return float(Fraction(frames) / rate.fps)
    if _CLOCK.match(t):
        parts = t.replace(",", ".").split(":")
        s = float(parts[-1])
        mi = int(parts[-2]) if len(parts) >= 2 else 0
        h = int(parts[-3]) if len(parts) >= 3 else 0
        if (len(parts) >= 2 and s >= 60) or (len(parts) >= 3 and mi > 59):
            raise FilmError(f"{what}: {t!r} has minutes or seconds above 59")
        return h * 3600 + mi * 60 + s
    m = _UNITS.match(t.lower())
    if m and any(m.groups()):
        return sum(float(g) * k for g, k in zip(m.groups(), (3600, 60, 1)) if g)
    raise FilmError(f"{what}: {t!r} is not a timecode (use HH:MM:SS:FF, HH:MM:SS.mmm or seconds)")


def frames_at(seconds: float, rate: FrameRate) -> int:
    """The frame showing at ``seconds`` (rounded to the nearest frame start)."""
    return int(round(Fraction(seconds).limit_denominator(10**9) * rate.fps))


def format_timecode(seconds: float, rate: FrameRate | None = None) -> str:
    """``HH:MM:SS:FF`` of the nearest frame (``;`` before the frames for drop-frame)."""
    rate = rate or frame_rate(None)
    frames = max(frames_at(seconds, rate), 0)
    if rate.drop:
        per10 = 17982  # frames in ten drop-frame minutes
        d, mrem = divmod(frames, per10)
        frames += 18 * d + (2 * ((mrem - 2) // 1798) if mrem > 1 else 0)
    n = rate.nominal
    h, rem = divmod(frames, 3600 * n)
    mi, rem = divmod(rem, 60 * n)
    s, f = divmod(rem, n)
    return f"{h:02d}:{mi:02d}:{s:02d}{';' if rate.drop else ':'}{f:02d}"


def format_clock(seconds: float) -> str:
    """``HH:MM:SS.mmm`` — real time, for reports and SRT-like displays."""
    ms = int(round(max(seconds, 0.0) * 1000))
    h, rem = divmod(ms, 3600_000)
    mi, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{mi:02d}:{s:02d}.{ms:03d}"


def smpte_fields(seconds: float, rate: FrameRate) -> tuple[int, int, int, int, int]:
    """(hours, minutes, seconds, frames, sub-frames/100) of a timecode label, for a MIDI SMPTE offset."""
    label = format_timecode(seconds, rate)
    h, mi, s, f = (int(x) for x in re.split(r"[:;]", label))
    exact = Fraction(seconds).limit_denominator(10**9) * rate.fps
    sub = int((exact - math.floor(exact)) * 100) if exact >= 0 else 0
    if frames_at(seconds, rate) > exact:  # the label rounded up: no sub-frames left
        sub = 0
    return h % 24, mi, s, f, min(max(sub, 0), 99)
