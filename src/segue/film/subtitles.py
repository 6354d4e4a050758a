"""SRT subtitles as a script: dialogue with exact times, grouped into scenes at pauses.

Subtitles carry no scene headings, but an editor's SRT has what we need most — real times. A
pause in the dialogue longer than ``scene_gap`` seconds (or a block longer than ``max_scene``)
starts a new "scene"; scenes are joined edge to edge (a pause is split at its middle), so the
whole film is covered and the arc has no holes.
"""

from __future__ import annotations

import re

from segue.film.errors import FilmError
from segue.film.script import Element, Scene, Script
from segue.film.timecode import FrameRate, parse_timecode

_ARROW = re.compile(r"^\s*(\S+)\s*-->\s*(\S+)")
_TAG = re.compile(r"<[^>]{0,40}>|\{\\[^}]{0,40}\}")


def parse_srt(text: str, source: str = "<srt>", *, rate: FrameRate | None = None, offset: float = 0.0,
              scene_gap: float = 8.0, max_scene: float = 150.0) -> Script:
    """Read SRT text; ``offset`` (seconds) is subtracted from every time (the film's start timecode)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    subs: list[tuple[float, float, str, int]] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = _ARROW.match(lines[i])
        if not m:
            i += 1
            continue
        line_no = i + 1
        a = parse_timecode(m.group(1), rate, what=f"{source}:{line_no}: start") - offset
        b = parse_timecode(m.group(2), rate, what=f"{source}:{line_no}: end") - offset
        if b < a:
            raise FilmError(f"{source}:{line_no}: subtitle ends ({m.group(2)}) before it starts ({m.group(1)})")
        if a < 0:
            raise FilmError(f"{source}:{line_no}: subtitle starts before the film's first frame (start offset)")
        i += 1
        body = []
        while i < len(lines) and lines[i].strip() and not _ARROW.match(lines[i]):
            body.append(_TAG.sub("", lines[i]).strip())
            i += 1
        if body and re.fullmatch(r"\d+", body[-1]) and i < len(lines) and _ARROW.match(lines[i]):
            body.pop()  # the next block's index, with no blank line between
        words = " ".join(b for b in body if b)
        if words:
            subs.append((a, b, words, line_no))
    if not subs:
        raise FilmError(f"{source}: no subtitles found (expected blocks like '00:00:01,000 --> 00:00:03,500')")
    subs.sort(key=lambda s: (s[0], s[1]))
    groups: list[list[tuple[float, float, str, int]]] = [[subs[0]]]
    for sub in subs[1:]:
        last_end = max(s[1] for s in groups[-1])
        if sub[0] - last_end > scene_gap or sub[1] - groups[-1][0][0] > max_scene:
            groups.append([sub])
        else:
            groups[-1].append(sub)
    scenes: list[Scene] = []
    for k, g in enumerate(groups):
        start = 0.0 if k == 0 else (max(s[1] for s in groups[k - 1]) + g[0][0]) / 2
        sc = Scene(index=k, heading=f"SUBTITLES {k + 1}", line=g[0][3], timed=True, start=start)
        for a, b, words, ln in g:
            sc.elements.append(Element("subtitle", words, ln, offset=a - start, duration=b - a))
        scenes.append(sc)
    for k, sc in enumerate(scenes):
        sc.end = scenes[k + 1].start if k + 1 < len(scenes) else max(s[1] for s in groups[-1]) + 2.0
    return Script(title=source.rsplit("/", 1)[-1], scenes=scenes, source=source, kind="srt",
                  length=scenes[-1].end)
