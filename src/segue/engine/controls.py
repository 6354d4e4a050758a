"""Controls and timelines: what a game (or a trace file) tells the music, and when.

A control is one of ``param`` (set a parameter's target), ``state`` (ask for a state change),
``stinger`` (fire a one-shot), ``affect`` (set valence/arousal/intensity directly) or
``marker`` (a named point the game wants echoed back as an event). A listener and a player
add ``feedback`` (like, skip, less, volume_down), ``signal`` (play style: aggression, exploring,
deaths, session), ``meet`` (a character, place or choice the music remembers) and ``personal``
(a listener's settings for a state, latched at its next phrase; see :mod:`segue.engine.personal`). A :class:`Timeline` is a
list of controls stamped with a time. The live engine logs every control it accepted with the
exact *sample* at which it took effect; replaying that log offline reproduces the live output
sample for sample.

Bad controls never raise into the audio path: :func:`parse_control` returns a reason string
instead, which the engine logs and counts.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from segue.limits import check_number

from segue.engine.personal import FEEDBACK, MAX_SETTINGS, SIGNALS

KINDS = ("param", "state", "stinger", "affect", "marker", "feedback", "signal", "meet", "personal")


class TimelineError(ValueError):
    """A trace file that cannot be read; the message names the entry and the problem."""


@dataclass(frozen=True, slots=True)
class Control:
    """One control. ``sample`` (exact) wins over ``time`` (seconds) when both are given."""

    kind: str
    name: str = ""
    value: float | None = None
    valence: float | None = None
    arousal: float | None = None
    intensity: float | None = None
    time: float | None = None
    sample: int | None = None
    settings: tuple[tuple[str, float], ...] | None = None
    """A ``personal`` control's settings: (dimension, value) pairs, sorted."""

    def at_sample(self, sample_rate: int) -> int:
        if self.sample is not None:
            return int(self.sample)
        return int(round((self.time or 0.0) * sample_rate))

    def to_dict(self, sample_rate: int | None = None) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if v is not None and v != ""}
        d["type"] = d.pop("kind")
        if self.settings is not None:
            d["settings"] = dict(self.settings)
        if sample_rate and self.sample is not None and self.time is None:
            d["time"] = round(self.sample / sample_rate, 6)  # for people; ``sample`` is what replays
        return d


def _finite(x: Any) -> bool:
    return check_number(x)


def _show(value: Any) -> str:
    """``repr(value)`` for a message, short, and safe for values nested thousands deep (repr recursed)."""
    if isinstance(value, (list, tuple, dict)):
        return f"a {type(value).__name__}"
    try:
        text = repr(value)
    except (RecursionError, ValueError):  # ValueError: an int too long to print
        return f"a {type(value).__name__}"
    return text if len(text) <= 60 else text[:57] + "..."


def parse_control(data: Any) -> Control | str:
    """A :class:`Control` from a dict (trace entry, OSC or WebSocket message), or the reason it is invalid."""
    if not isinstance(data, dict):
        return f"a control must be an object, got {type(data).__name__}"
    kind = data.get("type", data.get("kind"))
    if kind not in KINDS:
        return f"unknown control type {_show(kind)} (expected one of {', '.join(KINDS)})"
    unknown = set(data) - {"type", "kind", "name", "value", "valence", "arousal", "intensity", "time", "sample",
                           "settings"}
    if unknown:
        return f"unknown field(s) {', '.join(sorted(unknown))} in a {kind} control"
    name = data.get("name", "")
    if kind in ("param", "state", "stinger", "marker", "feedback", "signal", "meet"):
        if not isinstance(name, str) or not name or len(name) > 200:
            return f"a {kind} control needs a 'name' (a non-empty string)"
    if kind == "personal" and (not isinstance(name, str) or len(name) > 200):
        return "a personal control's 'name' is the state it is for (a string; empty for every state)"
    if kind == "feedback" and name not in FEEDBACK:
        return f"unknown feedback {_show(name)} (expected one of {', '.join(FEEDBACK)})"
    if kind == "signal" and name not in SIGNALS:
        return f"unknown signal {_show(name)} (expected one of {', '.join(SIGNALS)})"
    if "settings" in data and kind != "personal":
        return f"only a personal control has 'settings', not a {kind} control"
    settings = None
    if kind == "personal":
        settings = _settings(data.get("settings"))
        if isinstance(settings, str):
            return settings
    value = data.get("value")
    if kind in ("param", "signal") or (kind == "feedback" and value is not None):
        if not _finite(value):
            return f"{kind} {name!r}: value must be a finite number, got {_show(value)}"
        value = float(value)
    affect: dict[str, float | None] = {"valence": None, "arousal": None, "intensity": None}
    if kind == "affect":
        for k in affect:
            v = data.get(k)
            if v is not None and not _finite(v):
                return f"affect {k} must be a finite number, got {_show(v)}"
            affect[k] = None if v is None else float(v)
        if all(v is None for v in affect.values()):
            return "an affect control needs at least one of valence, arousal, intensity"
    t = data.get("time")
    s = data.get("sample")
    if t is not None and (not _finite(t) or t < 0):
        return f"time must be a finite number ≥ 0, got {_show(t)}"
    if s is not None and (not isinstance(s, int) or isinstance(s, bool) or s < 0):
        return f"sample must be an integer ≥ 0, got {_show(s)}"
    return Control(kind=kind, name=name if isinstance(name, str) else "", value=value,
                   time=None if t is None else float(t), sample=s, settings=settings, **affect)


