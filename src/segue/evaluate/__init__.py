"""Measurement library behind ``segue eval`` (QUALITY.md §1–3).

Pure functions over plain note lists, so it never imports the composer and can be tested alone:

* §1 hard constraints — :func:`constraint_report`;
* §2 plausibility — :func:`piece_metrics`, :func:`overlapped_area`, :func:`baseline_pieces`,
  :func:`plausibility_table`;
* §3 control — :func:`spearman`, :func:`control_table`;
* output — :func:`render_report`, :func:`to_json`; input — :func:`midi_to_piece`.

User errors raise :class:`EvaluationError` (a ``ValueError``) with a printable message.
"""

from segue.evaluate.baselines import BASELINE_KINDS, BaselineKind, baseline_piece, baseline_pieces
from segue.evaluate.constraints import constraint_report
from segue.evaluate.control import EXPECTED_DIRECTIONS, control_table, control_verdicts, spearman
from segue.evaluate.errors import EvaluationError, MidiReadError, PieceError
from segue.evaluate.metrics import METRIC_NAMES, piece_metrics
from segue.evaluate.midi import midi_quarters_per_bar, midi_to_piece
from segue.evaluate.overlap import overlapped_area
from segue.evaluate.piece import PieceNotes, notes_to_piece, piece_length_beats, skyline
from segue.evaluate.plausibility import MATCHED_BY_CONSTRUCTION, plausibility_table
from segue.evaluate.report import render_report, to_json

__all__ = [
    "BASELINE_KINDS", "BaselineKind", "EXPECTED_DIRECTIONS", "EvaluationError", "MATCHED_BY_CONSTRUCTION",
    "METRIC_NAMES", "MidiReadError", "PieceError", "PieceNotes", "baseline_piece", "baseline_pieces",
    "constraint_report", "control_table", "control_verdicts", "midi_quarters_per_bar", "midi_to_piece",
    "notes_to_piece", "overlapped_area", "piece_length_beats", "piece_metrics", "plausibility_table",
    "render_report", "skyline", "spearman", "to_json",
]
