"""Affect analysis: valence, arousal and tension per scene and through each scene — with reasons.

Each feeling word found in the text (see :mod:`segue.film.lexicon`) is *evidence*: a point in
affect space with a weight. Modifiers change it the way a reader would: a negation in the three
words before ("not afraid") turns valence around at half strength and pulls arousal and tension
towards neutral; a degree word ("very", "barely") scales how far the word sits from neutral and
how much it counts; an upper-case word in action (screenplay convention for sounds: "SMASHES")
and an exclamation mark add arousal. A scene's value is the weighted mean of its evidence with a
small neutral prior, so one stray word cannot swing a quiet scene. Every value keeps the words
and lines that made it, so a director can ask "why is this cue tense?" and read the answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from segue.film.lexicon import INTENSIFIERS, NEGATORS, TOKEN, Lexicon, default_lexicon
from segue.film.script import Scene, Script

NEUTRAL = (0.0, 0.3, 0.2)
"""(valence, arousal, tension) of text with no feeling words: flat, a little alert."""
PRIOR_WEIGHT = 1.5
KIND_WEIGHT = {"action": 1.0, "description": 1.0, "dialogue": 0.8, "subtitle": 0.8, "lyric": 0.8,
               "parenthetical": 0.6, "centered": 0.5, "synopsis": 0.6, "transition": 0.0, "character": 0.0,
               "note": 0.0, "section": 0.0}


@dataclass(frozen=True, slots=True)
class Evidence:
    """One word that moved the affect: where it is, what it means, and what modified it."""

    word: str
    line: int
    valence: float
    arousal: float
    tension: float
    weight: float
    group: str
    note: str = ""

    def describe(self) -> str:
        extra = f", {self.note}" if self.note else ""
        return f"'{self.word}' (line {self.line}: {self.group}{extra})"


@dataclass(slots=True)
class Reading:
    """The affect of a piece of text and the evidence for it."""

    valence: float = NEUTRAL[0]
    arousal: float = NEUTRAL[1]
    tension: float = NEUTRAL[2]
    weight: float = 0.0
    evidence: list[Evidence] = field(default_factory=list)


def _clamp(x: float, lo: float, hi: float) -> float:
    return lo if x < lo else hi if x > hi else x


def read_words(text: str, line: int = 0, lexicon: Lexicon | None = None, weight: float = 1.0,
               shouting: bool = False) -> list[Evidence]:
    """Evidence from one paragraph (``shouting``: upper-case words are sound effects, as in action)."""
    lex = lexicon or default_lexicon()
    out: list[Evidence] = []
    negate = 0  # words left in a negation's reach
    degree = 1.0
    degree_word = ""
    neg_word = ""
    tokens = TOKEN.findall(text)
    # sentence-final "!" lends arousal to the whole sentence
    bang: list[bool] = []
    flag = False
    for tok in reversed(tokens):
        if tok in ".?;:":
            flag = False
        elif tok == "!":
            flag = True
        bang.append(flag)
    bang.reverse()
    cur_line = line
    for i, tok in enumerate(tokens):
        if tok in ".!?;:":
            negate, degree = 0, 1.0
            continue
        low = tok.lower()
        if low in NEGATORS or low.endswith("n't"):
            negate, neg_word = 3, low
            continue
        if low in INTENSIFIERS and not lex.lookup(low):
            degree, degree_word = INTENSIFIERS[low], low
            continue
        entry = lex.lookup(tok)
        if entry is None:
            negate = max(negate - 1, 0)
            continue
        v, a, t = entry.valence, entry.arousal, entry.tension
        w = weight
        notes = []
        if degree != 1.0:
            v = v * degree
            a = NEUTRAL[1] + (a - NEUTRAL[1]) * degree
            t = NEUTRAL[2] + (t - NEUTRAL[2]) * degree
            w *= degree
            notes.append(f"×{degree:g} by '{degree_word}'")
        if negate > 0:
            v = -0.5 * v
            a = NEUTRAL[1] + 0.5 * (a - NEUTRAL[1])
            t = NEUTRAL[2] + 0.5 * (t - NEUTRAL[2])
            notes.append(f"negated by '{neg_word}'")
        if shouting and len(tok) >= 3 and tok.isupper():
            a += 0.1
            w *= 1.5
            notes.append("in capitals")
        if bang[i]:
            a += 0.08
            w *= 1.2
            notes.append("exclaimed")
        out.append(Evidence(tok, cur_line, _clamp(v, -1, 1), _clamp(a, 0, 1), _clamp(t, 0, 1), w, entry.group,
                            "; ".join(notes)))
        negate = max(negate - 1, 0)
        degree = 1.0
    return out


def combine(evidence: list[Evidence], prior: float = PRIOR_WEIGHT) -> Reading:
    """Weighted mean of evidence with ``prior`` weight of neutral text."""
    w = sum(e.weight for e in evidence) + prior
    if w <= 0:
        return Reading()
    v = (sum(e.valence * e.weight for e in evidence) + prior * NEUTRAL[0]) / w
    a = (sum(e.arousal * e.weight for e in evidence) + prior * NEUTRAL[1]) / w
    t = (sum(e.tension * e.weight for e in evidence) + prior * NEUTRAL[2]) / w
    return Reading(_clamp(v, -1, 1), _clamp(a, 0, 1), _clamp(t, 0, 1), w - prior, list(evidence))


def intensity_of(arousal: float, tension: float) -> float:
    """How much the music should be doing: energy plus unresolved threat."""
    return _clamp(0.1 + 0.55 * arousal + 0.4 * tension, 0.0, 1.0)


@dataclass(slots=True)
class Beat:
    """Affect of one paragraph at its time in the film (for the arc inside a scene)."""

    time: float
    line: int
    kind: str
    text: str
    valence: float
    arousal: float
    tension: float
    weight: float


@dataclass(slots=True)
class SceneAffect:
    """A scene's affect, the words that drove it and the paragraph-by-paragraph arc inside it."""

    scene: int
    valence: float
    arousal: float
    tension: float
    evidence: list[Evidence] = field(default_factory=list)
    beats: list[Beat] = field(default_factory=list)
    source: str = "lexicon"
    direction: str | None = None
    reasons: list[str] = field(default_factory=list)
    archetype: str | None = None
    """The learned reader's archetype (grief, violence, joy …), None when only the lexicon read the scene."""
    archetype_probabilities: dict[str, float] = field(default_factory=dict)

    @property
    def intensity(self) -> float:
        return intensity_of(self.arousal, self.tension)

    def top_evidence(self, n: int = 6) -> list[Evidence]:
        """The words that pulled hardest away from neutral."""
        def pull(e: Evidence) -> float:
            return e.weight * (abs(e.valence - NEUTRAL[0]) + abs(e.arousal - NEUTRAL[1]) + abs(e.tension - NEUTRAL[2]))
        return sorted(self.evidence, key=pull, reverse=True)[:n]

    def explain(self, n: int = 5) -> list[str]:
        """Short sentences saying why: the strongest words, and any direction that was applied."""
        out = list(self.reasons)
        words = self.top_evidence(n)
        if words:
            out.append("words: " + ", ".join(e.describe() for e in words))
        elif not out:
            out.append("no feeling words found; neutral")
        return out


