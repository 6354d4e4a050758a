"""Form: which section each phrase is, and which earlier material it brings back.

Game loops and film themes are heard as *sections that return*: a period (antecedent A, then
a consequent A′ that begins like A and closes it), a contrasting B, and A′ again; later a new
contrast C/C′ and the A material re-orchestrated before A′ closes the cycle. A phrase that
recalls material plays the same chords, bass, accompaniment and melody (the same seeds and the
same layer memory), so a return is literally a return — not a re-sampling that only shares
a name. Only what the game changes (density, dynamics, register, layers) may differ.

Odd phrases close on an authentic cadence and even phrases on a half cadence, as before: the
engine's exit cues (``cue`` quantize) are the ends of odd phrases.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FormSlot:
    """The role of one phrase in the form."""

    section: str
    """A musician's name for the section: ``A``, ``A'``, ``B``, ``C``, ``C'``."""
    material: str
    """Id of the material this phrase states; the same id later means the same music."""
    shares: str | None = None
    """For a consequent (A′, C′): the material whose opening half it repeats note for note."""
    variant: int = 0
    """Orchestration variant: 0 plays the material as first composed; others re-voice the accompaniment."""
    kind: str = "statement"
    """Which melodic recipe fresh bars follow: statement, development, contrast, restatement."""
    energy: float = 0.0
    """The section's place in the cycle's arc, -1..1: the B section is the peak (denser, higher,
    louder), C the release (thinner), A and A′ the level everything returns to."""


CYCLE_PHRASES = 8
RECALLED_EVERY_CYCLE = frozenset({"A", "A'"})
"""Materials that return in every cycle; the rest (B and C of a cycle) are forgotten when it ends."""


def form_slot(phrase: int) -> FormSlot:
    """The form slot of the ``phrase``-th phrase of a section of music (a deck).

    The first cycle is A A′ B A′ | C C′ A(re-orchestrated) A′; later cycles keep A and A′ as the
    returning theme and bring new B and C material each time, like a rondo or a game loop with
    alternate middle sections.
    """
    cycle, q = divmod(max(int(phrase), 0), CYCLE_PHRASES)
    b, c = f"B{cycle}", f"C{cycle}"
    table = [
        FormSlot("A", "A", variant=0 if cycle == 0 else 1 + cycle % 2, kind="statement"),
        FormSlot("A'", "A'", shares="A", kind="restatement"),
        FormSlot("B", b, kind="development", energy=1.0),
        FormSlot("A'", "A'", shares="A", kind="restatement"),
        FormSlot("C", c, kind="contrast", energy=-1.0),
        FormSlot("C'", c + "'", shares=c, kind="contrast", energy=-0.5),
        FormSlot("A", "A", variant=1 + cycle % 2, kind="statement", energy=0.5),
        FormSlot("A'", "A'", shares="A", kind="restatement"),
    ]
    return table[q]
