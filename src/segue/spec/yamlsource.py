"""YAML text → plain Python data plus a map from every field path to its line and column.

We parse with ruamel.yaml's round-trip loader because it records where each key and value
starts; it never constructs Python objects from tags, and we additionally refuse tagged nodes
(``!!python/…``, ``!custom``) so a spec is plain data and nothing else.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, NodeEvent

from segue.limits import MAX_SPEC_BYTES, MAX_SPEC_DEPTH, MAX_SPEC_NODES, MAX_STRING_CHARS, MAX_NUMBER, clip_text
from segue.spec.issues import PathTuple, SpecError, SpecIssue, format_path

MAX_NODES = MAX_SPEC_NODES
"""Refuse specs that expand (through YAML aliases) to more values than any score needs."""


@dataclass(frozen=True, slots=True)
class Mark:
    """A 1-based line and column in the spec text."""

    line: int
    column: int


@dataclass
class SourceMap:
    """Where each path of the data starts: ``values`` (the value) and ``keys`` (the key naming it)."""

    values: dict[PathTuple, Mark] = field(default_factory=dict)
    keys: dict[PathTuple, Mark] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    def locate(self, path: PathTuple, *, key: bool = False) -> Mark | None:
        """Best position for an issue at ``path``: the value if it starts on the key's line (a scalar
        or a flow list), else the key; the nearest enclosing path when ``path`` is absent (a missing
        field points at the mapping that lacks it). ``key=True`` prefers the key (unknown fields)."""
        for cut in range(len(path), -1, -1):
            here = path[:cut]
            k, v = self.keys.get(here), self.values.get(here)
            if key and k:
                return k
            if v and (k is None or v.line == k.line):
                return v
            if k:
                return k
        return None

    def column_in_text(self, path: PathTuple, text: str, offset: int) -> Mark | None:
        """Position of character ``offset`` of the string value ``text`` at ``path``: exact for
        one-line scalars (plain or quoted) and literal blocks (``|``); None when it cannot be sure."""
        mark = self.values.get(path)
        if mark is None or not 0 < mark.line <= len(self.lines):
            return None
        line = self.lines[mark.line - 1]
        start = mark.column - 1
        if line[start:start + 1] == "|":
            return self._in_literal_block(mark.line, text, offset)
        if "\n" in text:
            return None
        if line[start:start + 1] in ("'", '"'):
            start += 1
        if line[start:start + len(text)] != text:
            return None
        return Mark(mark.line, start + offset + 1)

    def _in_literal_block(self, header_line: int, text: str, offset: int) -> Mark | None:
        body = self.lines[header_line:]
        first = next((ln for ln in body if ln.strip()), None)
        if first is None:
            return None
        indent = len(first) - len(first.lstrip(" "))
        row = text.count("\n", 0, offset)
        col = offset - (text.rfind("\n", 0, offset) + 1)
        if row >= len(body):
            return None
        wanted = text.split("\n")[row]
        if body[row][indent:] != wanted:
            return None
        return Mark(header_line + 1 + row, indent + col + 1)


def _measure(yaml: YAML, text: str, source: str) -> None:
    """Walk the parser's events (no nodes are built, nothing is expanded) and refuse text that nests
    deeper than :data:`MAX_SPEC_DEPTH` or whose values, *with every alias expanded*, number more than
    :data:`MAX_NODES`. An alias counts the full size of its anchor, so ten aliases of a ten-alias list
    count a hundred. This runs before ruamel composes or constructs anything: its composer recurses
    per level (RecursionError after 20–40 s at 3,000 levels) and its duplicate-key error formats the
    duplicate's value, expanding an alias bomb (3.5 GB for 569 bytes)."""
    sizes: dict[str, int] = {}
    stack: list[list[Any]] = []  # [size so far, anchor]
    total = 0

    def add(n: int, mark: Any) -> None:
        nonlocal total
        if stack:
            stack[-1][0] += n
        else:
            total += n
        if total + sum(f[0] for f in stack) > MAX_NODES:
            raise SpecError([SpecIssue("", mark.line + 1 if mark else None, None,
                                       f"the spec expands to more than {MAX_NODES} values (YAML aliases?)", source)])

    for event in yaml.parse(text):
        if isinstance(event, CollectionStartEvent):
            if len(stack) >= MAX_SPEC_DEPTH:
                mark = event.start_mark
                raise SpecError([SpecIssue("", mark.line + 1, mark.column + 1,
                                           f"the spec nests more than {MAX_SPEC_DEPTH} levels deep", source)])
            stack.append([1, event.anchor])
        elif isinstance(event, CollectionEndEvent):
            size, anchor = stack.pop()
            if anchor:
                sizes[anchor] = size
            add(size, event.start_mark)
        elif isinstance(event, AliasEvent):
            if event.anchor not in sizes and any(f[1] == event.anchor for f in stack):
                mark = event.start_mark
                raise SpecError([SpecIssue("", mark.line + 1, mark.column + 1,
                                           "a YAML alias refers to a list or mapping that contains it", source)])
            add(sizes.get(event.anchor, 1), event.start_mark)
        elif isinstance(event, NodeEvent):  # a scalar
            if event.anchor:
                sizes[event.anchor] = 1
            add(1, event.start_mark)


