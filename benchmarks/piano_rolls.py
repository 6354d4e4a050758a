"""Piano rolls and bar self-similarity pictures of the three example specs.

    uv run python benchmarks/piano_rolls.py --out docs/img/after [--bars 32] [--seed 0]

For each example spec (``segue.evaluation_run.example_specs()``) this composes ``--bars`` bars at
the spec's own default mood, writes the MIDI file into ``--out`` and then draws *from the written
file* (read back with mido, so the picture shows exactly what a DAW would get), one PNG per spec:

* left: a piano roll, one colour per pitched track, drums (channel 10) as small marks in a strip
  underneath, bar lines (heavier at phrase starts, from the ``phrase …`` markers), and the
  ``key: …`` markers of track 0 written above the bars they start on;
* right: the bar self-similarity matrix. Every bar is reduced to the set of its
  (track, onset in bar, pitch) events over all tracks, drums included (onsets on a 32nd-note
  grid); cell (i, j) is the Jaccard index |A_i ∩ A_j| / |A_i ∪ A_j|. Repeated material shows as
  off-diagonal stripes and blocks, through-composed noodling as isolated dots; a pair of empty
  bars is left grey.

The script imports whichever ``segue`` is on the path, so the same file draws the "before" and
"after" pictures of a composer rewrite (see docs/piano-rolls.md). It prints ``segue.__file__``.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import mido  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

DRUM_CHANNEL = 9
GRID_PER_BEAT = 8  # onsets are compared on a 32nd-note grid (quarter-note beat / 8)
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
           "#bcbd22", "#7f7f7f"]
NOTE_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]


@dataclass
class Note:
    track: int
    pitch: int
    start: int
    end: int
    velocity: int
    drum: bool


@dataclass
class Song:
    """What the pictures need from a MIDI file, in ticks."""

    title: str
    ppq: int
    end: int
    track_names: list[str]
    notes: list[Note]
    bar_starts: list[int]  # tick of every bar line, first 0, last == end
    keys: list[tuple[int, str]] = field(default_factory=list)
    phrases: list[tuple[int, str]] = field(default_factory=list)

    def to_bars(self, tick: float) -> float:
        """Tick → position in bars (bar 1 starts at 0.0); meter changes are honoured."""
        b = self.bar_starts
        i = int(np.searchsorted(b, tick, side="right")) - 1
        i = max(0, min(i, len(b) - 2))
        return i + (tick - b[i]) / (b[i + 1] - b[i])

    @property
    def n_bars(self) -> int:
        return len(self.bar_starts) - 1


def read_midi(path: Path) -> Song:
    mid = mido.MidiFile(str(path))
    ppq = mid.ticks_per_beat
    names: list[str] = []
    notes: list[Note] = []
    meters: list[tuple[int, int, int]] = []  # (tick, numerator, denominator)
    keys: list[tuple[int, str]] = []
    phrases: list[tuple[int, str]] = []
    end = 0
    for ti, track in enumerate(mid.tracks):
        names.append(track.name or f"track {ti}")
        now = 0
        open_: dict[tuple[int, int], list[tuple[int, int]]] = {}
        for msg in track:
            now += msg.time
            if msg.type == "time_signature":
                meters.append((now, msg.numerator, msg.denominator))
            elif msg.type == "marker":
                text = msg.text.strip()
                if text.startswith("key:"):
                    keys.append((now, text))
                elif text.startswith("phrase"):
                    phrases.append((now, text))
            elif msg.type == "note_on" and msg.velocity > 0:
                open_.setdefault((msg.channel, msg.note), []).append((now, msg.velocity))
            elif msg.type in ("note_off", "note_on"):
                stack = open_.get((msg.channel, msg.note))
                if stack:
                    start, vel = stack.pop(0)
                    notes.append(Note(ti, msg.note, start, now, vel, msg.channel == DRUM_CHANNEL))
        for (ch, pitch), stack in open_.items():  # notes never switched off run to the track's end
            notes.extend(Note(ti, pitch, s, now, v, ch == DRUM_CHANNEL) for s, v in stack)
        end = max(end, now)
    # bar lines from the time-signature map (4/4 if the file has none)
    meters = sorted(meters) or [(0, 4, 4)]
    if meters[0][0] != 0:
        meters.insert(0, (0, 4, 4))
    bars = [0]
    mi = 0
    while bars[-1] < end:
        while mi + 1 < len(meters) and meters[mi + 1][0] <= bars[-1]:
            mi += 1
        _, num, den = meters[mi]
        bars.append(bars[-1] + int(round(num * ppq * 4 / den)))
    if len(bars) < 2:
        bars.append(4 * ppq)
    return Song(title=names[0] if names else path.stem, ppq=ppq, end=end, track_names=names,
                notes=sorted(notes, key=lambda n: (n.start, n.track, n.pitch)),
                bar_starts=bars, keys=sorted(keys), phrases=sorted(phrases))


def bar_events(song: Song) -> list[set[tuple[int, int, int]]]:
    """Per bar, the set of (track, onset in bar on the 32nd grid, pitch) events — all tracks."""
    grid = max(1, song.ppq // GRID_PER_BEAT)
    out: list[set[tuple[int, int, int]]] = [set() for _ in range(song.n_bars)]
    starts = np.asarray(song.bar_starts)
    for n in song.notes:
        b = int(np.searchsorted(starts, n.start, side="right")) - 1
        if 0 <= b < song.n_bars:
            out[b].add((n.track, int(round((n.start - starts[b]) / grid)), n.pitch))
    return out


def self_similarity(events: list[set]) -> np.ndarray:
    """Jaccard index between every pair of bars; NaN where both bars are empty."""
    n = len(events)
    m = np.full((n, n), np.nan)
    for i in range(n):
        for j in range(i, n):
            union = len(events[i] | events[j])
            if union:
                m[i, j] = m[j, i] = len(events[i] & events[j]) / union
    return m


def pitch_label(p: int) -> str:
    return f"{NOTE_NAMES[p % 12]}{p // 12 - 1}"


def draw(song: Song, png: Path, subtitle: str) -> dict[str, float]:
    pitched = [n for n in song.notes if not n.drum]
    drums = [n for n in song.notes if n.drum]
    sounding = sorted({n.track for n in pitched})
    drum_tracks = sorted({n.track for n in drums})
    silent = [song.track_names[i] for i in range(1, len(song.track_names))
              if i not in sounding and i not in drum_tracks]
    colour = {t: PALETTE[k % len(PALETTE)] for k, t in enumerate(sounding)}

    fig = plt.figure(figsize=(16, 9), dpi=100)
    gs = fig.add_gridspec(2, 2, width_ratios=[2.15, 1], height_ratios=[7, 1 if drums else 0.35], wspace=0.12, hspace=0.06,
                          left=0.05, right=0.985, top=0.86, bottom=0.08)
    ax = fig.add_subplot(gs[0, 0])
    axd = fig.add_subplot(gs[1, 0], sharex=ax)
    axs = fig.add_subplot(gs[:, 1])
    nb = song.n_bars

    # --- piano roll -------------------------------------------------------------------------
    polys, fcs = [], []
    # long notes first, so short ones (harp, arpeggios) stay visible on top of sustained chords
    for n in sorted(pitched, key=lambda n: (-(n.end - n.start), n.start)):
        x0, x1 = song.to_bars(n.start), song.to_bars(max(n.end, n.start + 1))
        x1 = max(x1, x0 + 0.02)
        polys.append([(x0, n.pitch - 0.42), (x1, n.pitch - 0.42), (x1, n.pitch + 0.42), (x0, n.pitch + 0.42)])
        fcs.append(colour[n.track])
    if polys:
        ax.add_collection(PolyCollection(polys, facecolors=fcs, edgecolors="#222222", linewidths=0.25, alpha=0.85))
        lo = min(n.pitch for n in pitched) - 2
        hi = max(n.pitch for n in pitched) + 2
    else:
        lo, hi = 48, 84
    ax.set_ylim(lo, hi)
    ax.set_xlim(0, nb)
    cs = [p for p in range(lo, hi + 1) if p % 12 == 0]
    ax.set_yticks(cs, [pitch_label(p) for p in cs])
    ax.set_yticks(range(lo, hi + 1), minor=True)
    ax.tick_params(axis="y", which="minor", length=0)
    for p in range(lo, hi + 1):  # faint black-key rows help reading pitches
        if p % 12 in (1, 3, 6, 8, 10):
            ax.axhspan(p - 0.5, p + 0.5, color="#f0f0f0", zorder=0, lw=0)
    phrase_bars = {round(song.to_bars(t), 6) for t, _ in song.phrases}
    for b in range(nb + 1):
        heavy = b in phrase_bars
        for a in (ax, axd):
            a.axvline(b, color="#333333" if heavy else "#9a9a9a", lw=1.3 if heavy else 0.6, zorder=1)
    ax.tick_params(axis="x", labelbottom=False)
    ax.set_ylabel("pitch")
    # key markers above the bars they start on
    for t, text in song.keys:
        x = song.to_bars(t)
        ax.annotate(text, xy=(x, 1.0), xycoords=("data", "axes fraction"), xytext=(2, 4),
                    textcoords="offset points", fontsize=9, color="#7a1f1f", fontweight="bold",
                    ha="left", va="bottom", annotation_clip=False)
        ax.axvline(x, color="#b03030", lw=1.2, ls="--", zorder=1.5)
    handles = [Patch(facecolor=colour[t], edgecolor="#222222",
                     label=f"{song.track_names[t]} ({sum(1 for n in pitched if n.track == t)})") for t in sounding]
    handles += [Patch(facecolor="black", label=f"{song.track_names[t]} (drums, {sum(1 for n in drums if n.track == t)})")
                for t in drum_tracks]
    if silent:
        handles.append(Patch(facecolor="white", edgecolor="#999999", label="silent: " + ", ".join(silent)))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, 1.105), ncol=min(len(handles), 5),
              fontsize=8.5, frameon=False, handlelength=1.2, columnspacing=1.0, borderaxespad=0.0)

    # --- drum strip -------------------------------------------------------------------------
    dp = sorted({n.pitch for n in drums})
    row = {p: i for i, p in enumerate(dp)}
    if drums:
        axd.scatter([song.to_bars(n.start) for n in drums], [row[n.pitch] for n in drums], s=6, marker="|",
                    c="black", linewidths=0.8)
        axd.set_ylim(-0.8, len(dp) - 0.2)
        axd.set_yticks([])
        axd.set_ylabel("drums", fontsize=9)
    else:
        axd.set_yticks([])
        axd.text(0.5, 0.5, "no drum notes", transform=axd.transAxes, ha="center", va="center",
                 color="#888888", fontsize=9)
    step = 1 if nb <= 16 else 2 if nb <= 32 else 4 if nb <= 64 else 8
    axd.set_xticks(np.arange(0, nb, step) + 0.5, [str(b + 1) for b in range(0, nb, step)])
    axd.tick_params(axis="x", length=0, labelsize=8)
    axd.set_xlabel("bar")

    # --- self-similarity --------------------------------------------------------------------
    sim = self_similarity(bar_events(song))
    cmap = plt.get_cmap("magma_r").copy()
    cmap.set_bad("#d8d8d8")
    im = axs.imshow(np.ma.masked_invalid(sim), cmap=cmap, vmin=0, vmax=1, origin="upper", interpolation="nearest",
                    extent=(0.5, nb + 0.5, nb + 0.5, 0.5))
    ticks = list(range(1, nb + 1, step * 2 if nb > 16 else step))
    axs.set_xticks(ticks)
    axs.set_yticks(ticks)
    axs.tick_params(labelsize=8)
    for b in sorted(phrase_bars):
        if 0 < b < nb:
            axs.axhline(b + 0.5, color="#3a7bd5", lw=0.6, alpha=0.7)
            axs.axvline(b + 0.5, color="#3a7bd5", lw=0.6, alpha=0.7)
    axs.set_xlabel("bar")
    axs.set_ylabel("bar")
    off = sim[~np.eye(nb, dtype=bool)] if nb > 1 else np.array([])
    off = off[~np.isnan(off)]
    stats = {"mean_offdiag": float(off.mean()) if off.size else float("nan"),
             "pairs_ge_0.5": float((off >= 0.5).mean()) if off.size else float("nan")}
    axs.set_title(f"bar self-similarity (Jaccard of (track, onset, pitch) events)\n"
                  f"mean off-diagonal {stats['mean_offdiag']:.2f}, pairs ≥ 0.5: {100 * stats['pairs_ge_0.5']:.0f}%"
                  f"  (blue lines: phrase starts)", fontsize=9.5)
    cb = fig.colorbar(im, ax=axs, fraction=0.046, pad=0.02, shrink=0.75)
    cb.ax.tick_params(labelsize=8)

    fig.suptitle(f"{song.title} — {subtitle}", fontsize=14, fontweight="bold", y=0.975)
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=100)
    plt.close(fig)
    return stats


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "piece"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="folder for the PNG and MIDI files")
    ap.add_argument("--bars", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    import segue
    from segue import evaluation_run
    from segue.export import write_midi
    from segue.pipeline import compose

    print(f"segue imported from {segue.__file__}", flush=True)
    specs = evaluation_run.example_specs()
    files = getattr(evaluation_run, "EXAMPLES", None)
    stems = [Path(f).stem for f in files] if files and len(files) == len(specs) else [slug(s.name) for s in specs]
    args.out.mkdir(parents=True, exist_ok=True)
    for stem, spec in zip(stems, specs):
        perf = compose(spec, bars=args.bars, seed=args.seed)
        mid = write_midi(perf, args.out / f"{stem}.mid")
        song = read_midi(mid)
        song.title = spec.name
        if song.n_bars != args.bars:
            print(f"  note: {mid.name} holds {song.n_bars} bars by its time signature, asked for {args.bars}")
        png = args.out / f"{stem}.png"
        stats = draw(song, png, f"seed {args.seed}, {args.bars} bars, default mood")
        print(f"{spec.name}: {png} ({png.stat().st_size // 1024} KB), {mid} — "
              f"{sum(not n.drum for n in song.notes)} pitched + {sum(n.drum for n in song.notes)} drum notes, "
              f"mean bar similarity {stats['mean_offdiag']:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
