"""Segue against its peers on the same MIDI files and the same soundfont, whole process (start-up included).

    uv run python benchmarks/bench_peers.py [--minutes 1 5 20]

Each file is composed from ``examples/fantasy_game.yaml`` (seed 3) and written once. Every renderer then
runs as a fresh process per file; CPU (user + system) and peak RSS come from ``os.wait4`` on that child. For
files of up to 5 minutes each renderer runs ``--repeat`` times (3), the renderers taking turns, and the median
is reported (a 1-minute render is ~1 s of CPU, where one busy moment on a shared machine is several per cent);
the built-in synth runs once.

How each peer is driven (its best settings for an offline render of a whole file to 44.1 kHz stereo):

- **Segue**: ``segue render IN.mid --out OUT.wav`` — its synth (TinySoundFont, ``SEGUE_SYNTH=tinysoundfont``) per
  channel, reverb, limiter, loudness normalisation in a streaming second pass, 24-bit WAV; and once more with its
  own numpy synth (``SEGUE_SYNTH=builtin``, what a plain ``pip install`` gets where TinySoundFont cannot be
  installed), reported in its own column.
- **FluidSynth** (if ``fluidsynth`` is on PATH; it is not a dependency — ``apt-get install fluidsynth``):
  ``fluidsynth -ni -q -F OUT.wav -r 44100 -O s24 -T wav -o synth.cpu-cores=1 SF2 IN.mid`` — its fast-render
  mode (no audio driver, no shell), as fast as the CPU allows, one core like Segue; its own reverb and chorus
  left on (their default), no normalisation.
- **TinySoundFont's sequencer** (Python binding, as installed): ``Sequencer.midi_load(persistent=False)``
  (``persistent=True`` makes its Python loop quadratic; the audio is bit-identical), pulled in 4096-frame
  blocks and discarded — synthesis only: no reverb, no limiter, no normalisation, no file written.

Python peers (Segue, TinySoundFont's sequencer) run as installed software runs: with bytecode cached. This
machine sets ``PYTHONDONTWRITEBYTECODE=1``, which makes every process compile its ~300 modules from source
(~0.5 s of CPU that no pip-installed program pays), so the children run without it, after one untimed
warm-up render of a short file that leaves the caches in place.

The same soundfont (Segue's bundled GM font) for all. The ratio is Segue's CPU / the peer's: below 1 Segue is
faster. A missing peer is said, not skipped silently.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from segue.audio import default_soundfont  # noqa: E402
from segue.export.midi import write_midi  # noqa: E402
from segue.pipeline import compose  # noqa: E402
from segue.spec import load_spec  # noqa: E402

TSF_SCRIPT = """
import sys, numpy as np, tinysoundfont
synth = tinysoundfont.Synth(gain=-6.0, samplerate=44100)
synth.sfload(sys.argv[1])
seq = tinysoundfont.Sequencer(synth)
seq.midi_load(sys.argv[2], persistent=False)
frames, block = int(float(sys.argv[3]) * 44100), 4096
for start in range(0, frames, block):
    synth.generate(min(block, frames - start))
"""


LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime, usage.ru_maxrss)
"""
"""Why a launcher: a child started straight from this process inherits this process's peak RSS (Linux keeps
``ru_maxrss`` across exec, and ``subprocess`` may vfork), so a small fresh Python forks the command instead."""


