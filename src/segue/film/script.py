"""What Segue reads from a script or a scene list: scenes, their elements, times and hit points.

Every reader (Fountain, SRT, CSV/YAML scene lists) produces the same :class:`Script`, so the
affect analysis, the cue proposal and the reports never care where the words came from. Times
are seconds of *film time* (0 = the first frame); a scene is ``timed`` when its start and end came
from timecodes, otherwise they are estimates (see :mod:`segue.film.timing`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

ELEMENT_KINDS = ("action", "dialogue", "parenthetical", "character", "transition", "lyric", "centered",
                 "synopsis", "section", "note", "subtitle", "description")
SPOKEN = ("dialogue", "lyric", "subtitle")


@dataclass(slots=True)
class Element:
    """One paragraph of a scene: an action block, a line of dialogue, a transition …"""

    kind: str
    text: str
    line: int
    """1-based line in the source (or row for scene lists) — where a reader can find it."""
    character: str | None = None
    offset: float = 0.0
    """Seconds from the scene's start (filled by timing)."""
    duration: float = 0.0


@dataclass(slots=True)
class Hit:
    """A moment the music must accent (a door slam): film time in seconds and where it came from."""

    time: float
    label: str = "hit"
    source: str = ""


@dataclass(slots=True)
class Scene:
    """A scene (or a timed block of subtitles, or a row of a scene list)."""

    index: int
    heading: str
    line: int
    elements: list[Element] = field(default_factory=list)
    number: str | None = None
    section: str | None = None
    synopsis: str = ""
    start: float = 0.0
    end: float = 0.0
    timed: bool = False
    duration_override: float | None = None
    mood: str | None = None
    """A mood or direction the writer or editor gave (``[[mood: grief]]`` or a scene-list column)."""
    hits: list[Hit] = field(default_factory=list)
    pending_hits: list[tuple[int, str]] = field(default_factory=list)
    """Hits written in the script as ``[[hit]]`` notes: (element index, label); timed by timing."""

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def label(self) -> str:
        return f"{self.number or self.index + 1}. {self.heading}".strip()

    def text(self) -> str:
        return "\n".join(e.text for e in self.elements if e.kind not in ("character", "section", "note"))


@dataclass(slots=True)
class Script:
    """A whole film's text and timing: title, scenes, where it came from and what was odd about it."""

    title: str
    scenes: list[Scene]
    source: str = "<script>"
    kind: str = "fountain"
    warnings: list[str] = field(default_factory=list)
    length: float = 0.0
    """Film length in seconds (the end of the last scene unless a scene list or option says more)."""
    fps: object | None = None
    """The frame rate the source declared (a YAML scene list's ``fps``), if any."""
    start_tc: float | None = None
    """The start timecode the source declared (a YAML scene list's ``start``), in seconds, if any."""

    @property
    def timed(self) -> bool:
        return bool(self.scenes) and all(s.timed for s in self.scenes)

    def all_hits(self) -> list[Hit]:
        return sorted((h for s in self.scenes for h in s.hits), key=lambda h: h.time)
