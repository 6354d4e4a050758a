"""`segue eval`: QUALITY.md §1–3 measured on generated pieces, from their output files.

§1 constraints are re-extracted from the *written MIDI files* (what a DAW would see), not from
the composer's memory. §2 compares the melody layer of generated pieces with held-back
corpus melodies (never seen in training), next to the three degenerate baselines. §3 sweeps
each control and reports Spearman ρ against what it should move. §7–8 (:func:`musicianship_eval`)
measure musicianship and emotion from written MIDI files next to a Bach chorale reference
(docs/musicianship.md).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import mido
import numpy as np

from segue.compose.affect import Affect
from segue.music import Key

EXAMPLES = ("fantasy_game.yaml", "dark_ambient.yaml", "light_orchestral_film.yaml")


def examples_dir() -> Path:
    """The example specs: shipped inside the package when installed, else the repository's folder."""
    here = Path(__file__).resolve()
    for cand in (here.parent / "examples", here.parents[2] / "examples"):
        if (cand / EXAMPLES[0]).is_file():
            return cand
    raise FileNotFoundError("example specs not found (expected an examples/ folder beside the package)")


def example_specs() -> list:
    from segue.spec import load_spec

    d = examples_dir()
    return [load_spec(d / name) for name in EXAMPLES]


def check_midi_constraints(path: Path, spec: object, bars: int) -> dict[str, bool | float]:
    """Re-read a written MIDI file and check every hard rule of the spec (QUALITY §1).

    key: every pitched note obeys the spec's tonal policy (``palette.chromatic``) at its time, from the
    file's key markers and chord markers — in the key (``none``), in the key or the sounding chord
    (``harmonic``), anything (``free``);
    range: each layer track's notes lie in that layer's range; program: each track's program
    is the spec's; tempo: every tempo event is inside the palette's range; meter: the time
    signature is the palette's; length: every track ends exactly at ``bars`` bars.
    """
    mid = mido.MidiFile(str(path))
    tpq = mid.ticks_per_beat
    layers = {layer.name: layer for layer in spec.layers}
    meter = spec.palette.meter_value
    from segue.export.midi import parse_chord_marker

    policy = str(getattr(spec.palette, "chromatic", "none"))
    keys: list[tuple[int, Key]] = []
    chords: list[tuple[int, frozenset[int]]] = []
    tempos: list[float] = []
    sigs: list[tuple[int, int]] = []
    for msg_tick, msg in _abs(mid.tracks[0]):
        if msg.type == "marker" and msg.text.startswith("key: "):
            keys.append((msg_tick, Key.parse(msg.text[5:])))
        elif msg.type == "marker" and parse_chord_marker(msg.text) is not None:
            chords.append((msg_tick, parse_chord_marker(msg.text)))
        elif msg.type == "set_tempo":
            tempos.append(mido.tempo2bpm(msg.tempo))
        elif msg.type == "time_signature":
            sigs.append((msg.numerator, msg.denominator))
    lo_t, hi_t = float(spec.palette.tempo.min), float(spec.palette.tempo.max)
    expected_end = bars * meter.ticks_per_bar * tpq // 480
    in_key = in_range = total = 0
    program_ok = True
    ends: list[int] = []
    for track in mid.tracks[1:]:
        name = next((m.name for m in track if m.type == "track_name"), None)
        layer = layers.get(name)
        if layer is None:
            program_ok = False
            continue
        events = _abs(track)
        ends.append(events[-1][0] if events else 0)
        progs = [m.program for _, m in events if m.type == "program_change"]
        if layer.is_percussion:
            if any(m.channel != 9 for _, m in events if m.type == "note_on"):
                program_ok = False
            continue
        if progs != [layer.program]:
            program_ok = False
        for t, m in events:
            if m.type == "note_on" and m.velocity > 0:
                total += 1
                k = next((k for kt, k in reversed(keys) if kt <= t), None)
                if policy == "free":
                    in_key += 1
                elif policy == "harmonic":
                    # the tonal policy: in the key, or a tone of the chord sounding at the note's onset
                    ch = next((c for ct, c in reversed(chords) if ct <= t), frozenset())
                    in_key += k is not None and (k.contains(m.note) or m.note % 12 in ch)
                else:
                    in_key += k is not None and k.contains(m.note)
                in_range += layer.low <= m.note <= layer.high
    return {
        "key": total == 0 or in_key == total,
        "range": total == 0 or in_range == total,
        "program": program_ok,
        "tempo": bool(tempos) and all(lo_t - 1e-6 <= t <= hi_t + 1e-6 for t in tempos),
        "meter": sigs == [(meter.numerator, meter.denominator)],
        "length": bool(ends) and all(e == expected_end for e in ends),
        "key_share": in_key / total if total else 1.0,
    }