def analyse_scene(scene: Scene, lexicon: Lexicon | None = None) -> SceneAffect:
    """Lexicon analysis of one scene (heading and synopsis count a little, action and dialogue fully)."""
    lex = lexicon or default_lexicon()
    evidence: list[Evidence] = read_words(scene.heading, scene.line, lex, weight=0.3)
    if scene.synopsis:
        evidence += read_words(scene.synopsis, scene.line, lex, weight=KIND_WEIGHT["synopsis"])
    beats: list[Beat] = []
    for el in scene.elements:
        kw = KIND_WEIGHT.get(el.kind, 0.5)
        if kw <= 0:
            continue
        ev = read_words(el.text, el.line, lex, weight=kw, shouting=el.kind in ("action", "description"))
        evidence += ev
        r = combine(ev, prior=0.5)
        beats.append(Beat(scene.start + el.offset, el.line, el.kind, el.text.split("\n")[0][:80],
                          r.valence, r.arousal, r.tension, r.weight))
    r = combine(evidence)
    return SceneAffect(scene.index, r.valence, r.arousal, r.tension, evidence, beats)


def blend_direction(sa: SceneAffect, text: str, weight: float = 0.7) -> SceneAffect:
    """Blend a written direction ("[[mood: tense suspense]]", a scene-list mood) into a scene's affect."""
    from segue.film.direction import parse_direction

    d = parse_direction(text, strict=False)
    if d is None:
        sa.reasons.append(f"direction '{text}' has no mood word Segue knows; ignored")
        return sa
    sa.valence = (1 - weight) * sa.valence + weight * d.valence
    sa.arousal = (1 - weight) * sa.arousal + weight * d.arousal
    sa.tension = (1 - weight) * sa.tension + weight * d.tension
    sa.direction = text
    sa.reasons.append(f"direction '{text}' (weight {weight:g})")
    return sa


