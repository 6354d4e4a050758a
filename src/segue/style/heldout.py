"""Held-back pieces: real melodies that training never saw, for judging generated music against.

They are chosen with a fixed seed, proportionally from every default collection, and stored
next to the shipped weights so that ``segue eval`` needs no corpus parsing at run time.
"""

from __future__ import annotations

import gzip
import json
import random
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from segue.style.errors import StyleError
from segue.style.features import PieceStats, melody_fingerprint

HELDOUT_FORMAT = "segue-heldout/1"
HELDOUT_SEED = 20240521
HELDOUT_COUNT = 100
MIN_NOTES = 16
"""Too-short fragments say little about a style; held-out pieces have at least this many notes."""

HeldoutMelody = list[tuple[int, float, float]]


def choose_heldout(pieces: Sequence[PieceStats], count: int = HELDOUT_COUNT, seed: int = HELDOUT_SEED) -> list[str]:
    """Idents of ``count`` pieces, drawn per collection in proportion to its size (largest remainder).

    Only tunes that occur once are eligible: a held-out melody whose copy (or another
    harmonisation of it) stayed in training would flatter every comparison made with it.
    """
    copies = Counter(melody_fingerprint(p) for p in pieces)
    by_coll: dict[str, list[str]] = {}
    for p in pieces:
        if len(p.notes) >= MIN_NOTES and copies[melody_fingerprint(p)] == 1:
            by_coll.setdefault(p.collection, []).append(p.ident)
    total = sum(len(v) for v in by_coll.values())
    if total == 0 or count <= 0:
        return []
    count = min(count, len(pieces) // 10)  # never hold back more than a tenth: training comes first
    if count <= 0:
        return []
    quotas = {c: count * len(v) / total for c, v in by_coll.items()}
    share = {c: int(q) for c, q in quotas.items()}
    for c in sorted(quotas, key=lambda c: (-(quotas[c] - share[c]), c))[: count - sum(share.values())]:
        share[c] += 1
    rng = random.Random(seed)
    chosen: list[str] = []
    for c in sorted(by_coll):
        chosen += sorted(rng.sample(sorted(by_coll[c]), share[c]))
    return chosen


def write_heldout(pieces: Sequence[PieceStats], path: Path, seed: int = HELDOUT_SEED) -> None:
    doc = {
        "format": HELDOUT_FORMAT,
        "seed": seed,
        "note": "melodies as [midi_pitch, onset_quarters, duration_quarters]; onset 0 = downbeat of the first bar",
        "pieces": [{"id": p.ident, "collection": p.collection, "meter": p.meter, "key": p.key,
                    "notes": [[n[0], n[1], n[2]] for n in p.notes]} for p in pieces],
    }
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(text.encode(), compresslevel=9, mtime=0))


def read_heldout_pieces(path: Path) -> list[dict[str, Any]]:
    """Held-out pieces with their metadata: ``id``, ``collection``, ``meter``, ``key``, ``notes``."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise StyleError(f"cannot read held-out pieces from {path}: {exc}") from exc
    return parse_heldout(raw, str(path))


def parse_heldout(raw: bytes, where: str) -> list[dict[str, Any]]:
    try:
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        doc = json.loads(raw.decode("utf-8"))
        if doc.get("format") != HELDOUT_FORMAT:
            raise ValueError(f"format {doc.get('format')!r}")
        return list(doc["pieces"])
    except (OSError, EOFError, ValueError, KeyError, AttributeError, UnicodeDecodeError) as exc:
        raise StyleError(f"cannot read held-out pieces from {where}: {exc}") from exc


def melodies(pieces: Sequence[dict[str, Any]]) -> list[HeldoutMelody]:
    return [[(int(n[0]), float(n[1]), float(n[2])) for n in p["notes"]] for p in pieces]
