"""The job file: what a batch makes and where it goes.

A job is a list of *groups*; each group is one score spec crossed with game states, variations (seeds),
formats and stems. It is read with the spec loader's YAML reader (size and alias limits, line numbers in
every message) and validated by pydantic, so a typo is one located line, never a traceback.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from segue.batch.errors import BatchError
from segue.limits import MAX_BATCH_BARS, MAX_BATCH_GROUPS, MAX_BATCH_RETRIES, MAX_SPEC_BYTES

Format = Literal["mid", "musicxml", "wav", "flac"]
AUDIO_FORMATS = ("wav", "flac")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def _check_name(value: str | None, what: str) -> str | None:
    if value is not None and not NAME_RE.match(value):
        raise ValueError(f"{what} {value!r} must be 1–64 letters, digits, '_' or '-' (it names files)")
    return value


class Group(BaseModel):
    """One spec × states × variations block of assets."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    spec: str = Field(min_length=1, max_length=1024)
    """The score spec, relative to the job file."""
    region: str | None = None
    """The game region (or any label) these cues belong to; default: the spec file's name."""
    states: list[str] | None = Field(None, min_length=1, max_length=256)
    """Game states to render, each as its own loop; default: every state of the spec (none: one loop)."""
    variations: int = Field(1, ge=1, le=10_000)
    """How many takes of each state: seeds ``seed``, ``seed + 1`` …"""
    seed: int | None = Field(None, ge=0, le=2**62)
    """The first seed (default: the spec's)."""
    bars: int = Field(4, ge=1, le=MAX_BATCH_BARS)
    formats: list[Format] = Field(default_factory=lambda: ["mid", "wav"], min_length=1, max_length=4)
    stems: bool = False
    """Also one audio file per layer (needs an audio format)."""

    @field_validator("region")
    @classmethod
    def _region(cls, v: str | None) -> str | None:
        return _check_name(v, "region")

    @field_validator("states")
    @classmethod
    def _states(cls, v: list[str] | None) -> list[str] | None:
        for s in v or []:
            _check_name(s, "state")
        if v is not None and len(set(v)) != len(v):
            raise ValueError("a state is listed twice")
        return v

    @field_validator("formats")
    @classmethod
    def _formats(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("a format is listed twice")
        return v

    def model_post_init(self, _context: object) -> None:
        if self.stems and not any(f in AUDIO_FORMATS for f in self.formats):
            raise ValueError("stems: true needs an audio format (wav or flac) in formats")


class Job(BaseModel):
    """A whole batch job."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    out: str | None = Field(None, max_length=1024)
    """Output folder, relative to the current folder (default ``segue-batch/<name>``; ``--out`` wins)."""
    retries: int = Field(2, ge=0, le=MAX_BATCH_RETRIES)
    """Tries after the first for an asset that failed unexpectedly (a bad spec is not retried)."""
    groups: list[Group] = Field(min_length=1, max_length=MAX_BATCH_GROUPS)

    _base_dir: Path = Path(".")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _check_name(v, "job name") or v

    @property
    def base_dir(self) -> Path:
        """The job file's folder: spec paths are relative to it."""
        return self._base_dir

    def spec_path(self, group: Group) -> Path:
        p = Path(group.spec).expanduser()
        return p if p.is_absolute() else self._base_dir / p


def load_job(path: Path) -> Job:
    """Read and validate a job file; :class:`BatchError` names the line of every problem."""
    from segue.spec.issues import SpecError, format_path
    from segue.spec.yamlsource import parse_yaml

    path = Path(path)
    try:
        if path.stat().st_size > MAX_SPEC_BYTES:
            raise BatchError(f"{path}: a job file is at most {MAX_SPEC_BYTES} bytes")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BatchError(f"{path}: job file not found") from None
    except IsADirectoryError:
        raise BatchError(f"{path}: is a folder, not a job file") from None
    except UnicodeDecodeError as exc:
        raise BatchError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise BatchError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        data, smap = parse_yaml(text, str(path))
    except SpecError as exc:
        raise BatchError(str(exc).replace("a spec is a mapping of fields (name:, palette:, layers: …)",
                                          "a job is a mapping of fields (name:, groups: …)")) from None
    try:
        job = Job.model_validate(data)
    except ValidationError as exc:
        lines = []
        for e in exc.errors():
            loc = tuple(e["loc"])
            mark = smap.locate(loc)
            where = f"{path}:{mark.line}:{mark.column}" if mark else str(path)
            msg = e["msg"].removeprefix("Value error, ")
            if e["type"] == "extra_forbidden":
                msg = "unknown field (see docs/batch.md for the job format)"
            lines.append(f"{where}: {format_path(loc)}: {msg}" if loc else f"{where}: {msg}")
        raise BatchError("\n".join(lines)) from None
    job._base_dir = path.resolve().parent
    return job
