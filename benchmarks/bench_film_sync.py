"""Film sync sweep: every hit of every cue, on random cue sheets, measured in the MIDI and the audio.

A benchmark, not a test (it renders 30 short films, a few minutes on a shared machine); a small
version of it runs in tests/test_film_sync.py. Each sheet is a seeded scene list of 1–3 cues with
2–4 hits each at random spacings (some too close for a whole bar), at a random frame rate. Every
hit is measured three ways: the nearest downbeat or strong beat in the written MIDI, read back
with pretty_midi; the onset of the hit's accent in the rendered audio; and the nearest onset in the
written mix (score.wav), where the music's own attacks also start, so it is the least precise.

    uv run python benchmarks/bench_film_sync.py [--sheets 30] [--seed 1]
"""

from __future__ import annotations

import sys
import time

from segue.film.sweep import main

if __name__ == "__main__":
    t0, c0 = time.perf_counter(), time.process_time()
    main(sys.argv[1:])
    print(f"took {time.perf_counter() - t0:.0f} s wall, {time.process_time() - c0:.0f} s CPU")
