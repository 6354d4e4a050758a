"""Pictures and a page a director can read: the emotion arc with cues and hits, and the cue sheet.

The arc plot draws valence, arousal and tension through the film — per scene (steps) and per
paragraph inside scenes (faint dots) — with every cue's span shaded and labelled and every hit
point marked. The HTML report is one self-contained page: the arc (inline SVG), then a row per
cue with its timecodes, scenes, mood in words, key, tempo, instruments, hits (with their measured
error once rendered) and *why* — the words in the script that made the music what it is.
"""

from __future__ import annotations

import html
import io
from pathlib import Path

from segue.film.cuesheet import CueSheet

COLOURS = {"valence": "#2b6cb0", "arousal": "#c05621", "tension": "#6b46c1"}


def arc_figure(sheet: CueSheet):
    """A matplotlib figure of the film's emotion arc with cue boundaries and hit points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    width_in = 12.0 if len(sheet.cues) <= 30 else 18.0  # a feature gets a wider page
    fig, ax = plt.subplots(figsize=(width_in, 4.6), dpi=110)
    length = max(sheet.length, 1e-6)
    per_char = length / (width_in * 0.85 * 72) * 0.7  # seconds of x axis one character of 1 pt takes (with room)
    centres = [(c.start + c.end) / 2 for c in sheet.cues]
    id_rows = place_labels(centres, [(len(c.id) + 1) * 9 * per_char if c.music else 0.0 for c in sheet.cues], rows=2)
    moods = [c.mood[0] if c.mood else "" for c in sheet.cues]
    mood_rows = place_labels(centres, [(len(m) + 1) * 7.5 * per_char if c.music else 0.0 for m, c in zip(moods, sheet.cues)], rows=2)
    for k, c in enumerate(sheet.cues):
        if not c.music:  # spotted dry: no music plays here
            ax.axvspan(c.start, c.end, facecolor="white", edgecolor="#a0aec0", hatch="//", lw=0, zorder=0)
            continue
        ax.axvspan(c.start, c.end, color="#edf2f7" if k % 2 == 0 else "#e2e8f0", zorder=0)
        ax.axvline(c.start, color="#718096", lw=0.8, zorder=1)
        if id_rows[k] is not None:
            ax.text(centres[k], 1.08 - 0.09 * id_rows[k], c.id, ha="center", va="bottom", fontsize=9, color="#2d3748")
        if mood_rows[k] is not None and moods[k]:
            ax.text(centres[k], -1.13 + 0.09 * mood_rows[k], moods[k], ha="center", va="bottom", fontsize=7.5,
                    color="#4a5568")
        for h in c.hits:
            ax.axvline(h.time, color="#e53e3e", lw=1.2, ls="--", zorder=3)
            ax.plot([h.time], [1.0], marker="v", color="#e53e3e", ms=7, zorder=4)
    for key in ("valence", "arousal", "tension"):
        xs, ys = [], []
        for s in sheet.arc:
            xs += [s["start"], s["end"]]
            ys += [s[key], s[key]]
        if xs:
            ax.plot(xs, ys, color=COLOURS[key], lw=2.0, label=key, zorder=5)
        idx = {"valence": 1, "arousal": 2, "tension": 3}[key]
        bx = [b[0] for s in sheet.arc for b in s.get("beats", [])]
        by = [b[idx] for s in sheet.arc for b in s.get("beats", [])]
        if bx:
            ax.scatter(bx, by, s=8, color=COLOURS[key], alpha=0.3, zorder=4)
    for c in sheet.cues:  # what the music was asked for: the cue's own intensity (and its build)
        end = c.intensity if c.intensity_end is None else c.intensity_end
        ax.plot([c.start, c.end], [c.intensity, end], color="#2f855a", lw=1.2, ls=":", zorder=5)
    ax.plot([], [], color="#2f855a", lw=1.2, ls=":", label="cue intensity")
    ax.plot([], [], color="#e53e3e", lw=1.2, ls="--", label="hit point")
    if any(not c.music for c in sheet.cues):
        ax.fill_between([], [], facecolor="white", edgecolor="#a0aec0", hatch="//", lw=0, label="spotted dry")
    ax.set_xlim(0, length)
    ax.set_ylim(-1.15, 1.2)
    ticks = [t for t in _nice_ticks(length)]
    ax.set_xticks(ticks)
    ax.set_xticklabels([sheet.tc(t)[:8] for t in ticks], fontsize=8)
    ax.set_ylabel("valence −1…1 · arousal, tension 0…1")
    ax.set_title(f"{sheet.title} — emotion arc and cues", fontsize=11)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), fontsize=8, ncol=6, frameon=False)
    ax.axhline(0, color="#a0aec0", lw=0.6)
    fig.tight_layout()
    return fig


def place_labels(centres: list[float], widths: list[float], rows: int = 2, gap: float = 0.0) -> list[int | None]:
    """A row (0 … rows-1) for each label centred at ``centres`` so that no two overlap, or None to leave it out.

    Why: a feature has a hundred cues; drawn all on one line their ids pile into a black bar. Labels
    are staggered over a few rows, and one that fits no row is thinned out (the table lists every cue).
    """
    ends = [float("-inf")] * rows
    out: list[int | None] = []
    for c, w in zip(centres, widths):
        left, right = c - w / 2, c + w / 2
        row = next((r for r in range(rows) if left >= ends[r] + gap), None)
        if row is not None:
            ends[row] = right
        out.append(row)
    return out


def _nice_ticks(length: float) -> list[float]:
    for step in (10, 15, 30, 60, 120, 300, 600, 900, 1800):
        if length / step <= 12:
            break
    return [k * step for k in range(int(length // step) + 1)]


def write_arc(sheet: CueSheet, out_dir: Path) -> list[Path]:
    """arc.png and arc.svg."""
    import matplotlib.pyplot as plt

    fig = arc_figure(sheet)
    paths = [out_dir / "arc.png", out_dir / "arc.svg"]
    fig.savefig(paths[0])
    fig.savefig(paths[1])
    plt.close(fig)
    return paths


def _svg_inline(sheet: CueSheet, svg_file: Path | None = None) -> str:
    """The arc as inline SVG (read from ``svg_file`` when it was just written)."""
    if svg_file is not None and svg_file.exists():
        text = svg_file.read_text(encoding="utf-8")
    else:
        import matplotlib.pyplot as plt

        fig = arc_figure(sheet)
        buf = io.StringIO()
        fig.savefig(buf, format="svg")
        plt.close(fig)
        text = buf.getvalue()
    return text[text.find("<svg"):]


def write_html(sheet: CueSheet, path: Path, render: object | None = None, svg_file: Path | None = None) -> Path:
    """A one-page cue-sheet report (self-contained HTML)."""
    e = html.escape
    rows = []
    for c in sheet.cues:
        hits = "<br>".join(
            f"{e(sheet.tc(h.time))} {e(h.label)}" + (
                f" <span class={'miss' if h.missed else 'err'}>{'MISSED ' if h.missed else ''}MIDI "
                f"{h.measured_ms:+.1f} ms" + (f", audio {h.audio_ms:+.1f} ms" if h.audio_ms is not None else "")
                + f", {e(h.beat or '')}</span>" if h.measured_ms is not None else "")
            for h in c.hits) or "—"
        build = f" → {c.intensity_end:.2f}" if c.intensity_end is not None else ""
        why = "".join(f"<li>{e(w)}</li>" for w in c.why[:6])
        if not c.music:
            rows.append(f"<tr class=dry><td class=id>{e(c.id)}</td><td>{e(sheet.tc(c.start))}<br>{e(sheet.tc(c.end))}"
                        f"<br><small>{c.duration:.1f} s</small></td><td>{e(', '.join(c.scenes))}</td>"
                        f"<td colspan=5><b>dry</b> — no music (<code>music: false</code>; set it to true to score "
                        f"this span)</td><td><ul>{why}</ul></td></tr>")
            continue
        rows.append(
            f"<tr><td class=id>{e(c.id)}{' 🔒' if c.locked else ''}</td><td>{e(sheet.tc(c.start))}<br>{e(sheet.tc(c.end))}"
            f"<br><small>{c.duration:.1f} s</small></td><td>{e(', '.join(c.scenes))}</td>"
            f"<td><b>{e(', '.join(c.mood))}</b><br><small>valence {c.valence:+.2f} · arousal {c.arousal:.2f} · "
            f"tension {c.tension:.2f} · intensity {c.intensity:.2f}{build}</small>"
            + (f"<br><small>direction: “{e(c.direction)}”</small>" if c.direction else "")
            + f"</td><td>{e(c.key)}<br>{c.tempo:g} bpm</td><td>{e(', '.join(c.instruments))}</td><td>{hits}</td>"
            f"<td>{e(c.transition)}{'' if c.transition == 'cut' else f' ({c.fade_beats:g} beats)'}</td>"
            f"<td><ul>{why}</ul></td></tr>")
    summary = ""
    if render is not None:
        from segue.film.render import film_report_data

        d = film_report_data(render)
        summary = (f"<p class=sum>Rendered {d['length_seconds']:.3f} s at {render.sample_rate} Hz · audio "
                   f"{d['audio_seconds'] if d['audio_seconds'] is not None else 0:.3f} s · MIDI {d['midi_seconds']:.3f} s · "
                   f"length within one frame: <b>{'yes' if d['length_within_one_frame'] else 'NO'}</b> · "
                   f"largest hit error: <b>{d['max_hit_error_ms']:.2f} ms</b> (limit ±10 ms)</p>")
    warn = "".join(f"<li>{e(w)}</li>" for w in sheet.warnings)
    dry = [c for c in sheet.cues if not c.music]
    scored = sum(c.duration for c in sheet.cues if c.music)
    spotting = (f"<p>Spotting: music plays {scored / 60:.1f} of {sheet.length / 60:.1f} minutes in "
                f"{len(sheet.cues) - len(dry)} cues; {len(dry)} span(s) stay dry "
                f"({sum(c.duration for c in dry) / 60:.1f} min) and the rest is silence between cues.</p>")
    page = f"""<!doctype html>
