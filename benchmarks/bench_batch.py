"""`segue batch` throughput and memory (a benchmark, not a test: wall-clock timings are noisy).

1. Scaling: one local Ray cluster; the same job (``--assets`` loops of the fantasy score's four states, 2
   bars, MIDI + FLAC) made with 1 worker, then with 2 workers, both with warm workers (soundfont, models
   and index already loaded, as in a long job). Throughput is assets per wall-clock second; scaling
   efficiency = throughput(2) / (2 × throughput(1)). Beside it: the workers' CPU seconds per asset and the
   cores they actually got (their CPU time / wall time), with the load average — on a machine shared with
   other work, two workers compete with it for the second core, and that shows as cores, not as work.
2. A large job (``--big`` assets, default 1,000) through the real command in a fresh process
   (``segue batch``: Ray start, warm-up, the assets, index): wall time and peak memory — the peak of the
   summed resident memory of the driver, Ray's own processes and the workers (sampled from /proc every
   0.25 s), and the largest single worker.

    uv run python benchmarks/bench_batch.py [--assets 48] [--big 1000] [--skip-big]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FANTASY = ROOT / "examples" / "fantasy_game.yaml"


def job_text(name: str, variations: int) -> str:
    return (f"name: {name}\ngroups:\n  - spec: {FANTASY}\n    region: bench\n    variations: {variations}\n"
            f"    bars: 2\n    formats: [mid, flac]\n")


def scaling(n_assets: int, tmp: Path) -> dict:
    from segue.batch.assets import expand
    from segue.batch.job import load_job
    from segue.batch.manifest import Manifest
    from segue.batch.runner import connect, run

    ray, _n, where, started = connect(None, 2)
    cores: dict[int, float] = {}
    per_asset: dict[int, float] = {}
    driver: dict[int, float] = {}
    try:
        def make(workers: int, label: str, variations: int) -> float:
            path = tmp / f"{label}.yaml"
            path.write_text(job_text(label, variations), encoding="utf-8")
            assets = expand(load_job(path))
            out = tmp / label
            cpu = [0.0]

            def on_result(_asset, result: dict) -> None:
                cpu[0] += result.get("cpu", 0.0)

            t0, c0 = time.perf_counter(), time.process_time()
            s = run(assets, out, Manifest(out / "manifest.sqlite"), retries=0, workers=workers, on_result=on_result)
            dt = time.perf_counter() - t0
            driver[workers] = (time.process_time() - c0) / len(assets)
            assert s.done == len(assets), s
            cores[workers] = cpu[0] / dt  # CPU the workers actually got from the OS, in cores
            per_asset[workers] = cpu[0] / len(assets)
            return len(assets) / dt

        make(2, "warm", 1)  # both workers loaded and every state's spec seen once
        per_state = max(1, n_assets // 4)
        one = make(1, "one", per_state)
        two = make(2, "two", per_state)
    finally:
        if started:
            ray.shutdown()
    return {"assets": per_state * 4, "one": one, "two": two, "efficiency": two / (2 * one), "where": where,
            "cores": cores, "cpu_per_asset": per_asset, "driver": driver}


def _tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


def big_job(n: int, tmp: Path) -> dict:
    variations = max(1, n // 4)
    path = tmp / "big.yaml"
    path.write_text(job_text("big", variations), encoding="utf-8")
    env = dict(os.environ)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "segue.cli", "batch", str(path), "-o", str(tmp / "big")],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    peak = {"total": 0, "worker": 0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            pids = _tree(proc.pid)
            sizes = [_rss(p) for p in pids]
            peak["total"] = max(peak["total"], sum(sizes))
            for p, size in zip(pids, sizes):
                try:
                    with open(f"/proc/{p}/cmdline", "rb") as fh:
                        cmd = fh.read()
                        if b"default_worker" in cmd or b"AssetMaker" in cmd:
                            peak["worker"] = max(peak["worker"], size)
                except OSError:
                    pass
            stop.wait(0.25)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    out, _ = proc.communicate()
    stop.set()
    t.join()
    wall = time.perf_counter() - t0
    files = sum(1 for p in (tmp / "big").rglob("*") if p.is_file())
    disk = sum(p.stat().st_size for p in (tmp / "big").rglob("*") if p.is_file())
    return {"assets": variations * 4, "wall": wall, "rc": proc.returncode, "peak_total": peak["total"],
            "peak_worker": peak["worker"], "files": files, "disk": disk, "summary": out.strip().splitlines()[:2]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--assets", type=int, default=48, help="assets in the scaling job (a multiple of 4)")
    ap.add_argument("--big", type=int, default=1000, help="assets in the large job")
    ap.add_argument("--skip-big", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="segue-bench-batch-") as d:
        tmp = Path(d)
        load0 = os.getloadavg()[0]
        r = scaling(args.assets, tmp)
        load1 = os.getloadavg()[0]
        print(f"scaling ({r['assets']} assets, 2 bars, MIDI + FLAC, warm workers, {r['where']}; "
              f"load average {load0:.1f} → {load1:.1f} on {os.cpu_count()} cores):")
        print(f"  1 worker : {r['one']:.2f} assets/s")
        print(f"  2 workers: {r['two']:.2f} assets/s")
        print(f"  scaling efficiency: {r['efficiency']:.2f}")
        print(f"  worker CPU per asset: {r['cpu_per_asset'][1]:.3f} s (1 worker), {r['cpu_per_asset'][2]:.3f} s "
              f"(2 workers); cores the workers got: {r['cores'][1]:.2f} of 1, {r['cores'][2]:.2f} of 2")
        print(f"  driver CPU per asset (scheduling, manifest, progress): {r['driver'][2] * 1e3:.1f} ms")
        if not args.skip_big:
            b = big_job(args.big, tmp)
            print(f"large job ({b['assets']} assets through `segue batch`, fresh process, exit {b['rc']}; "
                  f"load average {os.getloadavg()[0]:.1f}):")
            print(f"  wall time {b['wall']:.1f} s ({b['assets'] / b['wall']:.2f} assets/s including Ray start)")
            print(f"  peak memory: {b['peak_total'] / 2**20:.0f} MiB summed over driver, Ray and workers; "
                  f"largest worker {b['peak_worker'] / 2**20:.0f} MiB")
            print(f"  {b['files']} files, {b['disk'] / 2**20:.0f} MiB on disk")
            for line in b["summary"]:
                print(f"  | {line}")


if __name__ == "__main__":
    main()
