"""The musicianship and emotion tables of ``segue eval`` (QUALITY.md §7 and §8).

Pure: takes the summaries of :func:`~segue.evaluate.musicianship.summarise` (ours and the Bach
reference) and builds rows with targets and verdicts, and rich tables of them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from rich.table import Table

Bounds = tuple[float | None, float | None]

ROWS: tuple[tuple[str, str, str], ...] = (
    ("distinct_chords_per_16_bars", "distinct chords per 16 bars", "num"),
    ("chord_changes_per_bar", "chord changes per bar", "num"),
    ("chromatic_beats", "beats with a chromatic chord", "pct"),
    ("notes_outside_key", "notes outside the key", "pct"),
    ("borrowed_chords", "borrowed chords (major-family keys)", "pct"),
    ("secondary_dominants_per_100_changes", "secondary dominants per 100 changes", "num"),
    ("pieces_with_secondary_or_borrowed", "pieces with a secondary dominant or borrowed chord", "pct"),
    ("bars_repeating", "bars that exactly repeat an earlier bar", "pct"),
    ("phrases_returning", "4-bar phrases that return", "pct"),
    ("longest_repeat_bars", "longest literal repeat (bars)", "num"),
    ("melody_syncopation", "melody syncopation", "pct"),
    ("onsets_cv", "texture change (CV of onsets per bar)", "num"),
    ("strong_beat_outside_chord", "strong-beat melody notes outside the chord", "pct"),
    ("resolved_by_step", "… of those resolved by step", "pct"),
    ("parallels_per_100_moves", "parallel 5ths/8ves melody–bass per 100 moves", "num"),
    ("melody_below_top", "melody notes below another layer's top", "pct"),
    ("bass_bars", "bars (≥3 layers) with a note ≤ E3", "pct"),
    ("pieces_with_bass", "pieces (with ≥3 layers) that have a bass", "pct"),
    ("home_key_held", "bars in the home key", "pct"),
    ("pieces_hearing_characteristic_degree", "characteristic degree of the home mode heard", "pct"),
    ("dissonance", "dissonance (ic1/ic6 share of pc pairs)", "num3"),
    ("section_arc", "section arc (ρ bar vs onsets, 1st half of 16)", "num"),
)
"""(summary key, label, format) of each row of the musicianship table, in order."""

QUOTED_GAME_MUSIC: dict[str, float] = {
    "distinct_chords_per_16_bars": 12.1, "chord_changes_per_bar": 2.5, "chromatic_beats": 0.24,
    "notes_outside_key": 0.106, "borrowed_chords": 0.20, "secondary_dominants_per_100_changes": 0.4,
    "bars_repeating": 0.37, "phrases_returning": 0.22, "longest_repeat_bars": 4.8, "melody_syncopation": 0.115,
    "onsets_cv": 0.32, "strong_beat_outside_chord": 0.053, "resolved_by_step": 0.49, "parallels_per_100_moves": 9.5,
}
"""Real game music (142 piano transcriptions) as QUALITY.md §7 quotes it; that corpus is reserved,
not measured here."""

QUOTED_BACH: dict[str, float] = {
    "distinct_chords_per_16_bars": 21.3, "chord_changes_per_bar": 3.0, "chromatic_beats": 0.12,
    "notes_outside_key": 0.029, "borrowed_chords": 0.05, "secondary_dominants_per_100_changes": 5.3,
    "bars_repeating": 0.12, "phrases_returning": 0.03, "longest_repeat_bars": 1.7, "melody_syncopation": 0.004,
    "onsets_cv": 0.30, "strong_beat_outside_chord": 0.019, "resolved_by_step": 0.45, "parallels_per_100_moves": 0.1,
}
"""Bach chorales as QUALITY.md §7 quotes them (for comparison with our own measurement of them)."""

TARGETS: dict[str, Bounds] = {
    "distinct_chords_per_16_bars": (10, None),
    "chord_changes_per_bar": (1.5, 3.0),
    "chromatic_beats": (0.05, 0.30),
    "pieces_with_secondary_or_borrowed": (0.5, None),
    "bars_repeating": (0.25, 0.45),
    "phrases_returning": (0.15, None),
    "longest_repeat_bars": (4, None),
    "melody_below_top": (None, 0.05),
    "pieces_with_bass": (1.0, None),
    "melody_syncopation": (0.04, 0.15),
    "onsets_cv": (0.25, None),
    "home_key_held": (0.6, None),
    "pieces_hearing_characteristic_degree": (1.0, None),
}
"""Target ranges (issue #11), inclusive; None is an open end."""

EMOTION_MOODS: dict[str, tuple[float, float]] = {
    "tense": (-0.6, 0.8), "angry": (-0.8, 0.8), "joyful": (0.8, 0.8), "sad": (-0.7, 0.2), "calm": (0.5, 0.2),
}
"""QUALITY §8: (valence, arousal) of each requested mood; tense, angry and joyful share arousal 0.8."""

EMOTION_COLUMNS = ("chromatic_beats", "notes_outside_key", "dissonance", "mean_pitch", "tempo")
"""What the emotion table reports per mood (means per piece)."""


def _bad(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def meets(value: float | None, bounds: Bounds) -> bool:
    """Whether ``value`` lies in the inclusive ``bounds`` (a missing value meets nothing)."""
    if _bad(value):
        return False
    lo, hi = bounds
    return (lo is None or value >= lo - 1e-9) and (hi is None or value <= hi + 1e-9)


def _fmt(value: float | None, kind: str) -> str:
    if _bad(value):
        return "—"
    if kind == "pct":
        return f"{100 * value:.1f}%"
    return f"{value:.3f}" if kind == "num3" else f"{value:.2f}"


def _fmt_bounds(bounds: Bounds | None, kind: str) -> str:
    if bounds is None:
        return ""
    lo, hi = (None if b is None else _fmt(float(b), kind) for b in bounds)
    if lo is not None and hi is not None:
        return f"{lo}–{hi}"
    return f"≥ {lo}" if lo is not None else f"≤ {hi}"


def musicianship_rows(ours: Mapping[str, float], bach: Mapping[str, float]) -> list[dict[str, Any]]:
    """One dict per :data:`ROWS` entry: measure, label, ours, bach, game_music_quoted, target, met (None: no target)."""
    rows = []
    for key, label, kind in ROWS:
        target = TARGETS.get(key)
        rows.append({
            "measure": key, "label": label, "format": kind,
            "ours": ours.get(key), "bach": bach.get(key), "game_music_quoted": QUOTED_GAME_MUSIC.get(key),
            "target": None if target is None else list(target),
            "met": None if target is None else meets(ours.get(key), target),
        })
    return rows


def musicianship_renderable(rows: list[Mapping[str, Any]], caption: str = "") -> Table:
    """The QUALITY §7 table: ours | Bach chorales (measured) | real game music (quoted) | target | met."""
    table = Table(title="Musicianship (QUALITY §7)", caption=caption or None)
    table.add_column("measure")
    for header in ("ours", "Bach chorales (measured)", "real game music (QUALITY.md, quoted)", "target", "met"):
        table.add_column(header, justify="right")
    for row in rows:
        kind = row["format"]
        target = None if row["target"] is None else tuple(row["target"])
        met = "" if row["met"] is None else ("met" if row["met"] else "NOT MET")
        table.add_row(row["label"], _fmt(row["ours"], kind), _fmt(row["bach"], kind),
                      _fmt(row["game_music_quoted"], kind), _fmt_bounds(target, kind), met)
    return table


def emotion_checks(per_mood: Mapping[str, Mapping[str, float]]) -> dict[str, bool]:
    """QUALITY §8 at equal arousal: do tense and angry exceed joyful in chromatic share and dissonance?"""
    out = {}
    for mood in ("tense", "angry"):
        for measure in ("chromatic_beats", "dissonance"):
            a, b = per_mood[mood].get(measure), per_mood["joyful"].get(measure)
            out[f"{mood}_{measure}_above_joyful"] = not (_bad(a) or _bad(b)) and a > b
    return out


def emotion_renderable(per_mood: Mapping[str, Mapping[str, float]], checks: Mapping[str, bool]) -> Table:
    """The QUALITY §8 table: what each requested mood measures."""
    passed = sum(checks.values())
    caption = f"tense/angry above joyful (chromatic beats, dissonance): {passed}/{len(checks)} " + ", ".join(
        f"{k.replace('_above_joyful', '').replace('_', ' ')} {'yes' if v else 'NO'}" for k, v in checks.items())
    table = Table(title="Emotion as measured (QUALITY §8)", caption=caption)
    for header in ("mood", "valence", "arousal", "chromatic beats", "notes outside key", "dissonance",
                   "mean pitch", "tempo"):
        table.add_column(header, justify="left" if header == "mood" else "right")
    for mood, row in per_mood.items():
        table.add_row(mood, f"{row['valence']:+.1f}", f"{row['arousal']:.1f}",
                      _fmt(row["chromatic_beats"], "pct"), _fmt(row["notes_outside_key"], "pct"),
                      _fmt(row["dissonance"], "num3"), _fmt(row["mean_pitch"], "num"), _fmt(row["tempo"], "num"))
    return table
