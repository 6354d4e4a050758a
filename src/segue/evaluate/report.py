"""Human-readable tables and JSON for ``segue eval``.

The CLI prints :func:`render_report` with rich and writes :func:`to_json` for ``--json``; both
take the three results of this library and skip any that is ``None``, so a run of one section
still prints cleanly.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from rich.console import Group
from rich.table import Table

from segue.evaluate.baselines import BASELINE_KINDS
from segue.evaluate.constraints import MEAN
from segue.evaluate.metrics import METRIC_NAMES
from segue.evaluate.plausibility import OVERALL


def _num(value: float, digits: int = 3) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def plausibility_renderable(plaus: Mapping[str, Any]) -> Table:
    """§2: OA of ours and of each baseline against the reference, per metric."""
    overall = plaus.get(OVERALL, {})
    excluded = set(overall.get("excluded", ()))
    verdict = "ours beats random diatonic" if overall.get("beats_random_diatonic") else "ours does NOT beat random diatonic"
    caption = f"{verdict} (OA 1 = same distribution as the reference)"
    if excluded:
        caption += "; * = not judged, every baseline copies it from its reference piece"
    table = Table(title="Plausibility: overlapped area with the reference", caption=caption)
    table.add_column("metric")
    for header in ("ours", *BASELINE_KINDS, "ref mean", "ours mean", "beats rand. diat."):
        table.add_column(header.replace("_", " "), justify="right")
    metrics = [m for m in METRIC_NAMES if m in plaus] + [m for m in plaus if m not in METRIC_NAMES and m != OVERALL]
    for metric in metrics:
        row = plaus[metric]
        mark = ("yes" if row["beats_random_diatonic"] else "NO") + ("*" if metric in excluded else "")
        table.add_row(
            metric.replace("_", " "),
            _num(row["ours"]),
            *(_num(row[k]) for k in BASELINE_KINDS),
            _num(row["ref_mean"]),
            _num(row["ours_mean"]),
            mark,
        )
    return table


def control_renderable(control: Mapping[str, Mapping[str, float]]) -> Table:
    """§3: Spearman ρ per (control, attribute)."""
    table = Table(title="Control: Spearman ρ", caption="control setting vs measured attribute")
    table.add_column("control")
    table.add_column("attribute")
    table.add_column("ρ", justify="right")
    for name, row in control.items():
        for attribute, rho in row.items():
            table.add_row(name, attribute.replace("_", " "), _num(rho, 2))
    return table


def constraints_renderable(constraints: Mapping[str, float]) -> Table:
    """§1: share of pieces satisfying each hard constraint (must all be 1.000)."""
    table = Table(title="Hard constraints", caption="share of pieces satisfied; under 1.000 is a bug")
    table.add_column("attribute")
    table.add_column("satisfied", justify="right")
    for attribute, share in constraints.items():
        if attribute != MEAN:
            table.add_row(attribute.replace("_", " "), _num(share) + ("" if share >= 1.0 else "  ← bug"))
    if MEAN in constraints:
        table.add_section()
        table.add_row("mean", _num(constraints[MEAN]))
    return table


def render_report(
    plaus: Mapping[str, Any] | None,
    control: Mapping[str, Mapping[str, float]] | None,
    constraints: Mapping[str, float] | None,
) -> Group:
    """A rich renderable with one table per section given (constraints, plausibility, control)."""
    parts: list[Table] = []
    if constraints is not None:
        parts.append(constraints_renderable(constraints))
    if plaus is not None:
        parts.append(plausibility_renderable(plaus))
    if control is not None:
        parts.append(control_renderable(control))
    return Group(*parts)


def _plain(value: Any) -> Any:
    """JSON-safe copy: numpy scalars to Python, NaN/inf to null, tuples to lists."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_json(
    plaus: Mapping[str, Any] | None = None,
    control: Mapping[str, Mapping[str, float]] | None = None,
    constraints: Mapping[str, float] | None = None,
    **extra: Any,
) -> str:
    """The same results as JSON (sections that are ``None`` are left out; ``extra`` keys are added)."""
    doc: dict[str, Any] = {}
    if constraints is not None:
        doc["constraints"] = constraints
    if plaus is not None:
        doc["plausibility"] = plaus
    if control is not None:
        doc["control"] = control
    doc.update(extra)
    return json.dumps(_plain(doc), indent=2, ensure_ascii=False, allow_nan=False)
