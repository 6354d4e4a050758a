"""Creative direction in words → a musical brief for a cue.

"tense suspense building to a triumphant climax", "melancholy piano, sparse", "slow strings and
choir, no drums, 60 bpm" — the words a director uses. The offline reader understands mood words
(the circumplex placements in :data:`segue.compose.affect.MOOD_WORDS`, then Segue's film lexicon),
degree words ("very", "slightly"), an arc ("A building to B", "from A to B", "A → B": the cue
starts as A and its intensity moves towards B's), instruments (any General MIDI name or everyday
alias, through :func:`segue.spec.program_number`), texture ("sparse", "lush"), tempo ("slow",
"driving", "72 bpm"), drums on or off and a key ("in D minor"). A language-model backend answers
the same question with the same :class:`Direction` (see :mod:`segue.film.llm`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from segue.compose.affect import MOOD_WORDS
from segue.film.errors import FilmError
from segue.film.lexicon import INTENSIFIERS, default_lexicon

DENSITY_WORDS = {
    "sparse": 0.2, "minimal": 0.15, "bare": 0.15, "thin": 0.25, "delicate": 0.3, "intimate": 0.3, "spare": 0.2,
    "simple": 0.35, "light": 0.35, "moderate": 0.5, "full": 0.75, "rich": 0.75, "lush": 0.85, "dense": 0.9,
    "busy": 0.9, "thick": 0.85, "driving": 0.85, "wall": 0.95,
}
TEMPO_WORDS = {"slow": 0.8, "slower": 0.8, "languid": 0.75, "lento": 0.75, "adagio": 0.8, "andante": 0.9,
               "moderato": 1.0, "steady": 1.0, "brisk": 1.12, "fast": 1.2, "faster": 1.2, "quick": 1.15,
               "rapid": 1.25, "allegro": 1.15, "presto": 1.3, "frantic": 1.3, "driving": 1.15, "urgent": 1.2}
_ARC = re.compile(r"\s*(?:->|→|—>|\bthen\b|\b(?:building|builds|build|rising|rises|growing|grows|swelling|swells|"
                  r"turning|turns|giving\s+way|gives\s+way|resolving|resolves|falling|falls|fading|fades|moving|"
                  r"moves|leading|leads|shifting|shifts|opening|opens|erupting|erupts|exploding|explodes)"
                  r"\s+(?:up\s+|down\s+|out\s+)?(?:to|into)\b)\s*", re.IGNORECASE)
_FROM_TO = re.compile(r"^\s*from\s+(.+?)\s+to\s+(.+)$", re.IGNORECASE)
_BPM = re.compile(r"(\d{2,3}(?:\.\d+)?)\s*(?:bpm|beats per minute)", re.IGNORECASE)
_KEY = re.compile(r"\bin\s+([A-Ga-g][#b]?)\s*(major|minor|dorian|phrygian|lydian|mixolydian|aeolian|"
                  r"harmonic minor|melodic minor)?\b")
_NO_DRUMS = re.compile(r"\b(?:no|without|not?\s+any)\s+(?:drums?|percussion|drum\s+kit)\b", re.IGNORECASE)
_DRUMS = re.compile(r"\b(?:drums?|percussion|drum\s+kit)\b", re.IGNORECASE)
_BUILD = re.compile(r"\b(?:build|building|builds|rising|crescendo|swelling|growing)\b", re.IGNORECASE)
_FADE = re.compile(r"\b(?:fading|fades?|dying away|diminuendo|receding|settling)\b", re.IGNORECASE)
_PERCUSSION_NAMES = {"drums", "drum", "drum kit", "percussion", "drumkit", "kit"}


@dataclass(slots=True)
class Direction:
    """What a direction asks of the music; fields left None are the analysis's to decide."""

    text: str
    valence: float
    arousal: float
    tension: float
    intensity: float
    intensity_end: float | None = None
    instruments: list[tuple[str, int]] = field(default_factory=list)
    density: float | None = None
    tempo: float | None = None
    tempo_scale: float = 1.0
    percussion: bool | None = None
    key: str | None = None
    words: list[str] = field(default_factory=list)
    source: str = "lexicon"


def _mood_point(word: str) -> tuple[float, float, float, float] | None:
    """(valence, arousal, intensity, tension) of one mood word, or None."""
    lex = default_lexicon()
    e = lex.lookup(word)
    stem = word if word in MOOD_WORDS else word.rstrip("s") if word.rstrip("s") in MOOD_WORDS else None
    if stem is not None:
        v, a, i = MOOD_WORDS[stem]
        t = e.tension if e is not None else min(1.0, max(0.0, 0.55 * i + 0.45 * (1 - (v + 1) / 2) * (0.4 + 0.6 * a)))
        return v, a, i, t
    if e is not None:
        from segue.film.analysis import intensity_of

        return e.valence, e.arousal, intensity_of(e.arousal, e.tension), e.tension
    return None


