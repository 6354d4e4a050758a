"""Floor 2 — the score spec: the composer's rules as typed, validated data.

``load_spec("score.yaml")`` gives a :class:`Spec` or raises one :class:`SpecError` listing every
problem as ``file:line:col: field.path: message``.
"""

from segue.spec.gm import GM_PROGRAMS, program_name, program_number
from segue.spec.issues import SpecError, SpecIssue
from segue.spec.load import default_spec, default_spec_text, load_spec, load_spec_text, spec_from_dict
from segue.spec.notation import NoteTextError, parse_key, parse_note, parse_note_text
from segue.spec.midi import ThemeFileError
from segue.spec.schema import (
    ANY_STATE,
    Layer,
    LayerRole,
    Mapping,
    MappingTarget,
    Mood,
    Palette,
    Parameter,
    Spec,
    State,
    Stinger,
    Tempo,
    Theme,
    Transition,
    target_range,
)

__all__ = [
    "Spec", "Palette", "Tempo", "Mood", "Layer", "LayerRole", "Theme",
    "Parameter", "Mapping", "MappingTarget", "State", "Transition", "Stinger", "ANY_STATE", "target_range",
    "SpecError", "SpecIssue", "NoteTextError", "ThemeFileError",
    "load_spec", "load_spec_text", "spec_from_dict", "default_spec", "default_spec_text",
    "parse_note_text", "parse_note", "parse_key", "GM_PROGRAMS", "program_number", "program_name",
]
