"""Entry points: a spec from a file, from text, from a dict, or the embedded default."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from segue.spec.issues import SpecError, SpecIssue
from segue.spec.schema import Spec
from segue.spec.validate import build_spec
from segue.spec.yamlsource import parse_yaml


def load_spec(path: str | Path) -> Spec:
    """Load and validate a YAML score spec file; relative files in it resolve against its folder.

    Raises :class:`SpecError` listing every problem (a missing file is one too)."""
    file = Path(path)
    source = str(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError([SpecIssue("", None, None, "spec file not found", source)]) from None
    except IsADirectoryError:
        raise SpecError([SpecIssue("", None, None, "is a folder, not a spec file", source)]) from None
    except UnicodeDecodeError as exc:
        raise SpecError([SpecIssue("", None, None, f"not UTF-8 text ({exc.reason})", source)]) from None
    except OSError as exc:
        raise SpecError([SpecIssue("", None, None, f"cannot read spec file ({exc.strerror})", source)]) from None
    return _load(text, source, file.resolve().parent, file.resolve())


def load_spec_text(text: str, source: str = "<spec>", base_dir: Path | None = None) -> Spec:
    """Validate spec YAML ``text``; ``source`` names it in messages; relative files resolve against
    ``base_dir`` (the current folder if None)."""
    return _load(text, source, Path(base_dir) if base_dir is not None else None, None)


def _load(text: str, source: str, base_dir: Path | None, source_path: Path | None) -> Spec:
    data, smap = parse_yaml(text, source)
    return build_spec(data, smap, source, base_dir, source_path)


def spec_from_dict(data: dict[str, Any], base_dir: Path | None = None, source: str = "<dict>") -> Spec:
    """Validate a spec given as Python data (API, mood-only compose). Issues carry paths, no lines."""
    if not isinstance(data, dict):
        raise SpecError([SpecIssue("", None, None, f"a spec is a mapping of fields, got {type(data).__name__}",
                                   source)])
    return build_spec(data, None, source, Path(base_dir) if base_dir is not None else None)


DEFAULT_SPEC_RESOURCE = "default.yaml"


def default_spec_text() -> str:
    """The YAML of the embedded default spec (shipped inside the package)."""
    return resources.files("segue.spec").joinpath(DEFAULT_SPEC_RESOURCE).read_text(encoding="utf-8")


def default_spec() -> Spec:
    """The embedded default spec: a neutral, versatile palette for mood-only composing and the demo."""
    return load_spec_text(default_spec_text(), source="<default spec>")