def _moods(text: str) -> tuple[list[tuple[float, float, float, float]], list[str]]:
    found, words = [], []
    scale = 1.0
    for w in re.findall(r"[a-z]+", text.lower()):
        if w in INTENSIFIERS and w not in MOOD_WORDS:
            scale = INTENSIFIERS[w]
            continue
        p = _mood_point(w)
        if p is not None:
            v, a, i, t = p
            found.append((v * scale, 0.5 + (a - 0.5) * scale, 0.5 + (i - 0.5) * scale, 0.5 + (t - 0.5) * scale))
            words.append(w)
        scale = 1.0
    return found, words


def _mean(points: list[tuple[float, float, float, float]]) -> tuple[float, float, float, float]:
    n = len(points)
    v, a, i, t = (sum(p[k] for p in points) / n for k in range(4))
    return max(-1.0, min(1.0, v)), max(0.0, min(1.0, a)), max(0.0, min(1.0, i)), max(0.0, min(1.0, t))


def instruments_in(text: str) -> tuple[list[tuple[str, int]], bool]:
    """General MIDI instruments named in ``text`` (longest names first) and whether drums were named."""
    from segue.spec import program_number

    words = re.findall(r"[a-z0-9()]+", text.lower())
    found: list[tuple[str, int]] = []
    drums = False
    i = 0
    while i < len(words):
        for n in (3, 2, 1):
            if i + n > len(words):
                continue
            name = " ".join(words[i:i + n])
            if name in _PERCUSSION_NAMES:
                drums = True
                i += n
                break
            if n == 1 and (name in DENSITY_WORDS or name in TEMPO_WORDS or name.isdigit()):
                continue
            try:
                prog = program_number(name)
            except ValueError:
                continue
            if all(p != prog for _, p in found):
                found.append((name, prog))
            i += n
            break
        else:
            i += 1
    return found, drums


def parse_direction(text: str, *, strict: bool = True) -> Direction | None:
    """Read a direction in words. ``strict``: FilmError when no word is understood (else None)."""
    if not isinstance(text, str) or not text.strip():
        if strict:
            raise FilmError("a direction needs some words, e.g. 'melancholy piano, sparse'")
        return None
    body = text.strip()
    m = _FROM_TO.match(body)
    if m:
        start_text, end_text = m.group(1), m.group(2)
    else:
        parts = _ARC.split(body, maxsplit=1)
        start_text, end_text = (parts[0], parts[1]) if len(parts) == 2 else (body, "")
    start, words = _moods(start_text)
    end, end_words = _moods(end_text)
    instruments, named_drums = instruments_in(body)
    density = None
    tempo_scale = 1.0
    for w in re.findall(r"[a-z]+", body.lower()):
        if w in DENSITY_WORDS and (density is None):
            density = DENSITY_WORDS[w]
            words.append(w)
        if w in TEMPO_WORDS:
            tempo_scale *= TEMPO_WORDS[w]
            words.append(w)
    bpm = _BPM.search(body)
    tempo = float(bpm.group(1)) if bpm else None
    key = None
    km = _KEY.search(body)
    if km:
        key = km.group(1)[0].upper() + km.group(1)[1:] + " " + (km.group(2) or "major")
    percussion = False if _NO_DRUMS.search(body) else (True if named_drums and _DRUMS.search(body) else None)
    if not start and end:
        start, end = end, []
    if not start and not (instruments or density is not None or tempo or key or percussion is not None):
        if strict:
            known = ", ".join(sorted(MOOD_WORDS)[:10])
            raise FilmError(f"no mood, instrument or texture word recognised in direction {text!r}; "
                            f"try words like {known} …, an instrument (piano, strings, horn) or 'sparse'")
        return None
    v, a, i, t = _mean(start) if start else (0.0, 0.4, 0.4, 0.3)
    i_end = None
    if end:
        _, _, i_end, _ = _mean(end)
        words += ["→"] + end_words
    elif _BUILD.search(body):
        i_end = min(1.0, i + 0.3)
    elif _FADE.search(body):
        i_end = max(0.0, i - 0.3)
    if density is not None:
        i = 0.6 * i + 0.4 * density  # a sparse texture is a quieter one
    return Direction(text=body, valence=v, arousal=a, tension=t, intensity=i, intensity_end=i_end,
                     instruments=instruments, density=density, tempo=tempo, tempo_scale=tempo_scale,
                     percussion=percussion, key=key, words=list(dict.fromkeys(words + [n for n, _ in instruments])))
