"""Scene lists with timecodes (CSV or YAML): what an editor exports from a cut.

A row is a scene: where it starts and ends (or how long it lasts), optionally its heading, a
description (the words the affect analysis reads), a mood or direction in words, and hit points
(``00:01:18:12 door smash; 00:01:29:00``). Columns are found by name, case and spacing ignored:

=============  ==========================================================
scene          ``scene``, ``id``, ``number``, ``#``
start          ``start``, ``in``, ``tc in``, ``start tc``, ``timecode``
end            ``end``, ``out``, ``tc out``, ``end tc``
duration       ``duration``, ``length`` (when there is no end)
heading        ``heading``, ``slug``, ``slugline``, ``title``, ``name``
description    ``description``, ``text``, ``action``, ``summary``, ``synopsis``
mood           ``mood``, ``music``, ``direction``
hits           ``hits``, ``hit``, ``hit points``
=============  ==========================================================

Overlapping scenes are an error (two scenes cannot own the same frame); gaps are allowed and
reported — they are time with no scene, and no music unless a cue is stretched over them.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from segue.film.errors import FilmError
from segue.film.script import Element, Hit, Scene, Script
from segue.film.timecode import (
    FrameRate, format_timecode, frame_rate, is_three_field, parse_timecode, three_field_warning,
)

COLUMNS: dict[str, tuple[str, ...]] = {
    "scene": ("scene", "id", "number", "#", "no", "scene number"),
    "start": ("start", "in", "tc in", "start tc", "timecode", "timecode in", "record in", "rec in"),
    "end": ("end", "out", "tc out", "end tc", "timecode out", "record out", "rec out"),
    "duration": ("duration", "length", "dur"),
    "heading": ("heading", "slug", "slugline", "title", "name", "scene heading", "location"),
    "description": ("description", "text", "action", "summary", "synopsis", "notes", "content"),
    "mood": ("mood", "music", "direction"),
    "hits": ("hits", "hit", "hit points", "hitpoints", "sync points"),
}
_HIT_SPLIT = re.compile(r"[;|\n]+")
_HIT_TC = re.compile(r"^\s*(\S+)\s*(.*)$")


def _column_map(header: list[str], source: str) -> dict[str, int]:
    norm = [" ".join(re.sub(r"[_\-]+", " ", h or "").lower().split()) for h in header]
    found: dict[str, int] = {}
    for field, names in COLUMNS.items():
        for i, h in enumerate(norm):
            if h in names and field not in found:
                found[field] = i
    if "start" not in found and "duration" not in found:
        raise FilmError(f"{source}: no 'start' (or 'duration') column; the header was: {', '.join(header)}")
    return found


def _hits(text: str, rate: FrameRate, offset: float, where: str) -> list[Hit]:
    out = []
    for part in _HIT_SPLIT.split(text or ""):
        if not part.strip():
            continue
        m = _HIT_TC.match(part)
        t = parse_timecode(m.group(1), rate, what=f"{where}: hit") - offset
        out.append(Hit(t, m.group(2).strip() or "hit", where))
    return out


def rows_to_script(rows: list[dict[str, Any]], source: str, rate: FrameRate, offset: float,
                   where: list[str]) -> Script:
    """Scenes from already-split rows (dicts with the canonical field names)."""
    if not rows:
        raise FilmError(f"{source}: the scene list has no rows")
    scenes: list[Scene] = []
    prev_end: float | None = None
    for k, row in enumerate(rows):
        w = where[k]
        start_text = row.get("start")
        if start_text not in (None, ""):
            start = parse_timecode(start_text, rate, what=f"{w}: start") - offset
        elif prev_end is not None:
            start = prev_end
        else:
            start = 0.0
        if start < -1e-9:
            raise FilmError(f"{w}: starts at {start_text}, before the film's first frame "
                            f"({format_timecode(offset, rate)}); check the start offset")
        end_text, dur_text = row.get("end"), row.get("duration")
        if end_text not in (None, ""):
            end = parse_timecode(end_text, rate, what=f"{w}: end") - offset
        elif dur_text not in (None, ""):
            end = start + parse_timecode(dur_text, rate, what=f"{w}: duration")
        else:
            end = None  # until the next scene starts
        heading = str(row.get("heading") or "").strip()
        number = str(row.get("scene")).strip() if row.get("scene") not in (None, "") else None
        sc = Scene(index=k, heading=heading.upper() or f"SCENE {number or k + 1}", line=k + 1, number=number,
                   start=start, end=end if end is not None else -1.0, timed=True)
        desc = str(row.get("description") or "").strip()
        if desc:
            sc.elements.append(Element("description", desc, k + 1))
        mood = str(row.get("mood") or "").strip()
        sc.mood = mood or None
        sc.hits = _hits(str(row.get("hits") or ""), rate, offset, w)
        scenes.append(sc)
        prev_end = end
    for k, sc in enumerate(scenes):
        if sc.end < 0:
            if k + 1 >= len(scenes):
                raise FilmError(f"{where[k]}: the last scene needs an end or a duration")
            sc.end = scenes[k + 1].start
    order = sorted(range(len(scenes)), key=lambda k: scenes[k].start)
    warnings: list[str] = []
    three = next((str(v).strip() for row in rows for key in ("start", "end", "duration", "hits")
                  for v in (_HIT_SPLIT.split(str(row.get(key) or "")) if key == "hits" else [row.get(key)])
                  if is_three_field(str(v).strip().split(" ")[0])), None)
    if three is not None:
        warnings.append(three_field_warning(source, three.split(" ")[0]))
    if order != list(range(len(scenes))):
        warnings.append(f"{source}: rows were not in time order; sorted by start")
    scenes = [scenes[k] for k in order]
    wh = [where[k] for k in order]
    eps = 0.5 / float(rate.fps)
    for k, sc in enumerate(scenes):
        if sc.end <= sc.start + eps:
            raise FilmError(f"{wh[k]}: scene ends ({format_timecode(sc.end + offset, rate)}) at or before it "
                            f"starts ({format_timecode(sc.start + offset, rate)})")
        if k and sc.start < scenes[k - 1].end - eps:
            raise FilmError(f"{wh[k - 1]} and {wh[k].rsplit(' ', 2)[-2] + ' ' + wh[k].rsplit(' ', 1)[-1]} overlap: scene {scenes[k - 1].number or k} ends at "
                            f"{format_timecode(scenes[k - 1].end + offset, rate)} but scene {sc.number or k + 1} "
                            f"starts at {format_timecode(sc.start + offset, rate)}")
        if k and sc.start > scenes[k - 1].end + eps:
            warnings.append(f"{source}: a gap of {sc.start - scenes[k - 1].end:.2f} s before {wh[k]} "
                            "(no scene there)")
        for h in sc.hits:
            if not -eps <= h.time - sc.start <= sc.duration + eps:
                warnings.append(f"{h.source}: hit at {format_timecode(h.time + offset, rate)} lies outside its scene; "
                                "it is kept where it is")
        sc.index = k
    script = Script(title=source.rsplit("/", 1)[-1], scenes=scenes, source=source, kind="scenes",
                    warnings=warnings, length=max(s.end for s in scenes))
    return script


def parse_scene_csv(text: str, source: str = "<csv>", *, rate: FrameRate | None = None,
                    offset: float = 0.0) -> Script:
    """Read a CSV (or TSV / semicolon-separated) scene list."""
    rate = rate or frame_rate(None)
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise FilmError(f"{source}: the scene list is empty")
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        table = [r for r in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in r)]
    except csv.Error as exc:
        raise FilmError(f"{source}: not a readable CSV file ({exc})") from None
    if len(table) < 2:
        raise FilmError(f"{source}: a scene list needs a header row and at least one scene")
    cols = _column_map(table[0], source)
    rows, where = [], []
    for n, r in enumerate(table[1:], start=2):
        rows.append({f: (r[i].strip() if i < len(r) else "") for f, i in cols.items()})
        where.append(f"{source} row {n}")
    return rows_to_script(rows, source, rate, offset, where)


def _yaml_value(value: Any) -> Any:
    """Lists (of hits) become the text form ``"TC label; TC label"``; a hit may be {time, label}."""
    if isinstance(value, list):
        parts = []
        for v in value:
            if isinstance(v, dict):
                parts.append(f"{v.get('time', v.get('at', ''))} {v.get('label', '')}".strip())
            else:
                parts.append(str(v))
        return "; ".join(parts)
    return value


def parse_scene_yaml(data: Any, source: str = "<yaml>", *, rate: FrameRate | None = None,
                     offset: float | None = None) -> tuple[Script, FrameRate, float]:
    """A YAML scene list: a list of scenes, or ``{fps, start, title, scenes: [...]}``.

    Returns the script with the frame rate and start offset the file declared (or those given).
    """
    meta: dict[str, Any] = {}
    if isinstance(data, dict):
        meta = data
        data = data.get("scenes")
    if not isinstance(data, list) or not data:
        raise FilmError(f"{source}: a YAML scene list is a list of scenes (or has a 'scenes' list)")
    if rate is None:
        rate = frame_rate(meta.get("fps")) if meta.get("fps") is not None else frame_rate(None)
    if offset is None:
        offset = parse_timecode(meta["start"], rate, what=f"{source}: start") if meta.get("start") else 0.0
    rows, where = [], []
    for k, item in enumerate(data):
        if not isinstance(item, dict):
            raise FilmError(f"{source}: scenes[{k}] must be a mapping (start, end, heading …)")
        row: dict[str, Any] = {}
        for key, value in item.items():
            norm = " ".join(re.sub(r"[_\-]+", " ", str(key)).lower().split())
            for field, names in COLUMNS.items():
                if norm in names:
                    row[field] = _yaml_value(value)
        rows.append(row)
        where.append(f"{source} scenes[{k}]")
    script = rows_to_script(rows, source, rate, offset, where)
    if meta.get("title"):
        script.title = str(meta["title"])
    script.fps = rate
    script.start_tc = offset
    return script, rate, offset