def _abs(track) -> list:
    t = 0
    out = []
    for m in track:
        t += m.time
        out.append((t, m))
    return out


def melody_piece(perf) -> list[tuple[int, float, float]]:
    """The lead melody of a performance as (pitch, onset, duration) in quarter notes."""
    lead = next((p.name for p in perf.parts if p.role == "melody"), perf.parts[0].name)
    return [(n.pitch, n.start / 480.0, n.duration / 480.0) for n in perf.notes(lead)]


def measure(perf) -> dict[str, float]:
    """What the controls should move, measured from a performance's notes (QUALITY §3)."""
    beats = perf.end_tick / 480.0
    notes = [n for p in perf.parts for n in perf.notes(p.name)]
    pitched = [n for p in perf.parts if not p.is_drums for n in perf.notes(p.name)]
    mel = melody_piece(perf)
    tempo = float(np.mean([b.tempo for b in perf.bars]))
    return {
        "notes_per_beat": len(notes) / beats if beats else 0.0,
        "tempo": tempo,
        "loudness": float(np.mean([n.velocity for n in notes])) if notes else 0.0,
        "register": float(np.mean([p for p, _, _ in mel])) if mel else 0.0,
        "brightness": float(np.mean([b.key.brightness for b in perf.bars])),
        "layers": float(np.mean([sum(1 for v in b.notes.values() if v) for b in perf.bars])),
        "dissonance": float(np.mean([b.state.tension for b in perf.bars])),
        "pitched_notes_per_beat": len(pitched) / beats if beats else 0.0,
    }


@dataclass
class EvalResult:
    constraints: dict
    plausibility: dict
    control: dict
    details: dict = field(default_factory=dict)
    musicianship: dict | None = None

    def renderable(self):
        from rich.console import Group

        from segue.evaluate import render_report

        parts = [render_report(self.plausibility, self.control, self.constraints)]
        if self.musicianship is not None:
            parts.extend(musicianship_renderables(self.musicianship))
        return Group(*parts)

    def to_json(self) -> str:
        from segue.evaluate import to_json

        extra = {} if self.musicianship is None else {"musicianship": self.musicianship}
        return to_json(self.plausibility, self.control, self.constraints, details=self.details, **extra)


SWEEP = [round(x, 2) for x in np.linspace(0.0, 1.0, 11)]


def control_sweeps(spec: object, seeds: list[int], bars: int = 8,
                   style: object | None = None) -> dict[str, list[tuple[float, dict]]]:
    """Sweep arousal, intensity and valence (others held at the spec's mood); average over seeds."""
    from segue.pipeline import compose

    m = spec.mood
    sweeps: dict[str, list[tuple[float, dict]]] = {}
    for control in ("arousal", "intensity", "valence"):
        rows = []
        for x in SWEEP:
            vals = {"valence": m.valence, "arousal": m.arousal, "intensity": m.intensity}
            vals[control] = x * 2 - 1 if control == "valence" else x
            ms = [measure(compose(spec, bars=bars, seed=s, affect=Affect(**vals), style=style)) for s in seeds]
            rows.append((vals[control], {k: float(np.mean([d[k] for d in ms])) for k in ms[0]}))
        sweeps[control] = rows
    return sweeps


