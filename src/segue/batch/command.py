"""`segue batch JOB.yaml`: what the command does (its options are declared in segue.cli, which must import
no other segue module for `segue --help` to stay instant).

Exit status: 0 every asset is done; 1 the job ran but some assets failed (each is in the manifest with
its error, the others are done); 2 the job file or an option is wrong, or Ray is missing; 130 interrupted
(what finished is recorded: run it again to do the rest).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

from rich.console import Console
from rich.markup import escape

out = Console()
err = Console(stderr=True)


def run_batch(job_file: Path, out_dir: Optional[Path], workers: Optional[int], address: Optional[str],
              retries: Optional[int], dry_run: bool) -> int:
    """`segue batch` (its options are declared in segue.cli); returns the exit status."""
    from segue.batch.assets import expand
    from segue.batch.errors import BatchError
    from segue.batch.index import write_index
    from segue.batch.job import load_job
    from segue.batch.manifest import Manifest
    from segue.limits import MAX_BATCH_RETRIES

    job = load_job(job_file)
    if retries is not None and not 0 <= retries <= MAX_BATCH_RETRIES:
        raise BatchError(f"--retries must be between 0 and {MAX_BATCH_RETRIES}, got {retries}")
    root = out_dir or Path(job.out or Path("segue-batch") / job.name)
    assets = expand(job)
    manifest = Manifest(root / "manifest.sqlite")
    if dry_run:
        left = sum(not manifest.is_done(a) for a in assets)
        out.print(f"{job.name}: {len(assets)} assets, {len(assets) - left} already done, {left} to make → "
                  f"{escape(str(root))}")
        return 0
    t0 = time.perf_counter()
    status = "interrupted"
    run_id = manifest.start_run(job.name, workers or 0, address or "local")
    summary = None
    from segue.cli import _restore_sigterm, _stop_on_sigterm

    previous = _stop_on_sigterm()  # `kill PID` stops like Ctrl-C: Ray shut down, the index written …

    def on_connected() -> None:  # … also once ray.init has put its own handler (which aborts) in place
        _stop_on_sigterm()

    try:
        summary = _run_with_progress(assets, root, manifest, job, workers, address, retries, on_connected)
        status = "failed" if summary.failed else "done"
    finally:
        try:  # the index of what is done, also after Ctrl-C or `kill` (each file is replaced atomically)
            rows = [r for r in manifest.rows([a.name for a in assets]) if r["status"] == "done"]
            index = write_index(rows, root, job.name)
            counts = {} if summary is None else dict(planned=summary.planned, skipped=summary.skipped,
                                                     done=summary.done, failed=summary.failed,
                                                     retried=summary.retried)
            manifest.finish_run(run_id, status, **counts)
            manifest.close()
        finally:
            _restore_sigterm(previous)
    _print_summary(summary, time.perf_counter() - t0, root, index, len(rows))
    return 1 if summary.failed else 0


def _run_with_progress(assets, root, manifest, job, workers, address, retries, on_connected):
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)
    from rich.text import Text

    from segue.batch.runner import run

    class Rate(ProgressColumn):
        """Assets per second (rich's own speed estimate over the recent window)."""

        def render(self, task) -> Text:
            return Text(f"{task.speed:.2f} assets/s" if task.speed else "– assets/s")

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), Rate(),
                  TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), TextColumn("{task.fields[failed]}"),
                  console=err, disable=not err.is_terminal) as prog:
        task = prog.add_task(job.name, total=None, failed="")
        failed = [0]

        def on_plan(todo: int, skipped: int) -> None:
            prog.update(task, total=todo, description=f"{job.name} ({skipped} already done)" if skipped else job.name)

        def on_result(asset, result: dict) -> None:
            if not result.get("ok"):
                failed[0] += 1
            prog.update(task, advance=1, failed=f"[red]{failed[0]} failed[/red]" if failed[0] else "")

        return run(assets, root, manifest, retries=job.retries if retries is None else retries, workers=workers,
                   address=address, on_plan=on_plan, on_result=on_result, on_connected=on_connected)


def _print_summary(s, seconds: float, root: Path, index: list[Path], indexed: int) -> None:
    rate = f", {s.done / seconds:.2f} assets/s" if s.done and seconds > 0 else ""
    where = f" on {s.workers} workers ({s.cluster})" if s.workers else ""
    colour = "red" if s.failed else "green"
    out.print(f"[{colour}]{s.planned} assets[/{colour}]: {s.done} made, {s.skipped} already done, "
              f"{s.failed} failed, {s.retried} retries{where} in {seconds:.1f} s{rate}")
    for name, error in s.failures[:10]:
        out.print(f"  [red]failed[/red] {escape(name)}: {escape(error.splitlines()[0][:300])}")
    if len(s.failures) > 10:
        out.print(f"  … and {len(s.failures) - 10} more (see the manifest)")
    out.print(f"manifest {escape(str(root / 'manifest.sqlite'))}; index ({indexed} assets) "
              + ", ".join(escape(str(p)) for p in index))
