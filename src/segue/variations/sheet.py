"""The comparison sheet: piano rolls side by side with the similarity numbers, as one HTML page.

Piano rolls are drawn with matplotlib's Agg backend (no display needed) and written as PNG
files beside the page, so the sheet opens in any browser and the images can be reused.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from segue.music import PPQ, pitch_name
from segue.variations.draft import Layer
from segue.variations.similarity import CLOSE, FAR, INTERVAL_SPAN, RHYTHM_SPAN, WEIGHTS

LAYER_COLOURS = {"melody": "#1f5fa8", "accompaniment": "#b9c7d8", "bass": "#8fa86b", "doubling": "#d8a35f"}


def piano_roll(layers: Sequence[Layer], path: str | Path, *, title: str = "", length: int | None = None,
               ticks_per_bar: int = 4 * PPQ, pitch_span: tuple[int, int] | None = None) -> Path:
    """A PNG piano roll of ``layers`` (melody drawn last, on top), bar lines every ``ticks_per_bar``.

    ``length`` (ticks) and ``pitch_span`` fix the axes, so rolls drawn for one sheet compare at a glance.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    notes = [n for ly in layers for n in ly.notes]
    end = max([n.end for n in notes] + [ticks_per_bar, length or 0])
    n_bars = max(1, -(-end // ticks_per_bar))
    lo, hi = pitch_span or ((min(n.pitch for n in notes) - 2, max(n.pitch for n in notes) + 2) if notes else (58, 74))
    fig, ax = plt.subplots(figsize=(5.2, 2.3), dpi=80)
    order = sorted(layers, key=lambda ly: ly.name == "melody")
    for ly in order:
        colour = LAYER_COLOURS.get(ly.name, "#999999")
        for n in ly.notes:
            ax.add_patch(Rectangle((n.start / PPQ, n.pitch - 0.4), n.duration / PPQ, 0.8, facecolor=colour,
                                   edgecolor="#333333" if ly.name == "melody" else "none", linewidth=0.4))
    for b in range(n_bars + 1):
        ax.axvline(b * ticks_per_bar / PPQ, color="#888888", linewidth=0.6)
    ax.set_xlim(0, max(n_bars * ticks_per_bar, length or 0) / PPQ)
    ax.set_ylim(lo - 0.5, hi + 0.5)
    ticks = [p for p in range(lo, hi + 1) if p % 12 in (0, 7)]
    ax.set_yticks(ticks, [pitch_name(p) for p in ticks], fontsize=7)
    ax.tick_params(axis="x", labelsize=7)
    ax.set_xlabel("beats (quarter notes)", fontsize=7)
    if title:
        ax.set_title(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


@dataclass
class Card:
    """One column of the sheet: a picture, the numbers, what was done, and the files."""

    name: str
    image: Path
    numbers: dict[str, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    highlight: bool = False


_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em} .cards{display:flex;flex-wrap:wrap;gap:12px}
.card{border:1px solid #ccc;border-radius:6px;padding:8px;width:420px;background:#fafafa}
.card.src{border-color:#1f5fa8;background:#eef4fb} .card img{width:100%}
.card h2{font-size:1em;margin:0 0 4px} table{border-collapse:collapse;font-size:.85em}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:right} .num td:first-child{text-align:left}
.bad{background:#f6d5d5} .lines{font-size:.85em;margin:4px 0} .files a{margin-right:8px;font-size:.85em}
.note{font-size:.85em;color:#444;max-width:60em}
"""


def metric_note() -> str:
    """The similarity definition in one paragraph, printed on every sheet."""
    w = WEIGHTS
    return (f"Similarity (0..1) aligns the two melodies note against note and averages the cost per alignment "
            f"step: interval {w['interval']:.0%} (|Δ semitones|/{INTERVAL_SPAN:g}), rhythm {w['rhythm']:.0%} "
            f"(|log2 ratio of inter-onset times|/{RHYTHM_SPAN:g}), contour {w['contour']:.0%} (direction "
            f"agreement); an unmatched note costs 1. Bands: close ≥ {CLOSE}, medium between, far ≤ {FAR}. "
            "Contour r: correlation of matched pitches (≥ 0.6 keeps the motif recognisable).")


def write_sheet(path: str | Path, title: str, cards: Sequence[Card], *, summary: dict[str, str] | None = None,
                matrix: np.ndarray | None = None, matrix_names: Sequence[str] = ()) -> Path:
    """Write the HTML comparison sheet; image and file links are made relative to the page."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    base = path.parent

    def rel(p: Path) -> str:
        try:
            return html.escape(str(Path(p).resolve().relative_to(base.resolve())))
        except ValueError:
            return html.escape(str(p))

    out = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
           f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>",
           f"<p class='note'>{html.escape(metric_note())}</p>"]
    if summary:
        out.append("<table class='num'>" + "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>"
                                                 for k, v in summary.items()) + "</table>")
    out.append("<div class='cards'>")
    for c in cards:
        out.append(f"<div class='card{' src' if c.highlight else ''}'><h2>{html.escape(c.name)}</h2>")
        out.append(f"<img src='{rel(c.image)}' alt='piano roll of {html.escape(c.name)}'>")
        if c.numbers:
            out.append("<table class='num'>" + "".join(
                f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in c.numbers.items())
                + "</table>")
        for line in c.lines:
            out.append(f"<div class='lines'>{html.escape(line)}</div>")
        if c.files:
            out.append("<div class='files'>" + "".join(f"<a href='{rel(f)}'>{html.escape(Path(f).suffix[1:])}</a>"
                                                       for f in c.files) + "</div>")
        out.append("</div>")
    out.append("</div>")
    if matrix is not None and len(matrix_names) > 1:
        out.append(f"<h2>Pairwise similarity (below {CLOSE} = really different)</h2><table><tr><th></th>")
        out += [f"<th>{html.escape(n)}</th>" for n in matrix_names]
        out.append("</tr>")
        for i, n in enumerate(matrix_names):
            cells = []
            for j in range(len(matrix_names)):
                v = float(matrix[i, j])
                bad = i != j and v >= CLOSE
                cells.append(f"<td class='{'bad' if bad else ''}'>{'' if i == j else f'{v:.2f}'}</td>")
            out.append(f"<tr><th>{html.escape(n)}</th>{''.join(cells)}</tr>")
        out.append("</table>")
    out.append("</body></html>")
    path.write_text("\n".join(out), encoding="utf-8")
    return path