def _settings(raw: Any) -> tuple[tuple[str, float], ...] | str:
    """A personal control's settings as sorted pairs, or the reason they are invalid."""
    if not isinstance(raw, dict) or not raw:
        return "a personal control needs 'settings': an object of dimension → number"
    if len(raw) > MAX_SETTINGS:
        return f"a personal control carries at most {MAX_SETTINGS} settings, got {len(raw)}"
    pairs = []
    for k, v in raw.items():
        if not isinstance(k, str) or not k or len(k) > 120:
            return "setting names are non-empty strings (at most 120 characters)"
        if not _finite(v):
            return f"setting {k!r} must be a finite number, got {_show(v)}"
        pairs.append((k, float(v)))
    return tuple(sorted(pairs))


@dataclass(slots=True)
class Timeline:
    """Timestamped controls (a gameplay trace, or a live session's control log)."""

    controls: list[Control] = field(default_factory=list)
    duration: float | None = None
    seed: int | None = None
    sample_rate: int = 44100

    def sorted(self) -> list[Control]:
        return sorted(self.controls, key=lambda c: c.at_sample(self.sample_rate))

    def end_sample(self) -> int:
        if self.duration is not None:
            return int(round(self.duration * self.sample_rate))
        last = max((c.at_sample(self.sample_rate) for c in self.controls), default=0)
        return last + 4 * self.sample_rate

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"sample_rate": self.sample_rate,
                             "controls": [c.to_dict(self.sample_rate) for c in self.sorted()]}
        if self.duration is not None:
            d["duration"] = self.duration
        if self.seed is not None:
            d["seed"] = self.seed
        return d

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")
        return path

    @classmethod
    def from_data(cls, data: Any, source: str = "<timeline>") -> "Timeline":
        if isinstance(data, list):
            data = {"controls": data}
        if not isinstance(data, dict) or not isinstance(data.get("controls"), list):
            raise TimelineError(f"{source}: a trace is a list of controls or an object with a 'controls' list")
        sr = data.get("sample_rate", 44100)
        if sr not in (22050, 32000, 44100, 48000, 88200, 96000):
            raise TimelineError(f"{source}: sample_rate {_show(sr)} is not supported")
        dur = data.get("duration")
        if dur is not None and (not _finite(dur) or not 0 < dur <= 24 * 3600):
            raise TimelineError(f"{source}: duration must be a number of seconds between 0 and 86400, got {_show(dur)}")
        seed = data.get("seed")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
            raise TimelineError(f"{source}: seed must be an integer ≥ 0")
        controls = []
        for i, entry in enumerate(data["controls"]):
            c = parse_control(entry)
            if isinstance(c, str):
                # a bad control in a trace is played like a bad control from a game: rejected, logged, at its time
                t = entry.get("time") if isinstance(entry, dict) else None
                smp = entry.get("sample") if isinstance(entry, dict) else None
                c = Control(kind="invalid", name=f"controls[{i}]: {c}",
                            time=float(t) if _finite(t) and t >= 0 else None,
                            sample=smp if isinstance(smp, int) and not isinstance(smp, bool) and smp >= 0 else None)
                if c.time is None and c.sample is None:
                    c = Control(kind="invalid", name=c.name, time=0.0)
            elif c.time is None and c.sample is None:
                raise TimelineError(f"{source}: controls[{i}]: needs a 'time' (seconds) or a 'sample'")
            controls.append(c)
        return cls(controls=controls, duration=None if dur is None else float(dur), seed=seed, sample_rate=int(sr))

    @classmethod
    def load(cls, path: str | Path) -> "Timeline":
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise TimelineError(f"{path}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise TimelineError(f"{path}: cannot read ({exc})") from None
        try:
            if path.suffix.lower() in (".yaml", ".yml"):
                from ruamel.yaml import YAML

                data = YAML(typ="safe").load(text)
            else:
                data = json.loads(text)
        except Exception as exc:  # json/yaml syntax errors: report, never a traceback
            raise TimelineError(f"{path}: not valid {'YAML' if path.suffix.lower() in ('.yaml', '.yml') else 'JSON'}: {exc}") from None
        return cls.from_data(data, str(path))
