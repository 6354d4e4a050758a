"""Reference numbers for QUALITY.md §7: the musicianship measures of Bach chorales.

``uv run python -m segue.evaluate.musicianship_reference`` parses the first
:data:`CHORALES` four-part chorales (Soprano, Alto, Tenor, Bass; files sorted by name) of the
music21 corpus that ships with the music21 package (public domain, nothing is downloaded),
measures each with :func:`~segue.evaluate.musicianship.measure_score` and writes
``src/segue/evaluate/data/musicianship_reference.json``. ``segue eval`` reads that file, since
parsing with music21 is slow.

How a chorale becomes a :class:`~segue.evaluate.musicianship.Score`: ties are merged into
single notes; a pickup keeps its place at the end of bar 0 (onsets are shifted by the first
measure's left padding), so downbeats stay downbeats; the soprano is the melody and the bass
part the bass; repeats are not expanded (the score as written).

Keys come from music21's key analysis (Krumhansl–Schmuckler), a minor result measured as
*harmonic* minor (the raised leading note of V is diatonic in common-practice minor). The home
key is the analysis of the whole chorale. Chorales modulate at their cadences, and Segue writes a
key marker at each of its modulations, so, to measure like with like, each phrase (up to and
including a soprano note with a fermata) gets its own analysed key, as a key change at its
start. The JSON also keeps ``summary_global_key``: the same measures with the home key
throughout, where every modulation counts as chromatic.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from segue.evaluate.musicianship import KeySig, Score, Track, measure_score, summarise

CHORALES = 40
"""How many chorales the reference measures."""

VOICES = ("Soprano", "Alto", "Tenor", "Bass")
ROLES = {"Soprano": "melody", "Alto": "harmony", "Tenor": "harmony", "Bass": "bass"}
TPQ = 480
REFERENCE_PATH = Path(__file__).resolve().parent / "data" / "musicianship_reference.json"


def chorale_paths(count: int = CHORALES) -> list[Path]:
    """The first ``count`` four-voice chorales (MusicXML) of the music21 corpus, sorted by file name."""
    from music21 import corpus

    out: list[Path] = []
    for path in sorted((Path(p) for p in corpus.getComposer("bach")), key=lambda p: p.name):
        if path.suffix != ".mxl":
            continue
        score = corpus.parse(path)
        if tuple(p.partName for p in score.parts) == VOICES:
            out.append(path)
            if len(out) == count:
                break
    return out


def _analysed_key(stream: Any) -> KeySig:
    found = stream.analyze("key")
    return KeySig(found.tonic.pitchClass, "major" if found.mode == "major" else "harmonic_minor")


def phrase_keys(parsed: Any, shift: float) -> list[tuple[int, KeySig]]:
    """One analysed key per phrase; a phrase ends after each soprano note that carries a fermata."""
    from music21 import expressions

    ends = sorted({float(n.offset + n.quarterLength) for n in parsed.parts[0].flatten().notes
                   if any(isinstance(e, expressions.Fermata) for e in n.expressions)})
    total = float(parsed.highestTime)
    starts = [0.0] + [e for e in ends if e < total]
    notes = parsed.flatten().notes
    keys = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else total
        span = notes.getElementsByOffset(start, end, includeEndBoundary=False, mustBeginInSpan=True).stream()
        if len(span):
            keys.append((round((start + shift) * TPQ), _analysed_key(span)))
    return keys


def chorale_score(path: Path) -> tuple[Score, str]:
    """A chorale as a :class:`Score` (phrase keys, home = whole-piece key) and its home key's name."""
    from music21 import corpus

    parsed = corpus.parse(path).stripTies()
    first = parsed.parts[0].getElementsByClass("Measure")[0]
    shift = float(first.paddingLeft or 0.0)
    sig = parsed.recurse().getElementsByClass("TimeSignature")
    num, den = (sig[0].numerator, sig[0].denominator) if sig else (4, 4)
    key = _analysed_key(parsed)
    tracks = []
    for part in parsed.parts:
        notes = []
        for n in part.flatten().notes:
            dur = round(float(n.quarterLength) * TPQ)
            if dur <= 0:  # grace notes
                continue
            start = round((float(n.offset) + shift) * TPQ)
            notes.extend((p.midi, start, dur) for p in n.pitches)
        tracks.append(Track(part.partName, sorted(notes, key=lambda x: (x[1], x[0])), ROLES.get(part.partName)))
    length = round((float(parsed.highestTime) + shift) * TPQ)
    return Score(tracks, TPQ, num, den, phrase_keys(parsed, shift) or [(0, key)], key, length), key.name()


def measure_chorales(count: int = CHORALES) -> dict[str, Any]:
    """Per-chorale measures and their summary, as written to :data:`REFERENCE_PATH`."""
    import music21

    pieces = []
    for path in chorale_paths(count):
        score, key = chorale_score(path)
        measures = measure_score(score)
        phrases = len(score.keys)
        score.keys = [(0, score.home)]
        pieces.append({"file": path.name, "key": key, "bars": score.n_bars, "phrases": phrases,
                       "measures": measures, "measures_global_key": measure_score(score)})
    return {
        "corpus": "Bach chorales, music21 corpus (public domain)",
        "music21_version": music21.__version__,
        "selection": f"first {count} four-voice (SATB) .mxl chorales sorted by file name",
        "key": "music21 key analysis per fermata phrase (home: whole chorale); minor measured as harmonic minor",
        "summary": summarise([p["measures"] for p in pieces]),
        "summary_global_key": summarise([p["measures_global_key"] for p in pieces]),
        "pieces": pieces,
    }


def load_reference(path: Path = REFERENCE_PATH) -> dict[str, Any]:
    """The committed reference JSON (NaN comes back from ``null``)."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    for name in ("summary", "summary_global_key"):
        doc[name] = {k: float("nan") if v is None else v for k, v in doc[name].items()}
    return doc


def main(argv: list[str] | None = None) -> int:
    from segue.evaluate.report import _plain

    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else REFERENCE_PATH
    doc = measure_chorales()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(_plain(doc), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    summary = doc["summary"]
    print(f"wrote {out}: {len(doc['pieces'])} chorales")
    for name, value in summary.items():
        print(f"  {name:40s} {value:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
