"""Validation of spec data: the schema pass and the cross-checks, reported together with positions.

Pydantic's messages are written for programmers ("Input should be less than or equal to 1");
here each one is rewritten in a composer's words, with the offending value, and unknown fields
get the nearest valid name ("did you mean 'range'?").
"""

from __future__ import annotations

import difflib
import re
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from segue.spec.checks import Finding, SpecView, run_checks
from segue.spec.issues import LocatedError, PathTuple, SpecError, SpecIssue, format_path
from segue.spec.notation import NoteTextError
from segue.spec.schema import Spec
from segue.spec.yamlsource import SourceMap


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The spec models inside a field annotation (``list[Layer]`` → ``[Layer]``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found += _models_in(arg)
    return found


def _model_at(path: PathTuple) -> type[BaseModel] | None:
    """The model whose fields live at ``path`` (``("layers", 2)`` → ``Layer``)."""
    model: type[BaseModel] | None = Spec
    for part in path:
        if isinstance(part, int):
            continue
        if model is None or part not in model.model_fields:
            return None
        inner = _models_in(model.model_fields[part].annotation)
        model = inner[0] if inner else None
    return model


def _field_names(model: type[BaseModel]) -> list[str]:
    """The names a spec writes for ``model``'s fields (``from`` for ``from_state``)."""
    return [info.alias or name for name, info in model.model_fields.items()]


def _homes() -> dict[str, str]:
    """Field name → the section it belongs to, for 'key belongs under palette' hints."""
    homes: dict[str, str] = {}
    for section, info in Spec.model_fields.items():
        for model in _models_in(info.annotation):
            for name in _field_names(model):
                homes.setdefault(name, section)
    return homes


SYNONYMS: dict[str, str] = {
    "volume": "gain_db", "gain": "gain_db", "level": "gain_db", "db": "gain_db",
    "instrument": "program", "patch": "program", "register": "range", "pitch_range": "range",
    "bpm": "tempo", "time_signature": "meter", "time": "meter", "scale": "key", "mode": "key",
    "threshold": "enter", "panning": "pan", "motifs": "themes", "voices": "layers", "tracks": "layers",
    "fade": "fade_beats", "crossfade": "fade_beats", "cooldown": "cooldown_beats", "sync": "quantize",
    "quantise": "quantize", "points": "curve", "speed": "seek", "rate": "seek", "slew": "seek",
    "smoothing": "seek", "min": "range", "max": "range", "source": "from", "dest": "to",
    "destination": "to", "start": "initial_state", "start_state": "initial_state", "controls": "parameters",
    "situations": "states", "accents": "stingers", "one_shots": "stingers",
}
"""Words composers reach for, and the field they mean (used when spelling does not find it)."""


def _unknown_field(path: PathTuple) -> str:
    name = str(path[-1])
    model = _model_at(path[:-1])
    valid = _field_names(model) if model else []
    message = f"unknown field {name!r}"
    home = _homes().get(name) if model is Spec else None
    close = difflib.get_close_matches(name.lower(), valid, n=1, cutoff=0.65)
    # a field of another section, written at the top, is sent home unless it is a near-exact typo
    # of a top-level name ('theme' → 'themes', but 'meter' is not 'parameters')
    near = bool(close) and difflib.SequenceMatcher(None, name.lower(), close[0]).ratio() >= 0.8
    if close and (near or not home):
        return f"{message}; did you mean {close[0]!r}?"
    if SYNONYMS.get(name.lower()) in valid:
        return f"{message}; did you mean {SYNONYMS[name.lower()]!r}?"
    if home:
        return f"{message} here; it belongs under '{home}:'"
    if valid:
        return f"{message} (valid fields: {', '.join(valid)})"
    return message


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _bound(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _describe(error: dict[str, Any]) -> str:
    """A composer-readable message for one pydantic error."""
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    path: PathTuple = tuple(error["loc"])
    if kind == "missing":
        return f"required field {path[-1]!r} is missing"
    if kind == "extra_forbidden":
        return _unknown_field(path)
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", error["msg"]))
    if value is None:
        return "has no value (give one, or remove the line to use the default)"
    if kind == "literal_error":
        allowed = re.findall(r"'([^']*)'", str(ctx.get("expected", ""))) or \
            re.findall(r"-?\d+", str(ctx.get("expected", "")))
        close = difflib.get_close_matches(str(value).lower(), allowed, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"{_shown(value)} is not allowed (choose {', '.join(allowed)}){hint}"
    bounds = {
        "greater_than_equal": ("below the minimum", "ge"), "greater_than": ("not above", "gt"),
        "less_than_equal": ("above the maximum", "le"), "less_than": ("not below", "lt"),
    }
    if kind in bounds:
        words, bound = bounds[kind]
        return f"{_shown(value)} is {words} {_bound(ctx.get(bound))}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"expected a whole number, got {_shown(value)}"
    if kind in ("float_parsing", "float_type"):
        return f"expected a number, got {_shown(value)}"
    if kind == "finite_number":
        return f"expected a finite number, got {_shown(value)}"
    if kind in ("bool_parsing", "bool_type"):
        return f"expected true or false, got {_shown(value)}"
    if kind == "string_type":
        return f"expected text, got {_shown(value)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping of fields (name: value lines), got {_shown(value)}"
    if kind in ("list_type", "tuple_type"):
        return f"expected a list like [a, b], got {_shown(value)}"
    if kind == "too_short":
        if ctx.get("actual_length") == 0 and path == ("layers",):
            return "a spec needs at least one layer"
        if ctx.get("actual_length") == 0 and path and path[-1] == "layers":
            return "list at least one layer, or leave 'layers' out to let intensity choose"
        return f"needs at least {ctx.get('min_length')} item(s), got {ctx.get('actual_length')}"
    if kind == "too_long":
        return f"allows at most {ctx.get('max_length')} item(s), got {ctx.get('actual_length')}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"is longer than {ctx.get('max_length')} characters"
    return str(error["msg"])


def _issue(path: PathTuple, message: str, smap: SourceMap | None, source: str, *, key: bool = False,
           text: str | None = None, offset: int | None = None) -> SpecIssue:
    mark = None
    if smap is not None:
        if text is not None and offset is not None:
            mark = smap.column_in_text(path, text, offset)
        mark = mark or smap.locate(path, key=key)
    return SpecIssue(format_path(path), mark.line if mark else None, mark.column if mark else None, message, source)


def schema_issues(exc: ValidationError, smap: SourceMap | None, source: str) -> list[SpecIssue]:
    """Every pydantic error of ``exc`` as a located issue."""
    issues = []
    for error in exc.errors():
        path: PathTuple = tuple(part for part in error["loc"] if isinstance(part, (str, int)))
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, LocatedError):
            path += cause.at
        text = error.get("input") if isinstance(error.get("input"), str) else None
        offset = cause.offset if isinstance(cause, NoteTextError) else None
        issues.append(_issue(path, _describe(error), smap, source, key=error["type"] == "extra_forbidden",
                             text=text, offset=offset))
    return issues


def _text_at(data: Any, path: PathTuple) -> str | None:
    node = data
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node if isinstance(node, str) else None


def finding_issue(finding: Finding, data: Any, smap: SourceMap | None, source: str) -> SpecIssue:
    text = _text_at(data, finding.path) if finding.text_offset is not None else None
    return _issue(finding.path, finding.message, smap, source, text=text, offset=finding.text_offset)


def build_spec(data: dict[str, Any], smap: SourceMap | None, source: str, base_dir: Path | None,
               source_path: Path | None = None) -> Spec:
    """Validate ``data`` (schema, then cross-checks on whatever is valid) into a :class:`Spec`;
    raises one :class:`SpecError` listing every issue."""
    context = {"loader": True, "base_dir": base_dir, "source_path": source_path}
    spec: Spec | None = None
    issues: list[SpecIssue] = []
    try:
        spec = Spec.model_validate(data, context=context)
    except ValidationError as exc:
        issues += schema_issues(exc, smap, source)
    view = SpecView.of_spec(spec) if spec is not None else SpecView.of_data(data, base_dir)
    issues += [finding_issue(f, data, smap, source) for f in run_checks(view)]
    if issues:
        raise SpecError(issues)
    assert spec is not None
    return spec