LEARNED_WEIGHT = 0.7
"""How much the learned reader counts against the lexicon in a scene's valence, arousal and tension."""


def apply_reader(affects: list[SceneAffect], scenes: list[Scene]) -> bool:
    """Blend the learned reader (see :mod:`segue.film.reader`) into the lexicon's scene affects.

    The model reads every line (the lexicon only the words on its list) and names an archetype; the
    lexicon keeps the paragraph arc inside the scene and its word-level evidence. Returns False when
    no model weights are installed (the lexicon then reads alone).
    """
    from segue.film.reader import read_scenes

    readings = read_scenes(scenes)
    if not readings:
        return False
    w = LEARNED_WEIGHT
    for sa, r in zip(affects, readings):
        sa.valence = (1 - w) * sa.valence + w * r.valence
        sa.arousal = (1 - w) * sa.arousal + w * r.arousal
        sa.tension = (1 - w) * sa.tension + w * r.tension
        sa.archetype = r.archetype
        sa.archetype_probabilities = r.probabilities
        sa.source = "learned"
        top = sorted(r.probabilities.items(), key=lambda kv: -kv[1])[:2]
        lines = "; ".join(f"line {ln}: '{txt}'" for ln, txt, _ in r.lines) or "its form and context"
        sa.reasons.append(f"learned reader: {r.archetype} ({', '.join(f'{k} {p:.2f}' for k, p in top)}), "
                          f"driven by {lines}")
    return True


def analyse_script(script: Script, backend: object | None = None, reader: str = "learned") -> list[SceneAffect]:
    """Affect of every scene: the learned reader over the lexicon by default, a language model when ``backend`` is one.

    ``reader="lexicon"`` keeps the explainable word list alone. The language model (see
    :mod:`segue.film.llm`) scores whole scenes; the paragraph-level arc inside each scene always
    comes from the lexicon (it is cheap and explainable). Any model failure falls back to the
    learned reader / lexicon for the scenes it could not score, with a warning.
    """
    if reader not in ("learned", "lexicon"):
        raise ValueError(f"reader must be 'learned' or 'lexicon', not {reader!r}")
    lex = default_lexicon()
    out = [analyse_scene(sc, lex) for sc in script.scenes]
    if reader == "learned" and not apply_reader(out, script.scenes):
        script.warnings.append("the learned reader's weights are not installed; the lexicon read the script alone")
    if backend is not None and hasattr(backend, "score_scenes"):
        scored = backend.score_scenes(script.scenes, script.warnings)
        for sa in out:
            got = scored.get(sa.scene)
            if got is None:
                continue
            sa.valence, sa.arousal, sa.tension = got["valence"], got["arousal"], got["tension"]
            sa.source = getattr(backend, "name", "llm")
            sa.reasons.append(f"{sa.source}: {got.get('why', '')}".strip())
            for quote in got.get("evidence", []):
                sa.reasons.append(f"quoted: \"{quote}\"")
    for sa, sc in zip(out, script.scenes):
        if sc.mood:
            blend_direction(sa, sc.mood)
    return out