PY_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def measured(cmd: list[str], **env: str) -> tuple[int, float, float, str]:
    """(exit status, CPU s, peak RSS MiB, the end of stderr) of one command run as a fresh process."""
    proc = subprocess.run([sys.executable, "-c", LAUNCHER, *cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env={**PY_ENV, **env})
    rc, cpu, rss = proc.stdout.decode().split()[-3:]
    return int(rc), float(cpu), int(rss) / 1024, proc.stderr.decode(errors="replace")[-500:]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, nargs="+", default=[1.0, 5.0, 20.0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per renderer for files of up to 5 minutes (median)")
    args = ap.parse_args()
    sf2 = str(default_soundfont())
    fluid = shutil.which("fluidsynth")
    spec = load_spec(ROOT / "examples" / "fantasy_game.yaml")
    print(f"peer render benchmark — the same MIDI files (examples/fantasy_game.yaml, seed 3) and soundfont "
          f"({Path(sf2).name}), whole process, CPU s (user+sys) and peak RSS; load average {os.getloadavg()[0]:.1f}")
    if fluid is None:
        print("  FluidSynth: NOT INSTALLED — no FluidSynth column (apt-get install fluidsynth, then run again)")
    else:
        version = subprocess.run([fluid, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
        print(f"  FluidSynth: {version} at {fluid}")
    print(f"  {'minutes':>7s} {'segue cpu':>9s} {'rss':>8s} {'fluid cpu':>9s} {'rss':>8s} {'segue/fluid':>11s} "
          f"{'tsf-seq cpu':>11s} {'rss':>8s} {'segue/tsf':>9s} {'builtin cpu':>11s} {'builtin/fluid':>13s}")
    segue = [sys.executable, "-c", "from segue.cli import main; main()", "render"]
    with tempfile.TemporaryDirectory() as tmp:
        warm = Path(tmp) / "warm.mid"  # untimed: leaves the bytecode caches an installed program has
        write_midi(compose(spec, bars=2, seed=3), warm)
        measured(segue + [str(warm), "--out", str(Path(tmp) / "warm.wav")], SEGUE_SYNTH="tinysoundfont")
        measured(segue + [str(warm), "--out", str(Path(tmp) / "warm.wav")], SEGUE_SYNTH="builtin")
        measured([sys.executable, "-c", TSF_SCRIPT, sf2, str(warm), "1"])
        for minutes in args.minutes:
            mid = Path(tmp) / f"{minutes:g}.mid"
            write_midi(compose(spec, seconds=minutes * 60, seed=3), mid)
            runs = {
                "segue": (segue + [str(mid), "--out", str(Path(tmp) / "segue.wav")], {"SEGUE_SYNTH": "tinysoundfont"}),
                "tsf": ([sys.executable, "-c", TSF_SCRIPT, sf2, str(mid), str(minutes * 60 + 2.0)], {}),
                "builtin": (segue + [str(mid), "--out", str(Path(tmp) / "builtin.wav")], {"SEGUE_SYNTH": "builtin"}),
            }
            if fluid is not None:
                runs["fluid"] = ([fluid, "-ni", "-q", "-F", str(Path(tmp) / "fluid.wav"), "-r", "44100", "-O", "s24",
                                  "-T", "wav", "-o", "synth.cpu-cores=1", sf2, str(mid)], {})
            repeat = args.repeat if minutes <= 5 else 1
            cpu: dict[str, list[float]] = {name: [] for name in runs}
            rss: dict[str, float] = {}
            failed: dict[str, str] = {}
            for _ in range(repeat):  # interleaved, so that a busy moment touches every renderer alike
                for name, (cmd, env) in runs.items():
                    if name in failed or (name == "builtin" and len(cpu[name]) >= 1):
                        continue  # the built-in synth is slow and not the claim: one run
                    rc, c, r, err = measured(cmd, **env)
                    if rc:
                        failed[name] = f"exit {rc}: {err[-200:]}"
                    else:
                        cpu[name].append(c)
                        rss[name] = max(rss.get(name, 0.0), r)
                for f in Path(tmp).glob("*.wav"):
                    f.unlink()
            med = {name: statistics.median(v) for name, v in cpu.items() if v and name not in failed}
            for name, why in failed.items():
                print(f"  {name} failed ({why})")

            def col(name: str, width: int) -> str:
                return f" {med[name]:{width}.2f} {rss[name]:5.0f} MiB" if name in med else f" {'—':>{width}s} {'':8s}"

            def ratio(a: str, b: str, width: int) -> str:
                return f" {med[a] / med[b]:{width}.2f}" if a in med and b in med else f" {'—':>{width}s}"

            builtin = f" {med['builtin']:11.2f}" if "builtin" in med else f" {'—':>11s}"
            print(f"  {minutes:7.0f}{col('segue', 9)}{col('fluid', 9)}{ratio('segue', 'fluid', 11)}{col('tsf', 11)}"
                  f"{ratio('segue', 'tsf', 9)}{builtin}{ratio('builtin', 'fluid', 13)}  (median of {repeat})")
    print("  segue/fluid, segue/tsf: Segue's CPU over the peer's (below 1.00: Segue is faster). TinySoundFont's "
          "sequencer does synthesis only (no bus, no normalisation, no file), FluidSynth synthesis + its reverb/chorus "
          "+ a 24-bit file, Segue all of that + a limiter and loudness normalisation (one extra read of its spool, more "
          "if the limiter must act). segue = Segue with TinySoundFont (SEGUE_SYNTH=tinysoundfont, the dev environment's "
          "default); builtin = Segue's own numpy synth (SEGUE_SYNTH=builtin, what a plain pip install without "
          "PortAudio gets).")


if __name__ == "__main__":
    main()
