"""What ``segue vary`` and ``segue morph`` do: read, generate, export, write the sheet and a report.

``cli.py`` (the lead's) wires these to typer; everything a user can get wrong raises
:class:`VariationError` with a printable sentence. Files written into ``out_dir``::

    sheet.html            comparison sheet (piano rolls + similarity numbers + pairwise table)
    report.json           every number: similarities, band hit rate, pairwise diversity, timings
    source.mid/.musicxml/.wav, var01.mid/.musicxml/.wav, …   (morph: a.*, step01.*, …, b.*)
    rolls/*.png           the piano rolls the sheet shows
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

from segue.music import pitch_name
from segue.spec import parse_note
from segue.variations.draft import Layer
from segue.variations.errors import VariationError
from segue.variations.explore import Batch, Variation, vary
from segue.variations.export import Piece, write_midi, write_musicxml, write_wav
from segue.variations.harmony import progression_text
from segue.variations.morph import morph_path
from segue.variations.motif import Motif
from segue.variations.reading import read_motif
from segue.variations.sheet import Card, piano_roll, write_sheet
from segue.variations.similarity import CLOSE, similarity


def _export(x: Variation | Motif | Piece, stem: Path, *, audio: bool, musicxml: bool) -> list[Path]:
    files = [write_midi(x, stem.with_suffix(".mid"))]
    if musicxml:
        files.append(write_musicxml(x, stem.with_suffix(".musicxml")))
    if audio:
        files.append(write_wav(x, stem.with_suffix(".wav")))
    return files


def _span(layer_sets: Sequence[Sequence[Layer]]) -> tuple[int, int]:
    pitches = [n.pitch for layers in layer_sets for ly in layers for n in ly.notes]
    return (min(pitches) - 2, max(pitches) + 2) if pitches else (58, 74)


def cli_vary(motif: str | Path, n: int = 8, axes: str | Sequence[str] = "rhythm", band: str = "medium",
             out_dir: str | Path = "variations", key: str | None = None, meter: str | None = None, seed: int = 0,
             *, skyline: bool = False, track: int | None = None, low: int | str | None = None,
             high: int | str | None = None, mode: str | None = None, audio: bool = True,
             musicxml: bool = True) -> list[Path]:
    """``segue vary MOTIF -n 8 --axis rhythm,harmony --band medium --out DIR``: returns the files written
    (``sheet.html`` first, then ``report.json``, then the source's and each variation's files).
    ``low``/``high`` bound the melody: a note name (``"C4"``) or a MIDI number."""
    started = time.perf_counter()
    source = read_motif(motif, key=key, meter=meter, skyline=skyline, track=track)
    batch = vary(source, n, axes, band, seed=seed, low=_pitch(low, "low"), high=_pitch(high, "high"), mode=mode)
    out = Path(out_dir)
    written: list[Path] = []
    src_piece = Piece.of(source)
    written += _export(src_piece, out / "source", audio=audio, musicxml=musicxml)
    sets = [src_piece.layers] + [v.all_layers for v in batch.variations]
    span = _span(sets)
    length = max([source.length] + [v.motif.length for v in batch.variations])
    rolls = out / "rolls"
    src_png = piano_roll(src_piece.layers, rolls / "source.png", title=source.name, length=length,
                         ticks_per_bar=source.meter.ticks_per_bar, pitch_span=span)
    cards = [Card(f"source — {source.name}", src_png,
                  {"key": source.key.name(), "meter": str(source.meter), "tempo": f"{source.bpm:g} bpm",
                   "notes": str(len(source.notes))}, list(source.remarks), list(written), highlight=True)]
    for i, v in enumerate(batch.variations, start=1):
        stem = out / f"var{i:02d}"
        files = _export(v, stem, audio=audio, musicxml=musicxml)
        written += files
        s = v.similarity
        png = piano_roll(v.all_layers, rolls / f"var{i:02d}.png", length=length, pitch_span=span,
                         ticks_per_bar=v.motif.meter.ticks_per_bar,
                         title=f"var {i}: similarity {s.overall:.2f} ({s.band})")
        numbers = {"similarity": f"{s.overall:.3f} ({s.band})", "interval / rhythm / contour":
                   f"{s.interval:.2f} / {s.rhythm:.2f} / {s.contour:.2f}",
                   "contour r": f"{s.contour_correlation:+.2f}", "key / meter / tempo":
                   f"{v.motif.key.name()} / {v.motif.meter} / {v.motif.bpm:g}"}
        lines = list(v.recipe)
        if v.chords and not any(r.startswith("harmony:") for r in v.recipe):
            lines.append("chords: " + progression_text(v.chords))
        cards.append(Card(f"var {i}", png, numbers, lines, files))
    summary = _vary_summary(batch)
    sheet = write_sheet(out / "sheet.html", f"Variations of {source.name} — {', '.join(batch.axes)}, {band}",
                        cards, summary=summary, matrix=batch.pairwise,
                        matrix_names=[f"var {i}" for i in range(1, len(batch.variations) + 1)])
    report = out / "report.json"
    data = {**batch.summary(), "variations": [v.as_dict() for v in batch.variations],
            "seconds_total": round(time.perf_counter() - started, 3)}
    report.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    return [sheet, report, *written, src_png, *sorted(rolls.glob("var*.png"))]


def _pitch(value: int | str | None, what: str) -> int | None:
    if value is None:
        return None
    try:
        return parse_note(int(value) if isinstance(value, str) and value.strip().isdigit() else value)
    except ValueError as exc:
        raise VariationError(f"--{what}: {exc}") from None


def _vary_summary(batch: Batch) -> dict[str, str]:
    return {"source": batch.source.describe(), "axes": ", ".join(batch.axes), "band": batch.band,
            "range": f"{pitch_name(batch.low)}–{pitch_name(batch.high)}",
            "returned": f"{len(batch.variations)} (of {batch.generated} generated; {batch.hit_rate:.0%} landed "
                        "in the band)",
            "pairwise similarity": f"max {batch.max_pairwise:.2f}, mean {batch.mean_pairwise:.2f} "
                                   f"({'all below' if batch.diverse else 'not all below'} {CLOSE})",
            "remarks": "; ".join(batch.remarks + list(batch.source.remarks)) or "—"}


def cli_morph(a: str | Path, b: str | Path, steps: int = 6, out_dir: str | Path = "morph", *, seed: int = 0,
              key: str | None = None, meter: str | None = None, skyline: bool = False, audio: bool = True,
              musicxml: bool = True) -> list[Path]:
    """``segue morph A B --steps 6 --out DIR``: returns the files written (``sheet.html`` first, then
    ``report.json``, then A's, each step's and B's files). ``key``/``meter`` apply to both motifs."""
    started = time.perf_counter()
    ma = read_motif(a, key=key, meter=meter, skyline=skyline, name="A")
    mb = read_motif(b, key=key, meter=meter, skyline=skyline, name="B")
    path = morph_path(ma, mb, steps, seed=seed)
    out = Path(out_dir)
    phrases = [("a", ma), *[(f"step{i:02d}", m) for i, m in enumerate(path.steps, start=1)], ("b", mb)]
    to_a = [1.0, *path.to_a, similarity(mb, ma).overall]
    to_b = [similarity(ma, mb).overall, *path.to_b, 1.0]
    span = _span([Piece.of(m).layers for _, m in phrases])
    length = max(m.length for _, m in phrases)
    written: list[Path] = []
    cards: list[Card] = []
    pngs: list[Path] = []
    for (stem, m), sa, sb in zip(phrases, to_a, to_b):
        files = _export(m, out / stem, audio=audio, musicxml=musicxml)
        written += files
        png = piano_roll(Piece.of(m).layers, out / "rolls" / f"{stem}.png", length=length, pitch_span=span,
                         ticks_per_bar=m.meter.ticks_per_bar, title=f"{m.name}: to A {sa:.2f}, to B {sb:.2f}")
        pngs.append(png)
        cards.append(Card(m.name, png, {"similarity to A": f"{sa:.3f}", "similarity to B": f"{sb:.3f}",
                                        "key / meter": f"{m.key.name()} / {m.meter}"}, [], files,
                          highlight=stem in ("a", "b")))
    summary = {"A": ma.describe(), "B": mb.describe(), "steps": str(steps),
               "monotone": "yes" + (" (strictly)" if path.strict else " (not strictly: the motifs are too alike "
                                                                      "for that many different steps)")
               if path.monotone() else "no"}
    sheet = write_sheet(out / "sheet.html", f"Morph {ma.name} → {mb.name} in {steps} steps", cards, summary=summary)
    report = out / "report.json"
    report.write_text(json.dumps({"a": ma.describe(), "b": mb.describe(), "steps": steps,
                                  "similarity_to_a": [round(x, 4) for x in to_a],
                                  "similarity_to_b": [round(x, 4) for x in to_b], "strict": path.strict,
                                  "monotone": path.monotone(), "remarks": list(ma.remarks) + list(mb.remarks),
                                  "seconds_total": round(time.perf_counter() - started, 3)}, indent=2,
                                 ensure_ascii=False), encoding="utf-8")
    return [sheet, report, *written, *pngs]
