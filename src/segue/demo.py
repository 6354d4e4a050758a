"""`segue demo`: a showcase rendered from the example specs on embedded defaults.

For each example score it writes the mastered WAV, the MIDI file (one track per layer), the
MusicXML score and a provenance sidecar; the first piece also gets per-layer stems and a
FLAC. It also renders the same score at three moods, and plays the game score through a gameplay
trace (explore → tension → combat → victory), to show that one spec is a *system*, not a track.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from segue.audio import write_audio
from segue.compose.affect import Affect
from segue.engine.controls import Timeline
from segue.evaluation_run import example_specs, examples_dir
from segue.pipeline import play, render, write_performance, write_rendered, write_sidecar


def keys_played(perf) -> str:
    """The keys the performance actually plays, in order ("D dorian → A minor → D dorian"), read from its
    bars (what the MIDI file's key signatures and markers say), not from the spec."""
    names: list[str] = []
    for _tick, key in perf.key_changes():
        if not names or names[-1] != key.name():
            names.append(key.name())
    return " → ".join(names) if names else perf.home_key.name()


def run_demo(out_dir: Path, bars: int = 16, progress: Callable[[int, int], None] | None = None) -> list[dict]:
    specs = example_specs()  # first: a missing example leaves no empty folder behind
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs: list[tuple[str, object, Affect | None, bool]] = []
    for spec in specs:
        stem = Path(spec.source_path).stem if spec.source_path else str(spec.name)
        jobs.append((stem, spec, None, not jobs))
    game = specs[0]
    for label, aff in (("calm", Affect(0.5, 0.15, 0.1)), ("tense", Affect(-0.6, 0.65, 0.6)),
                       ("combat", Affect(-0.3, 0.95, 0.95))):
        jobs.append((f"mood_{label}", game, aff, False))
    rows = []
    for i, (stem, spec, aff, full) in enumerate(jobs):
        r = render(spec, bars=bars, affect=aff, keep_stems=full)
        files = write_rendered(r, out_dir / f"{stem}.wav", out_dir / f"{stem}_stems" if full else None)
        files = [f for f in files if not f.name.endswith(".segue.json")]
        files.append(write_performance(r.performance, out_dir / f"{stem}.mid"))
        if aff is None:
            files.append(write_performance(r.performance, out_dir / f"{stem}.musicxml"))
        if full:
            files += [f for f in write_rendered(r, out_dir / f"{stem}.flac") if f.suffix == ".flac"]
        perf = r.performance
        rows.append({"piece": stem, "key": keys_played(perf),
                     "tempo": perf.bars[0].tempo, "bars": len(perf.bars), "seconds": perf.seconds,
                     "files": [f.relative_to(out_dir) if f.is_relative_to(out_dir) else f for f in files
                               if f.parent == out_dir] + ([Path(f"{stem}_stems/")] if full else [])})
        if progress:
            progress(i + 1, len(jobs) + 1)
    # the game score played through a gameplay trace: explore → tension → combat → victory
    trace_path = examples_dir() / "fantasy_game_trace.json"
    if trace_path.is_file():
        timeline = Timeline.load(trace_path)
        played = play(game, timeline)
        wav = out_dir / "fantasy_game_trace.wav"
        write_audio(wav, played.mix, timeline.sample_rate)
        write_sidecar(wav, played.performance.provenance)
        mid = write_performance(played.performance, out_dir / "fantasy_game_trace.mid")
        kinds = [e.kind for e in played.events]
        rows.append({"piece": "game trace", "key": keys_played(played.performance), "tempo": played.performance.bars[0].tempo,
                     "bars": len(played.performance.sounding_bars()), "seconds": timeline.end_sample() / timeline.sample_rate,
                     "files": [wav.relative_to(out_dir), mid.relative_to(out_dir)],
                     "note": f"{kinds.count('state_entered')} transitions, {kinds.count('stinger')} stingers"})
    if progress:
        progress(len(jobs) + 1, len(jobs) + 1)
    return rows
