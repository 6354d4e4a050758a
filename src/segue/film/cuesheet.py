"""The cue sheet: every musical decision for a film, as YAML a composer can edit (and CSV to share).

A cue is a span of music with a start and end, the scenes it covers, its mood (words and the
valence/arousal/tension numbers behind them), key, tempo, instruments, hit points and how it
moves into the next cue. Times are written as timecodes at the film's frame rate. The composer
edits any of it and re-renders; writing a ``direction`` in words ("melancholy piano, sparse")
re-derives the cue's mood, instruments and texture from it on the next render. ``locked: true``
keeps a cue note-for-note: the render records what it played (``rendered``), and a later render
checks it.

Fields under ``why`` and ``rendered`` are written by Segue for people and for lock checks.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from segue.film.errors import FilmError
from segue.film.timecode import FrameRate, format_timecode, frame_rate, parse_timecode

SHEET_VERSION = 1
TRANSITION_KINDS = ("crossfade", "cut", "segue")
"""Into the next cue: a crossfade of ``fade_beats``; a cut; or a segue (a generated one-bar bridge
through a chord both keys share — it becomes the first bar of the next cue)."""


@dataclass(slots=True)
class CueHit:
    """A hit point of a cue: film time (s), what happens, where it came from; errors after rendering."""

    time: float
    label: str = "hit"
    source: str = ""
    planned_ms: float | None = None
    measured_ms: float | None = None
    beat: str | None = None
    audio_ms: float | None = None
    missed: bool = False


@dataclass(slots=True)
class Cue:
    """One cue: what the music does from ``start`` to ``end`` (film seconds)."""

    id: str
    start: float
    end: float
    scenes: list[str] = field(default_factory=list)
    mood: list[str] = field(default_factory=list)
    valence: float = 0.0
    arousal: float = 0.4
    tension: float = 0.3
    intensity: float = 0.4
    intensity_end: float | None = None
    density: float | None = None
    key: str = "D minor"
    tempo: float = 90.0
    instruments: list[str] = field(default_factory=list)
    hits: list[CueHit] = field(default_factory=list)
    transition: str = "crossfade"
    fade_beats: float = 1.0
    direction: str = ""
    direction_applied: str = ""
    locked: bool = False
    why: list[str] = field(default_factory=list)
    rendered: dict[str, Any] | None = None
    music: bool = True
    """False: a span spotted *dry* — no music plays (quiet dialogue, a silence the scene needs). Set it to
    true to score the span with the cue's settings; set a cue to false to take its music out."""
    archetype: str = ""
    """The drama the cue follows (grief, violence, joy …), as read from its scenes."""

    @property
    def duration(self) -> float:
        return self.end - self.start

    def settings(self) -> dict[str, Any]:
        """What decides this cue's notes (a locked cue may not change any of it)."""
        return {
            "start": round(self.start, 4), "end": round(self.end, 4), "valence": round(self.valence, 4),
            "arousal": round(self.arousal, 4), "tension": round(self.tension, 4),
            "intensity": round(self.intensity, 4),
            "intensity_end": None if self.intensity_end is None else round(self.intensity_end, 4),
            "density": None if self.density is None else round(self.density, 4), "key": self.key,
            "tempo": round(self.tempo, 3), "instruments": list(self.instruments),
            "hits": [round(h.time, 4) for h in self.hits], "transition": self.transition,
            "fade_beats": round(self.fade_beats, 3),
        }

    def settings_sha256(self, context: dict[str, Any]) -> str:
        blob = json.dumps({"cue": self.settings(), "context": context}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass(slots=True)
class CueSheet:
    """All cues of a film plus what is needed to render them again exactly."""

    title: str
    cues: list[Cue]
    length: float
    fps: FrameRate = field(default_factory=lambda: frame_rate(None))
    start_tc: float = 0.0
    """Timecode of the film's first frame, in seconds (01:00:00:00 is common in post-production)."""
    seed: int = 11
    palette: str = "default"
    sample_rate: int = 48000
    script: str = ""
    analysis: str = "lexicon"
    arc: list[dict[str, Any]] = field(default_factory=list)
    """Per-scene affect (for the arc plot): scene, start, end, valence, arousal, tension, beats."""
    warnings: list[str] = field(default_factory=list)
    base_dir: Path | None = None

    def cue(self, cue_id: str) -> Cue:
        for c in self.cues:
            if c.id == cue_id:
                return c
        raise KeyError(cue_id)

    def tc(self, seconds: float) -> str:
        return format_timecode(seconds + self.start_tc, self.fps)

    def playing(self) -> "CueSheet":
        """The same sheet with only the cues that play music (``music: false`` spans are silence).

        The cue objects are shared, so what a render records lands in this sheet's cues too.
        """
        import dataclasses

        if all(c.music for c in self.cues):
            return self
        playing = [c for c in self.cues if c.music]
        if not playing:
            raise FilmError("every cue of the cue sheet is 'music: false'; set one to true to have something to render")
        return dataclasses.replace(self, cues=playing)

    def dry_spans(self) -> list["Cue"]:
        return [c for c in self.cues if not c.music]

    # ------------------------------------------------------------------ checks
    def validate(self, source: str = "<cue sheet>") -> None:
        """Film-wide rules: unique ids, ordered cues that do not overlap, inside the film."""
        if not self.cues:
            raise FilmError(f"{source}: the cue sheet has no cues")
        if not (self.length > 0 and math.isfinite(self.length)):
            raise FilmError(f"{source}: the film length must be positive")
        seen: set[str] = set()
        eps = 0.5 / float(self.fps.fps)
        for k, c in enumerate(self.cues):
            if c.id in seen:
                raise FilmError(f"{source}: two cues are called {c.id!r}; cue ids must be unique")
            seen.add(c.id)
            if c.end <= c.start + eps:
                raise FilmError(f"{source}: cue {c.id} ends ({self.tc(c.end)}) at or before it starts ({self.tc(c.start)})")
            if c.start < -eps or c.end > self.length + eps:
                raise FilmError(f"{source}: cue {c.id} ({self.tc(c.start)}–{self.tc(c.end)}) is outside the film "
                                f"({self.tc(0)}–{self.tc(self.length)})")
            if k and c.start < self.cues[k - 1].end - eps:
                raise FilmError(f"{source}: cues {self.cues[k - 1].id} and {c.id} overlap ({self.cues[k - 1].id} ends "
                                f"at {self.tc(self.cues[k - 1].end)}, {c.id} starts at {self.tc(c.start)}); "
                                "a cue must end where (or before) the next begins")
            if c.transition not in TRANSITION_KINDS:
                raise FilmError(f"{source}: cue {c.id}: transition {c.transition!r} is not one of "
                                f"{', '.join(TRANSITION_KINDS)}")
            for h in c.hits:
                if not c.start - eps <= h.time < c.end + eps:
                    raise FilmError(f"{source}: cue {c.id}: hit '{h.label}' at {self.tc(h.time)} is outside the cue "
                                    f"({self.tc(c.start)}–{self.tc(c.end)}); move it to the cue that plays then")

    # ------------------------------------------------------------------ YAML
    def to_data(self) -> dict[str, Any]:
        def num(x: float | None, nd: int = 3) -> float | None:
            return None if x is None else round(float(x), nd)

        cues = []
        for c in self.cues:
            d: dict[str, Any] = {
                "id": c.id, "start": self.tc(c.start), "end": self.tc(c.end), "scenes": list(c.scenes),
                "mood": list(c.mood), "valence": num(c.valence), "arousal": num(c.arousal),
                "tension": num(c.tension), "intensity": num(c.intensity), "intensity_end": num(c.intensity_end),
                "density": num(c.density), "key": c.key, "tempo": num(c.tempo),
                "instruments": list(c.instruments),
                "hits": [_hit_data(h, self) for h in c.hits],
                "transition": {"into_next": c.transition, "fade_beats": num(c.fade_beats, 2)},
                "direction": c.direction, "direction_applied": c.direction_applied, "locked": bool(c.locked),
                "why": list(c.why),
            }
            if not c.music:
                d = {"id": d["id"], "start": d["start"], "end": d["end"], "music": False, **{
                    k: v for k, v in d.items() if k not in ("id", "start", "end")}}
            if c.archetype:
                d["archetype"] = c.archetype
            if c.rendered is not None:
                d["rendered"] = c.rendered
            cues.append(d)
        return {
            "segue_cue_sheet": SHEET_VERSION, "title": self.title, "script": self.script,
            "fps": self.fps.name.replace(" DF", "df"), "start": format_timecode(self.start_tc, self.fps),
            "length": self.tc(self.length), "seed": self.seed, "palette": self.palette,
            "sample_rate": self.sample_rate, "analysis": self.analysis, "warnings": list(self.warnings),
            "cues": cues, "arc": self.arc,
        }

    def save(self, path: str | Path) -> Path:
        from ruamel.yaml import YAML

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        y = YAML()
        y.default_flow_style = None
        y.width = 110
        buf = io.StringIO()
        buf.write("# Segue cue sheet. Edit any cue and re-render:  segue score --cue-sheet THIS_FILE --out DIR\n"
                  "# Times are timecodes (HH:MM:SS:FF) at the film's fps. Write a 'direction' in words to re-derive a\n"
                  "# cue's mood and instruments; set 'locked: true' to keep a cue note-for-note. 'why' and 'rendered'\n"
                  "# are written by Segue.\n")
        y.dump(_plain(self.to_data()), buf)
        path.write_text(buf.getvalue(), encoding="utf-8")
        return path

    def save_csv(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["cue", "start", "end", "duration", "scenes", "mood", "valence", "arousal", "tension", "intensity",
                    "key", "tempo", "instruments", "hits", "transition", "locked", "music", "archetype"])
        for c in self.cues:
            w.writerow([c.id, self.tc(c.start), self.tc(c.end), f"{c.duration:.3f}", " ".join(c.scenes),
                        " ".join(c.mood), f"{c.valence:.2f}", f"{c.arousal:.2f}", f"{c.tension:.2f}",
                        f"{c.intensity:.2f}", c.key, f"{c.tempo:g}", " ".join(c.instruments),
                        "; ".join(f"{self.tc(h.time)} {h.label}" for h in c.hits),
                        f"{c.transition} {c.fade_beats:g}", "yes" if c.locked else "no",
                        "yes" if c.music else "no (dry)", c.archetype])
        path.write_text(buf.getvalue(), encoding="utf-8")
        return path


def _hit_data(h: CueHit, sheet: CueSheet) -> dict[str, Any]:
    d: dict[str, Any] = {"at": sheet.tc(h.time), "label": h.label}
    if h.source:
        d["source"] = h.source
    if h.measured_ms is not None:
        d["error_ms"] = round(h.measured_ms, 2)
    if h.audio_ms is not None:
        d["audio_error_ms"] = round(h.audio_ms, 2)
    if h.beat:
        d["lands_on"] = h.beat
    if h.missed:
        d["missed"] = True
    return d


def _plain(x: Any) -> Any:
    """Plain Python data for the YAML writer (flow style for short lists of scalars)."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(x, dict):
        m = CommentedMap()
        for k, v in x.items():
            m[k] = _plain(v)
        if all(not isinstance(v, (dict, list)) for v in x.values()) and len(x) <= 4:
            m.fa.set_flow_style()
        return m
    if isinstance(x, list):
        s = CommentedSeq(_plain(v) for v in x)
        if all(isinstance(v, (int, float, bool)) or (isinstance(v, str) and len(v) < 24) for v in x):
            s.fa.set_flow_style()
        else:
            s.fa.set_block_style()
        return s
    return x


# ---------------------------------------------------------------------------------------- loading
class _Reader:
    """Typed access to the YAML with file:line:column in every error."""

    def __init__(self, source: str) -> None:
        self.source = source

    def where(self, node: Any, key: Any = None) -> str:
        try:
            if key is not None:
                line, col = node.lc.value(key) if not isinstance(key, int) else node.lc.item(key)
            else:
                line, col = node.lc.line, node.lc.col
            return f"{self.source}:{line + 1}:{col + 1}"
        except (AttributeError, KeyError, TypeError, IndexError):
            return self.source

    def fail(self, node: Any, key: Any, msg: str) -> FilmError:
        return FilmError(f"{self.where(node, key)}: {msg}")

    def number(self, node: Any, key: str, lo: float, hi: float, default: Any = ..., allow_none: bool = False) -> Any:
        if key not in node:
            if default is ...:
                raise self.fail(node, None, f"missing '{key}'")
            return default
        v = node[key]
        if v is None and allow_none:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise self.fail(node, key, f"'{key}' must be a number, got {v!r}")
        if not lo <= v <= hi:
            raise self.fail(node, key, f"'{key}' must be between {lo:g} and {hi:g}, got {v:g}")
        return float(v)

    def text(self, node: Any, key: str, default: Any = ...) -> Any:
        if key not in node:
            if default is ...:
                raise self.fail(node, None, f"missing '{key}'")
            return default
        v = node[key]
        if v is None:
            return "" if default is ... else default
        if not isinstance(v, (str, int, float)) or isinstance(v, bool):
            raise self.fail(node, key, f"'{key}' must be text, got {v!r}")
        return str(v)

    def strings(self, node: Any, key: str) -> list[str]:
        v = node.get(key) or []
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, list) or not all(isinstance(x, (str, int, float)) and not isinstance(x, bool) for x in v):
            raise self.fail(node, key, f"'{key}' must be a list of words")
        return [str(x) for x in v]

    def time(self, node: Any, key: str, rate: FrameRate, offset: float) -> float:
        v = node.get(key)
        if v is None:
            raise self.fail(node, None, f"missing '{key}'")
        t = parse_timecode(v, rate, what=f"{self.where(node, key)}: {key}")
        return t - offset if isinstance(v, str) else t


CUE_FIELDS = {"id", "start", "end", "scenes", "mood", "valence", "arousal", "tension", "intensity", "intensity_end",
              "density", "key", "tempo", "instruments", "hits", "transition", "direction", "direction_applied",
              "locked", "why", "rendered", "music", "archetype"}
TOP_FIELDS = {"segue_cue_sheet", "title", "script", "fps", "start", "length", "seed", "palette", "sample_rate",
              "analysis", "warnings", "cues", "arc"}


def _suggest(word: str, options: set[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, sorted(options), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def load_cue_sheet(path: str | Path) -> CueSheet:
    """Read an (edited) cue sheet; every problem is a :class:`FilmError` with file:line:column."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    from segue.film.reading import read_text

    path = Path(path)
    source = str(path)
    text = read_text(path)
    try:
        data = YAML(typ="rt").load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        raise FilmError(f"{source}{where}: not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
    r = _Reader(source)
    if not isinstance(data, dict) or "cues" not in data:
        raise FilmError(f"{source}: not a Segue cue sheet (no 'cues' list); make one with: segue score SCRIPT --out DIR")
    for k in data:
        if k not in TOP_FIELDS:
            raise r.fail(data, k, f"unknown field '{k}'{_suggest(str(k), TOP_FIELDS)}")
    rate = frame_rate(data.get("fps"))
    offset = parse_timecode(data.get("start") or 0, rate, what=f"{r.where(data, 'start')}: start")
    length_v = data.get("length")
    if length_v is None:
        raise r.fail(data, None, "missing 'length' (the film's end timecode)")
    length = parse_timecode(length_v, rate, what=f"{r.where(data, 'length')}: length")
    length = length - offset if isinstance(length_v, str) else length
    seed = data.get("seed", 11)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise r.fail(data, "seed", f"'seed' must be a whole number ≥ 0, got {seed!r}")
    sr = data.get("sample_rate", 48000)
    if sr not in (22050, 32000, 44100, 48000, 88200, 96000):
        raise r.fail(data, "sample_rate", f"sample_rate {sr!r} is not supported (use 44100 or 48000)")
    cues_node = data["cues"]
    if not isinstance(cues_node, list):
        raise r.fail(data, "cues", "'cues' must be a list of cues")
    cues = [_load_cue(r, node, i, rate, offset) for i, node in enumerate(cues_node)]
    sheet = CueSheet(
        title=r.text(data, "title", "Untitled"), cues=cues, length=length, fps=rate, start_tc=offset, seed=seed,
        palette=r.text(data, "palette", "default") or "default", sample_rate=int(sr),
        script=r.text(data, "script", ""), analysis=r.text(data, "analysis", "lexicon"),
        arc=_json_safe(data.get("arc") or []), base_dir=path.resolve().parent,
    )
    sheet.validate(source)
    return sheet


def _json_safe(x: Any) -> Any:
    return json.loads(json.dumps(x, default=str))


def _load_cue(r: _Reader, node: Any, i: int, rate: FrameRate, offset: float) -> Cue:
    if not isinstance(node, dict):
        raise FilmError(f"{r.source}: cues[{i}] must be a mapping (id, start, end, …)")
    for k in node:
        if k not in CUE_FIELDS:
            raise r.fail(node, k, f"cues[{i}]: unknown field '{k}'{_suggest(str(k), CUE_FIELDS)}")
    cue_id = r.text(node, "id").strip()
    if not cue_id or len(cue_id) > 40 or cue_id.lower() in ("any", "tacet"):
        raise r.fail(node, "id", f"cues[{i}]: 'id' must be a short name (not 'any' or 'tacet'), got {cue_id!r}")
    tr = node.get("transition") or {}
    if isinstance(tr, str):
        tr = {"into_next": tr}
    if not isinstance(tr, dict):
        raise r.fail(node, "transition", f"cue {cue_id}: 'transition' is {{into_next: crossfade|cut|segue, fade_beats: N}}")
    kind = str(tr.get("into_next", "crossfade"))
    if kind not in TRANSITION_KINDS:
        raise r.fail(tr, "into_next", f"cue {cue_id}: transition {kind!r} is not one of {', '.join(TRANSITION_KINDS)}"
                     f"{_suggest(kind, set(TRANSITION_KINDS))}")
    fade = r.number(tr, "fade_beats", 0.0, 32.0, 1.0)
    hits: list[CueHit] = []
    hnode = node.get("hits") or []
    if not isinstance(hnode, list):
        raise r.fail(node, "hits", f"cue {cue_id}: 'hits' must be a list")
    for j, h in enumerate(hnode):
        if isinstance(h, (str, int, float)) and not isinstance(h, bool):
            t = parse_timecode(h, rate, what=f"{r.where(hnode, j)}: hit")
            hits.append(CueHit(t - offset if isinstance(h, str) else t))
            continue
        if not isinstance(h, dict) or ("at" not in h and "time" not in h):
            raise FilmError(f"{r.where(hnode, j)}: cue {cue_id}: a hit is {{at: TIMECODE, label: TEXT}}")
        key = "at" if "at" in h else "time"
        hits.append(CueHit(r.time(h, key, rate, offset), str(h.get("label") or "hit"), str(h.get("source") or "")))
    locked = node.get("locked", False)
    if not isinstance(locked, bool):
        raise r.fail(node, "locked", f"cue {cue_id}: 'locked' is true or false")
    key = r.text(node, "key", "D minor")
    from segue.music import Key

    try:
        Key.parse(key)
    except ValueError as exc:
        raise r.fail(node, "key", f"cue {cue_id}: {exc}") from None
    rendered = node.get("rendered")
    music = node.get("music", True)
    if not isinstance(music, bool):
        raise r.fail(node, "music", f"cue {cue_id}: 'music' is true (score this span) or false (keep it dry)")
    return Cue(
        id=cue_id, start=r.time(node, "start", rate, offset), end=r.time(node, "end", rate, offset),
        scenes=r.strings(node, "scenes"), mood=r.strings(node, "mood"),
        valence=r.number(node, "valence", -1.0, 1.0, 0.0), arousal=r.number(node, "arousal", 0.0, 1.0, 0.4),
        tension=r.number(node, "tension", 0.0, 1.0, 0.3), intensity=r.number(node, "intensity", 0.0, 1.0, 0.4),
        intensity_end=r.number(node, "intensity_end", 0.0, 1.0, None, allow_none=True),
        density=r.number(node, "density", 0.0, 1.0, None, allow_none=True), key=key,
        tempo=r.number(node, "tempo", 20.0, 300.0, 90.0), instruments=r.strings(node, "instruments"),
        hits=sorted(hits, key=lambda h: h.time), transition=kind, fade_beats=fade,
        direction=r.text(node, "direction", ""), direction_applied=r.text(node, "direction_applied", ""),
        locked=locked, why=r.strings(node, "why"),
        rendered=_json_safe(rendered) if isinstance(rendered, dict) else None,
        music=music, archetype=r.text(node, "archetype", ""),
    )
