"""Film benchmark: a synthetic feature-length screenplay to a cue sheet, and to a rendered score.

A benchmark, not a test (timings are noisy on shared machines). The screenplay is generated
(seeded) with the shape of a feature: about ``--pages`` pages (≈ a minute each) of scenes with
action and dialogue whose vocabulary follows an arc (calm → suspense → violence → grief → hope).

Stage 1, script → cue sheet: parse, estimate timing, analyse affect, propose cues. CPU time
(``time.process_time``) and peak Python memory (tracemalloc).

Stage 2, cue sheet → score: the live engine renders the film offline, streaming the mix (and
stems with ``--stems``, as FLAC) to disk, then writes the MIDI and the reports. Rendering two hours of
audio takes minutes and gigabytes of disk, so by default only the first ``--render-minutes``
minutes of the cue sheet are rendered and the full film is *extrapolated* from the measured rate
(the engine's cost is linear in audio length: it composes bar by bar and synthesises block by
block). ``--full`` renders the whole film instead. Peak memory of stage 2 is the process's
maximum resident set size (ru_maxrss), which includes TinySoundFont's C heap.

    uv run python benchmarks/bench_film.py [--pages 120] [--render-minutes 10] [--stems] [--full]
"""

from __future__ import annotations

import argparse
import copy
import random
import resource
import shutil
import tempfile
import time
import tracemalloc
from pathlib import Path

ARC = [
    ["calm", "gentle", "warm", "smiles", "quiet", "sunlight", "laughs", "peaceful", "tender", "home"],
    ["uneasy", "shadow", "whisper", "creeps", "afraid", "waits", "dark", "footsteps", "nervous", "stranger"],
    ["SMASHES", "fight", "blood", "screams", "brutal", "attacks", "CRASH", "shatters", "runs", "fire"],
    ["weeps", "grief", "alone", "mourning", "loss", "empty", "cold", "silence", "tears", "sorrow"],
    ["hopeful", "light", "safe", "smiles", "home", "dawn", "proud", "warm", "alive", "together"],
]
FILLER = ["the", "a", "door", "room", "she", "he", "walks", "table", "window", "turns", "looks", "at", "road"]


def synthetic_screenplay(pages: int, seed: int = 1) -> str:
    """A Fountain screenplay of about ``pages`` pages (55 printed lines each) following the arc."""
    rnd = random.Random(seed)
    lines = ["Title: SYNTHETIC FEATURE", "Author: bench_film.py", ""]
    printed = 0  # lines as they would print (action wraps at 60 characters)
    scene = 0
    while printed < pages * 55:
        phase = min(len(ARC) - 1, len(ARC) * printed // (pages * 55))
        words = ARC[phase] + FILLER
        lines += [f"{rnd.choice(['INT.', 'EXT.'])} PLACE {scene} - {rnd.choice(['DAY', 'NIGHT'])}", ""]
        printed += 2
        for _ in range(rnd.randint(2, 6)):
            action = " ".join(rnd.choice(words) for _ in range(rnd.randint(8, 40))).capitalize() + "."
            lines += [action, ""]
            printed += -(-len(action) // 60) + 1
            if rnd.random() < 0.7:
                speech = " ".join(rnd.choice(words) for _ in range(rnd.randint(4, 25))).capitalize() + "."
                lines += [rnd.choice(["ANNA", "TOMAS", "MARA"]), speech, ""]
                printed += 2 + -(-len(speech) // 35) + 1
        if rnd.random() < 0.15:
            lines += ["[[hit]]", ""]
        scene += 1
    return "\n".join(lines)


def first_minutes(sheet, minutes: float):
    """The cue sheet cut to its first ``minutes`` (cues after are dropped, the last one is shortened)."""
    cut = copy.deepcopy(sheet)
    end = min(cut.length, minutes * 60.0)
    cues = []
    for c in cut.cues:
        if c.start >= end - 1.0:
            break
        c.end = min(c.end, end)
        c.hits = [h for h in c.hits if h.time < c.end - 0.5]
        cues.append(c)
    cut.cues = cues
    cut.length = end
    return cut


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=120)
    ap.add_argument("--render-minutes", type=float, default=10.0)
    ap.add_argument("--stems", action="store_true", help="also write one FLAC per layer")
    ap.add_argument("--full", action="store_true", help="render the whole film (minutes; ~1 GB of WAV per hour)")
    ap.add_argument("--sample-rate", type=int, default=48000)
    ap.add_argument("--keep", type=Path, default=None, help="write outputs here instead of a temporary folder")
    args = ap.parse_args()

    from segue.film import load_palette, propose_from_script, render_sheet

    work = Path(tempfile.mkdtemp(prefix="segue-film-bench-")) if args.keep is None else args.keep
    work.mkdir(parents=True, exist_ok=True)
    script = work / "feature.fountain"
    script.write_text(synthetic_screenplay(args.pages), encoding="utf-8")
    palette = load_palette()
    propose_from_script(Path(__file__).resolve().parent.parent / "examples/film/the_keepers_light.fountain",
                        palette=palette)  # warm up imports and caches

    tracemalloc.start()
    c0, w0 = time.process_time(), time.perf_counter()
    sheet = propose_from_script(script, palette=palette)
    c1, w1 = time.process_time(), time.perf_counter()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    hits = sum(len(c.hits) for c in sheet.cues)
    print(f"screenplay: {args.pages} pages requested, {script.stat().st_size / 1e6:.2f} MB, "
          f"film length {sheet.length / 60:.1f} min (estimated, a page a minute), {len(sheet.cues)} cues, {hits} hits")
    print(f"script → cue sheet: {c1 - c0:.2f} s CPU ({w1 - w0:.2f} s wall), peak Python memory {peak / 1e6:.1f} MB")

    target = sheet if args.full else first_minutes(sheet, args.render_minutes)
    target.sample_rate = args.sample_rate
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    c0, w0 = time.process_time(), time.perf_counter()
    result, files = render_sheet(target, work / "render", palette=palette, stems=args.stems)
    c1, w1 = time.process_time(), time.perf_counter()
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    audio_s = target.length
    disk = sum(p.stat().st_size for p in files if p.exists())
    rate = audio_s / (c1 - c0)
    print(f"render: {audio_s / 60:.1f} min of film, {len(target.cues)} cues, {args.sample_rate} Hz, "
          f"stems {'on' if args.stems else 'off'}: {c1 - c0:.1f} s CPU ({w1 - w0:.1f} s wall) = "
          f"{rate:.1f}× real time per CPU second; {disk / 1e6:.0f} MB written; "
          f"peak RSS {rss1 / 1024:.0f} MB (before the render {rss0 / 1024:.0f} MB)")
    print(f"hits: {len(result.hits)}, largest error {result.max_hit_error_ms:.2f} ms; "
          f"length {result.audio_seconds or 0:.3f} s audio vs {target.length:.3f} s film")
    if not args.full:
        full_cpu = sheet.length / rate
        print(f"extrapolated full film ({sheet.length / 60:.0f} min): ≈ {full_cpu / 60:.1f} min CPU, "
              f"≈ {disk / audio_s * sheet.length / 1e9:.1f} GB written (extrapolated, not measured)")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
