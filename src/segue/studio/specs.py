"""Where the studio's score specs come from, and how a composer's text is judged.

Specs are data: they are parsed by the spec loader's safe YAML reader, never executed. A spec
typed in the browser may name files (a theme's MIDI file, a style model); those names are
resolved inside the studio's upload folder and refused if they would leave it, *before* the
loader opens anything, so a page can never make the server read ``/etc/passwd`` or
``../../secret.mid``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from segue import limits
from segue.spec import SpecError, SpecIssue, default_spec_text, load_spec_text
from segue.spec.issues import format_path
from segue.spec.yamlsource import parse_yaml

#: The largest spec text (or uploaded file) the studio accepts, in bytes.
MAX_SPEC_BYTES = 256 * 1024
MAX_UPLOAD_BYTES = limits.MAX_UPLOAD_BYTES
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def repo_examples_dir() -> Path | None:
    """The ``examples/`` folder of a source checkout, if there is one (the shipped example scores)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "examples"
        if candidate.is_dir() and any(candidate.glob("*.yaml")):
            return candidate
        if (parent / "pyproject.toml").is_file():
            break
    return None


@dataclass(frozen=True)
class NamedSpec:
    """A spec the studio offers by name: its text and the folder its relative files live in."""

    name: str
    text: str
    base_dir: Path | None
    title: str = ""
    description: str = ""


class SpecLibrary:
    """The named specs (examples, the spec given to ``segue serve``, the built-in default)."""

    def __init__(self, examples_dir: Path | None = None, spec_path: Path | None = None) -> None:
        self._specs: dict[str, NamedSpec] = {}
        self.default_name = "default"
        self._add(NamedSpec("default", default_spec_text(), None))
        folder = examples_dir if examples_dir is not None else repo_examples_dir()
        if folder is not None and folder.is_dir():
            for path in sorted(folder.glob("*.yaml")):
                self._add_file(path)
        if spec_path is not None:
            self.default_name = self._add_file(Path(spec_path))

    def _add_file(self, path: Path) -> str:
        from segue.studio.errors import StudioError

        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise StudioError(f"cannot read the spec {path}: {exc.strerror or exc}") from None
        self._add(NamedSpec(path.stem, text, path.resolve().parent))
        return path.stem

    def _add(self, spec: NamedSpec) -> None:
        title, description = spec.name, ""
        try:
            data, _ = parse_yaml(spec.text, spec.name)
            title = str(data.get("name") or spec.name)
            description = str(data.get("description") or "")
        except SpecError:
            pass
        self._specs[spec.name] = NamedSpec(spec.name, spec.text, spec.base_dir, title, description)

    def names(self) -> list[str]:
        return list(self._specs)

    def get(self, name: str) -> NamedSpec | None:
        return self._specs.get(name)

    def listing(self) -> list[dict[str, str]]:
        return [{"name": s.name, "title": s.title, "description": s.description} for s in self._specs.values()]


def issue_json(issue: SpecIssue) -> dict[str, Any]:
    """An issue as the page shows it: the line and column to mark, the field, the message."""
    return {"line": issue.line, "column": issue.column, "path": issue.path, "message": issue.message}


def _outside(name: str, folder: Path) -> bool:
    path = Path(name)
    if path.is_absolute() or name.startswith("~") or ".." in path.parts:
        return True
    try:
        (folder / path).resolve().relative_to(folder.resolve())
    except ValueError:
        return True
    return False


def check_file_names(text: str, source: str, folder: Path) -> None:
    """Refuse (as a :class:`SpecError` at the line) any file the spec names outside ``folder``."""
    data, smap = parse_yaml(text, source)
    named: list[tuple[tuple[str | int, ...], str]] = []
    style = data.get("style")
    if isinstance(style, str) and style != "default":
        named.append((("style",), style))
    themes = data.get("themes")
    if isinstance(themes, list):
        for i, theme in enumerate(themes):
            if isinstance(theme, dict) and isinstance(theme.get("midi"), str):
                named.append((("themes", i, "midi"), theme["midi"]))
    issues = []
    for path, name in named:
        if _outside(name, folder):
            mark = smap.locate(path)
            issues.append(SpecIssue(format_path(path), mark and mark.line, mark and mark.column,
                                    f"{name!r} is outside the studio's upload folder; upload the file and "
                                    "name it without folders", source))
    if issues:
        raise SpecError(issues)


def load_user_spec(text: str, folder: Path, source: str = "editor") -> object:
    """Validate spec text typed in the studio; relative files resolve in (and only in) ``folder``."""
    if not isinstance(text, str):
        raise SpecError([SpecIssue("", None, None, "the spec must be text (YAML)", source)])
    if len(text.encode("utf-8")) > MAX_SPEC_BYTES:
        raise SpecError([SpecIssue("", None, None, f"the spec is larger than {MAX_SPEC_BYTES} bytes", source)])
    check_file_names(text, source, folder)
    return load_spec_text(text, source, base_dir=folder)


def safe_upload_path(folder: Path, name: str) -> Path | None:
    """The path for an uploaded file called ``name`` inside ``folder``, or None if the name is unsafe."""
    if not isinstance(name, str) or not _FILE_NAME.match(name) or ".." in name:
        return None
    path = (folder / name).resolve()
    if path.parent != folder.resolve():
        return None
    return path
