"""Start-up cost of the `segue` command (a benchmark, not a test: timings are noisy).

Runs the installed console script in a fresh process, ``--runs`` times per case, and prints the
median and minimum CPU time (user + system of the child, from ``os.wait4``: CPU, not wall clock,
so a busy machine flatters nothing) and the peak resident memory. Cases:

- ``segue --help``: the bare cost of the command line (bar: ≤ 0.3 s CPU);
- ``segue <command> --help``: what any command costs before it reads its arguments;
- ``segue <command>`` on a file that does not exist: everything the command imports before it
  starts work, i.e. its fixed cost (bar: ≤ 0.5 s), ending in the one-line error (status 2);
- ``segue compose --bars 1 --out x.mid``: a trivial piece of real work.

    uv run python benchmarks/bench_startup.py [--runs 7] [--check]

``--check`` exits 1 when a median is over its bar.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HELP_BAR = 0.3
FIXED_BAR = 0.5


def segue_exe() -> str:
    exe = Path(sys.executable).with_name("segue.exe" if os.name == "nt" else "segue")
    if not exe.is_file():
        sys.exit(f"no `segue` console script beside {sys.executable}: run `uv sync` first")
    return str(exe)


def run_once(argv: list[str], cwd: str) -> tuple[float, float, int]:
    """(CPU seconds, peak RSS MiB, exit status) of one run."""
    # as installed software runs: with bytecode cached (this machine sets PYTHONDONTWRITEBYTECODE=1, which
    # makes every process compile its modules from source; the first of the runs leaves the caches)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(env, COLUMNS="120"))
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0, proc.returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--check", action="store_true", help="exit 1 when a median is over its bar")
    args = ap.parse_args()
    exe = segue_exe()
    with tempfile.TemporaryDirectory() as tmp:
        nope = str(Path(tmp) / "nope")
        cases: list[tuple[str, list[str], float | None, int]] = [
            # the machine's own speed, for scale: an empty interpreter and numpy alone
            ("python -c pass", [sys.executable, "-c", "pass"], None, 0),
            ("python -c 'import numpy'", [sys.executable, "-c", "import numpy"], None, 0),
            ("segue --help", ["--help"], HELP_BAR, 0),
            ("segue compose --help", ["compose", "--help"], FIXED_BAR, 0),
            ("segue check --help", ["check", "--help"], FIXED_BAR, 0),
            ("compose, spec missing", ["compose", "--spec", nope + ".yaml", "--out", nope + ".mid"], FIXED_BAR, 2),
            ("play, spec missing", ["play", "--spec", nope + ".yaml", "--trace", nope + ".json",
                                    "--out", nope + ".wav"], FIXED_BAR, 2),
            ("render, MIDI missing", ["render", nope + ".mid", "--out", nope + ".wav"], FIXED_BAR, 2),
            ("check, file missing", ["check", nope + ".mid"], FIXED_BAR, 2),
            ("vary, file missing", ["vary", nope + ".mid", "--out", nope], FIXED_BAR, 2),
            ("score, script missing", ["score", nope + ".fountain", "--out", nope], FIXED_BAR, 2),
            ("compose --bars 1 → .mid", ["compose", "--bars", "1", "--out", str(Path(tmp) / "x.mid")], None, 0),
        ]
        print(f"segue start-up, {args.runs} runs each ({exe}; CPU = user + system of the child process)")
        print(f"{'case':<26} {'median CPU s':>12} {'min CPU s':>10} {'peak MiB':>9} {'bar s':>6}  status")
        over = []
        for label, argv, bar, expect in cases:
            cmd = argv if argv[0] == sys.executable else [exe, *argv]
            runs = [run_once(cmd, tmp) for _ in range(args.runs)]
            cpu = [r[0] for r in runs]
            codes = {r[2] for r in runs}
            med = statistics.median(cpu)
            ok = codes == {expect}
            if bar is not None and med > bar:
                over.append(label)
            print(f"{label:<26} {med:>12.3f} {min(cpu):>10.3f} {max(r[1] for r in runs):>9.0f} "
                  f"{'' if bar is None else f'{bar:.1f}':>6}  {sorted(codes)}{'' if ok else f' (expected {expect})'}")
            if not ok:
                over.append(label + " (exit status)")
    if over:
        print("over the bar: " + ", ".join(over))
    return 1 if args.check and over else 0


if __name__ == "__main__":
    raise SystemExit(main())
