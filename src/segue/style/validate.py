"""Checks the harmony labels that training feeds on against human judgement.

``python -m segue.style.validate`` reports two numbers for the model card:

* key agreement — the key found by :func:`segue.style.analysis.find_key` against the key the
  chorale's encoder wrote (MusicXML ``<mode>``), over every chorale that declares one;
* chord-root agreement — the root of the triad fitted to each beat against the root of the
  Roman numeral that a music theorist wrote for that beat, in the 20 Riemenschneider chorale
  analyses shipped with music21 (``bach/choraleAnalyses``). The fitting constants were tuned
  on the even-numbered half of those chorales (sorted by file name), so the odd half is the
  honest figure.

Both are measured on notes the shipped model was trained on; they say how clean the labels
are, not how well the model generalises.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from segue.style.corpus import default_files, music21_corpus_root
from segue.style.features import beat_triads, frame
from segue.style.reading import read_notation


def key_agreement() -> tuple[int, int, int]:
    """(same key, same tonic or relative key, chorales compared)."""
    from music21 import converter, key

    same = close = total = 0
    for f in default_files():
        if f.collection != "bach":
            continue
        score = converter.parse(str(f.path), forceSource=True)
        declared = next((k for k in score.recurse().getElementsByClass(key.Key)
                         if k.mode in ("major", "minor")), None)
        if declared is None:
            continue
        raw = read_notation(f.path, f.ident, f.collection)[0]
        found = frame(raw).key
        total += 1
        want = (declared.tonic.pitchClass, declared.mode)
        if (found.tonic, found.mode) == want:
            same += 1
        elif found.pitch_classes == _scale(*want):
            close += 1
    return same, close, total


def _scale(tonic: int, mode: str) -> frozenset[int]:
    from segue.music import Key

    return Key(tonic, mode).pitch_classes


def chord_root_agreement() -> dict[str, tuple[int, int] | None]:
    """Per analysed chorale: (beats whose fitted root equals the analyst's, beats compared).

    Some analyses are of a transposed edition (BWV 184.5 is analysed in G, music21's score
    is in D), so each chorale is compared at the one transposition that fits it best.
    Chorales that change meter are left out: their beats cannot be lined up by bar number.
    """
    from music21 import converter, roman

    root = music21_corpus_root() / "bach"
    out: dict[str, tuple[int, int] | None] = {}
    for analysis in sorted((root / "choraleAnalyses").glob("*.rntxt")):
        bwv = re.search(r"^BWV:\s*([\d.]+)", analysis.read_text(encoding="utf-8", errors="replace"), re.M)
        if not bwv:
            continue
        score_path = root / f"bwv{bwv.group(1)}.mxl"
        if not score_path.exists():
            continue
        raw = read_notation(score_path, score_path.name, "bach")[0]
        if raw.meter_changes or raw.denominator != 4:  # analysts count the written beat; the grid counts quarters
            out[score_path.name] = None
            continue
        fr = frame(raw)
        fits = beat_triads(raw, fr)
        rn_score = converter.parse(str(analysis), format="romantext", forceSource=True)
        labels: dict[tuple[int, int], int] = {}
        for rn in rn_score.recurse().getElementsByClass(roman.RomanNumeral):
            beat = float(rn.beat)
            if abs(beat - round(beat)) < 1e-6:
                labels[(rn.measureNumber, int(round(beat)))] = rn.root().pitchClass
        grid = fr.harmony
        pairs: list[tuple[int, int]] = []  # (fitted root, analyst's root)
        current = None
        for measure, (offset, _) in zip(_soprano_measures(score_path), raw.measures):
            bar_index = int(fr.metric(offset) / grid.bar + 1e-6)  # a pickup lies in bar 0, ending on its downbeat
            for b in range(1, grid.beats_per_bar + 1):
                current = labels.get((measure.number, b), current)
                fit = fits.get(bar_index * grid.beats_per_bar + b - 1)
                if current is not None and fit is not None:
                    pairs.append((fit.root, current))
        best = max(sum(f == (a + t) % 12 for f, a in pairs) for t in range(12))
        out[score_path.name] = (best, len(pairs))
    return out


def _soprano_measures(path: Path):
    from music21 import converter, stream

    score = converter.parse(str(path), forceSource=True)
    parts = list(score.parts)
    part = next((p for p in parts if "soprano" in (p.partName or "").lower()), parts[0])
    return list(part.getElementsByClass(stream.Measure))


def main() -> int:
    same, close, total = key_agreement()
    print(f"key agreement: {same}/{total} chorales ({same / total:.1%}) same key as written by the encoder; "
          f"{close} more in its relative key (same scale)")
    per = chord_root_agreement()
    names = sorted(per)  # halves are taken before leaving out the chorales that cannot be lined up
    for label, subset in (("all", names), ("tuning half", names[0::2]), ("check half", names[1::2])):
        scored = [per[n] for n in subset if per[n] is not None]
        agree = sum(a for a, _ in scored)
        beats = sum(b for _, b in scored)
        subset = [n for n in subset if per[n] is not None]
        print(f"chord-root agreement with human Roman-numeral analyses, {label} ({len(subset)} chorales): "
              f"{agree}/{beats} beats ({agree / beats:.1%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