<html lang=en><head><meta charset=utf-8><title>{e(sheet.title)} — cue sheet</title>
<style>
body{{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#1a202c}}
table{{border-collapse:collapse;width:100%;font-size:13px}} td,th{{border-top:1px solid #e2e8f0;padding:6px 8px;vertical-align:top;text-align:left}}
th{{background:#f7fafc}} td.id{{font-weight:700;white-space:nowrap}} .err{{color:#2f855a}} .miss{{color:#c53030;font-weight:700}} ul{{margin:0;padding-left:16px}}
small{{color:#4a5568}} tr.dry td{{background:#f7fafc;color:#718096}} .sum{{background:#f0fff4;padding:8px;border-radius:6px}} svg{{max-width:100%;height:auto}}
</style></head><body>
<h1>{e(sheet.title)}</h1>
<p>Cue sheet proposed by Segue from <code>{e(sheet.script or '—')}</code> · {len(sheet.cues)} cues · film length
{e(sheet.tc(sheet.length))} at {e(sheet.fps.name)} fps · start timecode {e(sheet.tc(0))} · affect analysis: {e(sheet.analysis)}</p>
{summary}
{spotting}
{_svg_inline(sheet, svg_file)}
<table><tr><th>cue</th><th>in / out</th><th>scenes</th><th>mood</th><th>key · tempo</th><th>instruments</th><th>hit points</th>
<th>into next</th><th>why</th></tr>
{''.join(rows)}
</table>
{f'<h3>Notes</h3><ul>{warn}</ul>' if warn else ''}
<p><small>Edit <code>cues.yaml</code> and re-render with <code>segue score --cue-sheet cues.yaml --out DIR</code>.</small></p>
</body></html>
"""
    path.write_text(page, encoding="utf-8")
    return path
