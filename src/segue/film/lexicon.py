"""The offline affect lexicon: words of screenplay prose with valence, arousal and tension.

The word list (``data/affect_lexicon.txt``) was written for Segue and ships inside the package
(MIT, like the code), so analysis needs no download and no model. It is read once and cached.
Look-ups try the word as written, then its base form by stripping common English inflections, so
the list only needs base forms ("smash" covers smashes, smashed, smashing).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

from segue.film.errors import FilmError

NEGATORS = frozenset({
    "not", "no", "never", "nothing", "nobody", "none", "neither", "nor", "without", "cannot", "nowhere",
    "don't", "doesn't", "didn't", "isn't", "wasn't", "aren't", "weren't", "won't", "wouldn't", "can't",
    "couldn't", "shouldn't", "hasn't", "haven't", "hadn't", "ain't", "dont", "doesnt", "didnt", "isnt", "wasnt",
    "cant", "wont", "couldnt",
})
"""Words that turn the meaning of the next few words around ("not afraid")."""

INTENSIFIERS: dict[str, float] = {
    "very": 1.3, "so": 1.2, "really": 1.2, "extremely": 1.5, "utterly": 1.5, "completely": 1.4, "totally": 1.4,
    "deeply": 1.3, "terribly": 1.4, "incredibly": 1.5, "absolutely": 1.4, "too": 1.2, "most": 1.2, "truly": 1.3,
    "intensely": 1.5, "overwhelmingly": 1.6, "hugely": 1.4, "quite": 1.1, "more": 1.1, "even": 1.1,
    "slightly": 0.5, "somewhat": 0.6, "barely": 0.4, "hardly": 0.4, "faintly": 0.5, "almost": 0.7,
    "rather": 0.8, "fairly": 0.8, "mildly": 0.5, "little": 0.6, "bit": 0.6, "less": 0.7, "partly": 0.6,
}
"""Degree words and the factor they put on the next feeling word (>1 stronger, <1 weaker)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One lexicon word and its place in affect space."""

    word: str
    valence: float
    arousal: float
    tension: float
    group: str


class Lexicon:
    """Word → :class:`Entry`, with inflection-tolerant look-up."""

    def __init__(self, entries: dict[str, Entry]) -> None:
        if not entries:
            raise FilmError("the affect lexicon is empty")
        self.entries = entries
        self._cache: dict[str, Entry | None] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def lookup(self, token: str) -> Entry | None:
        """The entry for ``token`` (any case, any common inflection), or None."""
        w = token.lower().strip("'")
        if w in self._cache:
            return self._cache[w]
        hit = self.entries.get(w)
        if hit is None:
            for cand in base_forms(w):
                hit = self.entries.get(cand)
                if hit is not None:
                    break
        self._cache[w] = hit
        return hit

    @classmethod
    def parse(cls, text: str, source: str = "<lexicon>") -> "Lexicon":
        entries: dict[str, Entry] = {}
        explicit: set[str] = set()
        group: tuple[str, float, float, float] | None = None
        for n, raw in enumerate(text.splitlines(), start=1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith("@"):
                parts = line[1:].split()
                try:
                    group = (parts[0], float(parts[1]), float(parts[2]), float(parts[3]))
                except (IndexError, ValueError):
                    raise FilmError(f"{source}:{n}: a group line is '@ NAME valence arousal tension'") from None
                _check(group[1:], source, n)
                continue
            for tok in line.split():
                if "=" in tok:
                    word, _, vals = tok.partition("=")
                    try:
                        v, a, t = (float(x) for x in vals.split(","))
                    except ValueError:
                        raise FilmError(f"{source}:{n}: '{tok}' should be word=valence,arousal,tension") from None
                    _check((v, a, t), source, n)
                    entries[word.lower()] = Entry(word.lower(), v, a, t, group[0] if group else "")
                    explicit.add(word.lower())
                else:
                    if group is None:
                        raise FilmError(f"{source}:{n}: word {tok!r} before any '@ group' line")
                    w = tok.lower()
                    if w not in entries:  # the first group a word appears in is its home
                        entries[w] = Entry(w, group[1], group[2], group[3], group[0])
        return cls(entries)


def _check(values: tuple[float, ...], source: str, line: int) -> None:
    v, a, t = values
    if not (-1 <= v <= 1 and 0 <= a <= 1 and 0 <= t <= 1):
        raise FilmError(f"{source}:{line}: valence must be -1..1, arousal and tension 0..1")


def base_forms(w: str) -> list[str]:
    """Candidate base forms of an inflected English word, most likely first."""
    out: list[str] = []
    if w.endswith("'s"):
        w = w[:-2]
        out.append(w)
    if w.endswith("ies") and len(w) > 4:
        out.append(w[:-3] + "y")
    if w.endswith("ied") and len(w) > 4:
        out.append(w[:-3] + "y")
    if w.endswith("ily") and len(w) > 4:
        out.append(w[:-3] + "y")
    if w.endswith("ying") and len(w) > 5:
        out.append(w[:-4] + "ie")
    for suf in ("ing", "ed", "er", "est"):
        if w.endswith(suf) and len(w) > len(suf) + 2:
            stem = w[: -len(suf)]
            out += [stem, stem + "e"]
            if len(stem) > 2 and stem[-1] == stem[-2]:
                out.append(stem[:-1])  # stopped → stop
    if w.endswith("es") and len(w) > 3:
        out.append(w[:-2])
    if w.endswith("s") and not w.endswith("ss") and len(w) > 3:
        out.append(w[:-1])
    if w.endswith("ly") and len(w) > 4:
        out.append(w[:-2])
    return out


@functools.lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    """The lexicon that ships with Segue."""
    text = resources.files("segue.film").joinpath("data/affect_lexicon.txt").read_text(encoding="utf-8")
    return Lexicon.parse(text, "segue/film/data/affect_lexicon.txt")


TOKEN = re.compile(r"[A-Za-z][A-Za-z']*|[.!?;:]")