def generate_pieces(specs: list, lengths: list[int] | int, pieces: int, seed: int, style_model: object | None,
                    progress: Callable[[int], None] | None = None, check: bool = True) -> tuple[list, list[dict]]:
    """Compose ``pieces`` pieces as §2 does: specs in turn, each as long as a random entry of
    ``lengths`` (bars; a plain int: every piece that long), a random mood; returns the lead melodies and the constraint checks of the
    written files (``check=False`` skips writing and checking)."""
    from segue.export import write_midi
    from segue.pipeline import compose

    rng = np.random.default_rng(seed)
    generated: list = []
    checks: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(pieces):
            spec = specs[i % len(specs)]
            bars = lengths if isinstance(lengths, int) else lengths[int(rng.integers(len(lengths)))]
            # intensity from where the lead melody enters (below it there is no melody to compare)
            lead = next((layer for layer in spec.layers if layer.role == "melody"), None)
            low = float(lead.enter) if lead is not None else 0.0
            aff = Affect(float(rng.uniform(-1, 1)), float(rng.uniform(0, 1)), float(rng.uniform(low, 1)))
            perf = compose(spec, bars=bars, seed=seed * 100003 + i, affect=aff, style=style_model)
            if check:
                path = write_midi(perf, Path(tmp) / f"piece{i}.mid")
                checks.append(check_midi_constraints(path, spec, bars))
            generated.append(melody_piece(perf))
            if progress:
                progress(i + 1)
    return generated, checks


def reference_lengths(reference: list) -> list[int]:
    """Bars of each reference melody (at least 4), for composing like with like."""
    return [max(4, round(max((o + d for _, o, d in p), default=16.0) / 4)) for p in reference]


def run_eval(pieces: int = 100, bars: int | None = None, seed: int = 0,
             progress: Callable[[int, int], None] | None = None, style: str | None = None) -> EvalResult:
    """``bars`` None: each piece takes the length of a random held-out piece (like with like).

    ``style``: compose every piece with this style (``default``/``markov``, ``neural`` or a model
    file) instead of each spec's own."""
    bars_from_reference = bars is None
    bars_fixed = bars or 16
    from segue.evaluate import constraint_report, control_table, plausibility_table
    from segue.style import load_heldout, load_style

    style_model = None if style is None else load_style(style)
    specs = example_specs()
    reference = load_heldout()
    # like with like: each generated piece is as long (in bars) as a held-out piece, as the baselines are
    lengths = reference_lengths(reference)
    steps = pieces + 3
    generated, checks = generate_pieces(specs, lengths if bars_from_reference else bars_fixed, pieces, seed,
                                        style_model, progress=(lambda i: progress(i, steps)) if progress else None)
    plaus = plausibility_table(generated, reference, seed=seed)
    control_spec = specs[0]
    sweeps = control_sweeps(control_spec, seeds=[seed + k for k in range(4)], bars=8, style=style_model)
    if progress:
        progress(steps, steps)
    ctl = control_table(sweeps)
    cons = constraint_report([{k: v for k, v in c.items() if k != "key_share"} for c in checks])
    details = {"pieces": pieces, "bars": "matched to held-out pieces" if bars_from_reference else bars_fixed,
               "reference_pieces": len(reference), "seed": seed,
               "control_spec": str(control_spec.name), "sweep_values": SWEEP,
               "style": style or "each spec's own"}
    result = EvalResult(cons, plaus, ctl, details)
    result.musicianship = musicianship_eval(seed=seed, style=style_model)
    return result