class _Budget:
    def __init__(self) -> None:
        self.left = MAX_NODES

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise _TooBig


class _TooBig(Exception):
    pass


def _mark(pair: Any) -> Mark | None:
    if pair is None:
        return None
    line, column = pair
    return Mark(line + 1, column + 1)


def _plain(node: Any, path: PathTuple, smap: SourceMap, problems: list[tuple[PathTuple, str]],
           budget: _Budget) -> Any:
    """Convert ruamel's node types to dict/list/str/int/float/bool/None, recording positions."""
    budget.spend()
    tag = getattr(node, "tag", None)
    tag_text = getattr(tag, "value", tag) if tag is not None else None
    if isinstance(node, TaggedScalar) or (isinstance(node, (CommentedMap, CommentedSeq)) and tag_text):
        shown = str(tag_text).replace("tag:yaml.org,2002:", "!!")
        problems.append((path, f"YAML tag {shown!r} is not allowed: a spec holds plain values only"))
        return None
    if isinstance(node, CommentedMap):
        out: dict[str, Any] = {}
        for k in node:
            name = k if isinstance(k, str) else str(k)
            child = path + (name,)
            try:
                smap.keys[child] = _mark(node.lc.key(k))
                smap.values[child] = _mark(node.lc.value(k))
            except (KeyError, TypeError, AttributeError):
                pass
            out[name] = _plain(node[k], child, smap, problems, budget)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for i, item in enumerate(node):
            try:
                smap.values[path + (i,)] = _mark(node.lc.item(i))
            except (KeyError, TypeError, AttributeError):
                pass
            items.append(_plain(item, path + (i,), smap, problems, budget))
        return items
    if node is None or isinstance(node, bool):
        return node
    if isinstance(node, int):
        if abs(node) > MAX_NUMBER:
            problems.append((path, f"number too large (at most {MAX_NUMBER:g})"))
            return None
        return int(node)
    if isinstance(node, float):
        if node == node and abs(node) != float("inf") and abs(node) > MAX_NUMBER:
            problems.append((path, f"number too large (at most {MAX_NUMBER:g})"))
            return None
        return float(node)
    if isinstance(node, str):
        if len(node) > MAX_STRING_CHARS:
            problems.append((path, f"text too long ({len(node)} characters; at most {MAX_STRING_CHARS})"))
            return None
        return str(node)
    if isinstance(node, (datetime.date, datetime.datetime)):
        problems.append((path, f"{node} reads as a date; put it in quotes to use it as text"))
        return None
    problems.append((path, f"unsupported YAML value of type {type(node).__name__} (use text, numbers, "
                           f"lists and mappings)"))
    return None


def parse_yaml(text: str, source: str) -> tuple[Any, SourceMap]:
    """Parse spec text; raises :class:`SpecError` with line/column for syntax errors and refused values."""
    if len(text) > MAX_SPEC_BYTES:
        raise SpecError([SpecIssue("", None, None, f"the spec is {len(text)} characters long; at most "
                                                   f"{MAX_SPEC_BYTES} are accepted", source)])
    yaml = YAML(typ="rt")
    try:
        _measure(yaml, text, source)
        yaml = YAML(typ="rt")
        root = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = clip_text(str(exc.problem or exc.context or "cannot parse"), 200)
        if exc.context and exc.problem:
            what += f" ({exc.context}"
            opened = exc.context_mark
            if opened is not None and mark is not None and opened.line != mark.line:
                what += f" started at line {opened.line + 1}, column {opened.column + 1}"
            what += ")"
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        raise SpecError([SpecIssue("", line, column, f"YAML syntax error: {what}", source)]) from None
    except YAMLError as exc:
        raise SpecError([SpecIssue("", None, None, f"YAML error: {clip_text(str(exc), 200)}", source)]) from None
    except RecursionError:
        raise SpecError([SpecIssue("", None, None, "the spec nests too deeply", source)]) from None
    smap = SourceMap(lines=text.splitlines())
    problems: list[tuple[PathTuple, str]] = []
    try:
        data = _plain(root, (), smap, problems, _Budget())
    except _TooBig:
        raise SpecError([SpecIssue("", None, None, f"the spec expands to more than {MAX_NODES} values "
                                                   f"(YAML aliases?)", source)]) from None
    except RecursionError:
        raise SpecError([SpecIssue("", None, None, "the spec nests too deeply (recursive YAML alias?)",
                                   source)]) from None
    if isinstance(root, (CommentedMap, CommentedSeq)):
        smap.values[()] = _mark((root.lc.line, root.lc.col))
    if problems:
        issues = []
        for path, message in problems:
            mark = smap.locate(path)
            issues.append(SpecIssue(format_path(path), mark and mark.line, mark and mark.column, message, source))
        raise SpecError(issues)
    if not isinstance(data, dict):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        raise SpecError([SpecIssue("", 1, 1, f"a spec is a mapping of fields (name:, palette:, layers: …), "
                                             f"got {got}", source)])
    return data, smap
