"""Harmonic colour learned from music with real chromatic harmony: which chords get applied
dominants and sevenths.

The composer decides *how much* colour a phrase gets from its affect (a rule: that is the
composer's intent, see :class:`segue.compose.harmony.Colour`); *where* the colour goes is the
idiom, and the idiom can be learned. From Bach's four-part chorales (public domain, the music21
corpus) this counts, separately for major and minor keys:

* for every chord change landing on scale degree *y*, how often the chord before it was *y*'s
  applied dominant (V/y, V7/y: a chromatic major or dominant-seventh chord a fifth above) or its
  applied leading-tone chord (vii°/y, vii°7/y: a chromatic diminished chord a semitone below);
* for every diatonic chord on degree *d*, how often it carries its seventh.

Chords are fitted per beat with the same templates ``segue eval`` measures with
(:func:`segue.evaluate.musicianship.beat_chords`), so a learned rate means what the measure
means; keys per phrase from music21's key analysis (minor measured as harmonic minor). The 40
chorales that ``segue eval`` shows as its reference column are left out of the counts.

``uv run python -m segue.style.colour`` re-learns and rewrites ``data/colour.json``.
"""

from __future__ import annotations

import json
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

COLOUR_PATH = Path(__file__).resolve().parent / "data" / "colour.json"
FAMILIES = ("major", "minor")
SKIP_REFERENCE = 40
"""The chorales measured as ``segue eval``'s Bach reference: never counted here."""
CHORALES = 120
"""How many further chorales are counted."""


def count_colour(scores: list[Any]) -> dict[str, Any]:
    """Counts of applied chords per target degree and of sevenths per degree, per key family."""
    from segue.evaluate.musicianship import beat_chords

    counts = {f: {"changes_to": [0] * 7, "applied_dominant": [0] * 7, "applied_leading": [0] * 7,
                  "diatonic": [0] * 7, "sevenths": [0] * 7} for f in FAMILIES}
    for score in scores:
        chords = beat_chords(score)
        beat = score.beat_ticks
        prev = None
        for b, chord in enumerate(chords):
            if chord is None:
                continue
            key = score.key_at(b * beat)
            if key is None:
                prev = chord
                continue
            family = key.family
            scale = [(key.tonic + s) % 12 for s in _steps(key)]
            c = counts[family]
            degree = scale.index(chord.root) if chord.root in scale else None
            if prev is not None and chord != prev:
                if degree is not None and chord.pcs <= key.pitch_classes and degree:
                    c["changes_to"][degree] += 1
                    chromatic = not prev.pcs <= key.pitch_classes
                    if chromatic and prev.quality in ("maj", "dom7") and prev.root == (chord.root + 7) % 12:
                        c["applied_dominant"][degree] += 1
                    elif chromatic and prev.quality in ("dim", "dim7", "hdim7") and prev.root == (chord.root - 1) % 12:
                        c["applied_leading"][degree] += 1
                if degree is not None and chord.pcs <= key.pitch_classes:
                    c["diatonic"][degree] += 1
                    c["sevenths"][degree] += len(chord.pcs) > 3
            prev = chord
    return counts


def _steps(key: Any) -> tuple[int, ...]:
    from segue.evaluate.musicianship import MODE_STEPS

    return MODE_STEPS[key.mode]


def rates(counts: dict[str, Any]) -> dict[str, dict[str, list[float]]]:
    """Smoothed rates from counts (add-one over a small prior, so an unseen degree is rare, not impossible)."""
    out: dict[str, dict[str, list[float]]] = {}
    for f, c in counts.items():
        n, d = c["changes_to"], c["diatonic"]
        out[f] = {
            "applied_dominant": [(a + 0.5) / (t + 10) for a, t in zip(c["applied_dominant"], n)],
            "applied_leading": [(a + 0.5) / (t + 10) for a, t in zip(c["applied_leading"], n)],
            "seventh": [(s + 0.5) / (t + 10) for s, t in zip(c["sevenths"], d)],
        }
    return out


@lru_cache(maxsize=1)
def load_colour(path: Path = COLOUR_PATH) -> dict[str, dict[str, tuple[float, ...]]]:
    """The shipped learned colour rates (per family: applied_dominant, applied_leading, seventh; 7 degrees each)."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {f: {k: tuple(float(x) for x in v) for k, v in doc["rates"][f].items()} for f in FAMILIES}


def learn(count: int = CHORALES) -> dict[str, Any]:
    from segue.evaluate.musicianship_reference import chorale_paths, chorale_score

    paths = chorale_paths(SKIP_REFERENCE + count)[SKIP_REFERENCE:]
    scores = [chorale_score(p)[0] for p in paths]
    counts = count_colour(scores)
    return {
        "source": "J. S. Bach, four-part chorales, music21 corpus (public domain)",
        "selection": f"four-voice chorales {SKIP_REFERENCE + 1}–{SKIP_REFERENCE + len(paths)} by file name "
                     f"(the first {SKIP_REFERENCE} are segue eval's reference and are not counted)",
        "files": [p.name for p in paths],
        "counts": counts,
        "rates": rates(counts),
    }


def main(argv: list[str] | None = None) -> int:
    doc = learn()
    COLOUR_PATH.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    for f in FAMILIES:
        r = doc["rates"][f]
        print(f, "applied V/x by target degree:", " ".join(f"{x:.3f}" for x in r["applied_dominant"]))
        print(f, "applied vii°/x by target degree:", " ".join(f"{x:.3f}" for x in r["applied_leading"]))
        print(f, "seventh by degree:", " ".join(f"{x:.3f}" for x in r["seventh"]))
    print(f"wrote {COLOUR_PATH} from {len(doc['files'])} chorales")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