def _measure_written(perf, spec: object, path: Path) -> dict[str, float]:
    """Write ``perf`` as MIDI, read the file back and measure it (QUALITY §7 judges the output file)."""
    from segue.evaluate.musicianship import KeySig, measure_score, read_midi_score
    from segue.export import write_midi

    home = spec.palette.home_key
    roles = {layer.name: layer.role for layer in spec.layers}
    write_midi(perf, path)
    return measure_score(read_midi_score(path, roles=roles, home=KeySig(home.tonic, home.mode)))


def musicianship_eval(seed: int = 0, seeds: int = 10, bars: int = 32, emotion_seeds: int = 5,
                      emotion_bars: int = 16, style: object | None = None) -> dict:
    """QUALITY §7–8 from written MIDI files: the example specs at their own mood, and the moods of §8.

    §7: ``seeds`` pieces of ``bars`` bars per example spec, measured and averaged, next to the Bach
    chorale reference (committed JSON) and the game-music figures QUALITY.md quotes. §8: the embedded
    default spec (what ``--mood`` composes with) at each mood of
    :data:`~segue.evaluate.musicianship_report.EMOTION_MOODS`, ``emotion_seeds`` pieces each.
    """
    import time

    from segue.evaluate.musicianship import summarise
    from segue.evaluate.musicianship_reference import load_reference
    from segue.evaluate.musicianship_report import EMOTION_COLUMNS, EMOTION_MOODS, emotion_checks, musicianship_rows
    from segue.pipeline import compose
    from segue.spec import default_spec

    t0 = time.process_time()
    per_spec: dict[str, list[dict]] = {}
    per_mood: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for spec in example_specs():
            per_spec[str(spec.name)] = [
                _measure_written(compose(spec, bars=bars, seed=seed + k, style=style), spec, Path(tmp) / f"m{len(per_spec)}_{k}.mid")
                for k in range(seeds)]
        spec = default_spec()
        for mood, (valence, arousal) in EMOTION_MOODS.items():
            aff = Affect(valence, arousal, float(spec.mood.intensity))
            ms = [_measure_written(compose(spec, bars=emotion_bars, seed=seed + k, affect=aff, style=style), spec,
                                   Path(tmp) / f"{mood}{k}.mid") for k in range(emotion_seeds)]
            summary = summarise(ms)
            per_mood[mood] = {"valence": valence, "arousal": arousal, **{c: summary[c] for c in EMOTION_COLUMNS}}
    ours = summarise([m for ms in per_spec.values() for m in ms])
    reference = load_reference()
    return {
        "table": musicianship_rows(ours, reference["summary"]),
        "ours": ours,
        "per_spec": {name: summarise(ms) for name, ms in per_spec.items()},
        "bach": reference["summary"],
        "bach_corpus": {k: reference[k] for k in ("corpus", "selection", "key", "music21_version")},
        "emotion": per_mood,
        "emotion_checks": emotion_checks(per_mood),
        "settings": {"seeds": seeds, "bars": bars, "emotion_seeds": emotion_seeds, "emotion_bars": emotion_bars,
                     "base_seed": seed, "specs": list(per_spec), "emotion_spec": str(spec.name)},
        "cpu_seconds": round(time.process_time() - t0, 1),
    }


def musicianship_renderables(m: dict) -> list:
    """The rich tables of :func:`musicianship_eval`'s result (QUALITY §7, then §8)."""
    from segue.evaluate.musicianship_report import emotion_renderable, musicianship_renderable

    st = m["settings"]
    caption = (f"mean per piece; ours: {st['seeds']} seeds × {len(st['specs'])} example specs × {st['bars']} bars "
               f"at each spec's mood, measured from the written MIDI; Bach: {m['bach'].get('pieces', 0):.0f} chorales")
    return [musicianship_renderable(m["table"], caption), emotion_renderable(m["emotion"], m["emotion_checks"])]


def dump(result: EvalResult) -> str:
    return json.dumps(json.loads(result.to_json()), indent=2)
