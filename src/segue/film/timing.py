"""Scene lengths: from timecodes when the editor has them, otherwise estimated from the page.

The industry rule of thumb is *a page a minute*: a screenplay page (Courier 12, about 55 lines)
plays for roughly a minute. Action and headings are measured that way, by the lines they fill on
a page (action wraps at about 60 characters). Dialogue is measured by what actors say — words
at a speaking rate (about 150 words per minute) — because a page of rapid-fire dialogue plays
faster than a page of action. Every number is an option, and any scene can be given its length
with a ``[[duration: 1:20]]`` note or a scene list.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from segue.film.errors import FilmError
from segue.film.script import Hit, Scene, Script

MAX_FILM_SECONDS = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class TimingOptions:
    """How a script's length is estimated (all overridable from the CLI)."""

    lines_per_page: float = 55.0
    seconds_per_page: float = 60.0
    dialogue_wpm: float = 150.0
    action_width: int = 60
    min_scene_seconds: float = 3.0

    def __post_init__(self) -> None:
        for name in ("lines_per_page", "seconds_per_page", "dialogue_wpm", "min_scene_seconds"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise FilmError(f"timing option {name} must be a positive number, got {v!r}")

    @property
    def seconds_per_line(self) -> float:
        return self.seconds_per_page / self.lines_per_page


def page_lines(text: str, width: int) -> int:
    """Lines a paragraph fills on the page, wrapping at ``width`` characters."""
    return sum(max(1, math.ceil(len(line.strip()) / width)) for line in text.split("\n") if line.strip()) or 1


def element_seconds(kind: str, text: str, opt: TimingOptions) -> float:
    """How long one element plays on screen."""
    if kind in ("dialogue", "subtitle"):
        words = len(text.split())
        return max(words / opt.dialogue_wpm * 60.0, 0.8)
    if kind == "lyric":
        return max(len(text.split()) / (opt.dialogue_wpm * 0.6) * 60.0, 1.0)
    if kind in ("action", "description", "centered"):
        return (page_lines(text, opt.action_width) + 1) * opt.seconds_per_line
    if kind == "transition":
        return 2 * opt.seconds_per_line
    return 0.0  # character cues, parentheticals, notes, sections: not on screen by themselves


def estimate_times(script: Script, opt: TimingOptions | None = None) -> Script:
    """Give every untimed scene a start and end (in order, from 0) and every element an offset."""
    opt = opt or TimingOptions()
    t = 0.0
    for sc in script.scenes:
        if sc.timed and sc.elements and all(e.kind == "subtitle" for e in sc.elements):
            t = sc.end  # subtitles carry their own times
            continue
        heading = 2 * opt.seconds_per_line if not sc.heading.startswith("(") else 0.0
        offset = heading
        for el in sc.elements:
            el.duration = element_seconds(el.kind, el.text, opt)
            el.offset = offset
            offset += el.duration
        estimate = max(offset, opt.min_scene_seconds)
        if sc.timed:
            _scale_offsets(sc, offset)
            t = sc.end
            continue
        length = sc.duration_override if sc.duration_override else estimate
        if sc.duration_override:
            _scale_offsets(sc, offset)
        sc.start, sc.end = t, t + length
        t = sc.end
    script.length = max(script.length, max((s.end for s in script.scenes), default=0.0))
    if script.length > MAX_FILM_SECONDS:
        raise FilmError(f"{script.source}: the film would last {script.length / 3600:.1f} hours; "
                        "Segue reads films up to 24 hours (split it into reels)")
    resolve_script_hits(script)
    return script


def _scale_offsets(sc: Scene, estimated: float) -> None:
    """Stretch the estimated element offsets onto the scene's real length."""
    if estimated <= 0:
        return
    k = sc.duration / estimated
    for el in sc.elements:
        el.offset *= k
        el.duration *= k


def resolve_script_hits(script: Script) -> None:
    """Turn ``[[hit]]`` notes (an element of a scene) into timed hit points at that element's start."""
    for sc in script.scenes:
        for idx, label in sc.pending_hits:
            if not sc.elements:
                t = sc.start
                src = f"{script.source}:{sc.line}"
            else:
                el = sc.elements[min(idx, len(sc.elements) - 1)]
                t = sc.start + el.offset
                src = f"{script.source}:{el.line}"
            # a timecoded hit with the same label (from a scene list) is the same hit, placed exactly
            if not any(abs(h.time - t) < 0.25 or h.label.strip().lower() == label.strip().lower() for h in sc.hits):
                sc.hits.append(Hit(round(t, 3), label, src))
        sc.pending_hits.clear()
        sc.hits.sort(key=lambda h: h.time)


def apply_timing(script: Script, timing: Script) -> Script:
    """Put a scene list's timecodes (and hits) on a script's scenes: by scene number, else in order."""
    if not timing.scenes:
        raise FilmError(f"{timing.source}: the scene list has no scenes")
    by_number = {s.number: s for s in timing.scenes if s.number}
    numbered = [s for s in script.scenes if s.number]
    if numbered and len(by_number) == len(timing.scenes) and all(s.number in by_number for s in numbered) \
            and len(numbered) == len(script.scenes):
        pairs = [(s, by_number[s.number]) for s in script.scenes]
    elif len(timing.scenes) == len(script.scenes):
        pairs = list(zip(script.scenes, timing.scenes))
    else:
        raise FilmError(f"{timing.source}: the scene list has {len(timing.scenes)} scene(s) but "
                        f"{script.source} has {len(script.scenes)}; number the scenes (#1# in Fountain, a "
                        "'scene' column in the list) or give one row per scene")
    for sc, row in pairs:
        sc.start, sc.end, sc.timed = row.start, row.end, True
        sc.hits.extend(row.hits)
        if row.mood and not sc.mood:
            sc.mood = row.mood
    script.length = max(timing.length, max(s.end for s in script.scenes))
    script.warnings.extend(timing.warnings)
    script.fps = timing.fps or script.fps
    script.start_tc = timing.start_tc if timing.start_tc is not None else script.start_tc
    return script
