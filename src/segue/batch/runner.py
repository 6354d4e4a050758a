"""Spreading assets over Ray actors: local by default, a cluster by address, one code path.

``ray.init()`` with no address starts a private local cluster (no dashboard, no usage report, nothing
leaves the machine); ``--address``/``RAY_ADDRESS`` joins an existing one. Either way each worker is an
actor holding one :class:`AssetMaker` — soundfont, style model, originality index and voicing loaded
once — and the driver keeps two assets queued per actor so none waits between assets. Only the driver
touches the manifest. An asset that fails unexpectedly is tried again (``retries``); a user error (a bad
spec) is recorded at once; a worker that dies is replaced and its assets retried.
"""

from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from segue.batch.assets import Asset
from segue.batch.errors import BatchError
from segue.batch.manifest import Manifest
from segue.batch.work import AssetMaker, clear_partial

INSTALL_HINT = ("segue batch runs on Ray, an optional extra that is not installed: "
                "`pip install 'segue[batch]'` (or `uv sync --extra batch`)")
IN_FLIGHT_PER_WORKER = 2


@dataclass
class Summary:
    """What a run did."""

    planned: int = 0
    skipped: int = 0
    done: int = 0
    failed: int = 0
    retried: int = 0
    workers: int = 0
    cluster: str = ""
    failures: list[tuple[str, str]] = field(default_factory=list)


def import_ray():
    """Ray, or a :class:`BatchError` that says how to install it."""
    try:
        import ray
    except ImportError:
        raise BatchError(INSTALL_HINT) from None
    return ray


def connect(address: str | None, workers: int | None) -> tuple[object, int, str, bool]:
    """Join (or start) Ray; returns ``(ray, workers, description, started_here)``."""
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address is None:
        # a private local cluster: no uv runtime-env packaging of the working tree, no usage report
        os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray = import_ray()
    if workers is not None and not 1 <= workers <= 4096:
        raise BatchError(f"--workers must be between 1 and 4096, got {workers}")
    started = False
    if not ray.is_initialized():
        try:
            if address is None:
                ray.init(num_cpus=workers or os.cpu_count() or 1, include_dashboard=False,
                         object_store_memory=100 * 1024 * 1024, log_to_driver=False, configure_logging=False)
            else:
                ray.init(address=address, log_to_driver=False, configure_logging=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise BatchError(f"cannot reach the Ray cluster at {address or 'local'}: {exc}") from None
        started = True
    cpus = int(ray.cluster_resources().get("CPU", 1))
    n = workers or cpus
    where = f"Ray cluster at {address}" if address else "local Ray"
    return ray, n, f"{where}, {cpus} CPUs", started


def run(assets: list[Asset], out_root: Path, manifest: Manifest, *, retries: int, workers: int | None = None,
        address: str | None = None, on_plan: Callable[[int, int], None] | None = None,
        on_result: Callable[[Asset, dict], None] | None = None, maker: type = AssetMaker,
        on_connected: Callable[[], None] | None = None) -> Summary:
    """Make every asset of ``assets`` not already done; record each in ``manifest`` as it finishes."""
    todo = [a for a in assets if not manifest.is_done(a)]
    s = Summary(planned=len(assets), skipped=len(assets) - len(todo))
    if on_plan:
        on_plan(len(todo), s.skipped)
    if not todo:
        return s
    clear_partial(out_root)
    ray, n, s.cluster, started = connect(address, workers)
    if on_connected:  # e.g. the CLI's own SIGTERM handler, which ray.init replaces with one that aborts
        on_connected()
    s.workers = n = min(n, len(todo))
    try:
        _schedule(ray, todo, out_root, manifest, retries, n, s, on_result, maker)
    finally:
        if started:
            ray.shutdown()
    return s


_warm: dict[tuple[type, str], list] = {}
"""Warm actors by maker class and Ray job: a driver that runs several jobs (a tool, the tests) loads the
soundfont and models once per worker, not once per job."""


def _actors(ray, maker: type, n: int) -> tuple[list, Callable[[], object]]:
    key = (maker, ray.get_runtime_context().get_job_id())
    for k in [k for k in _warm if k != key]:  # another kind of worker gives its CPUs back
        if k[1] == key[1]:  # (actors of an earlier Ray session are gone already)
            for actor in _warm[k]:
                ray.kill(actor)
        del _warm[k]
    pool = _warm.setdefault(key, [])
    actor_cls = ray.remote(num_cpus=1, max_restarts=0)(maker)
    while len(pool) < n:
        pool.append(actor_cls.remote())
    return pool, actor_cls.remote


def _schedule(ray, todo: list[Asset], out_root: Path, manifest: Manifest, retries: int, n: int, s: Summary,
              on_result, maker: type) -> None:
    pool, new_actor = _actors(ray, maker, n)
    actors = pool[:n]
    queue: deque[tuple[Asset, int]] = deque((a, 1) for a in todo)
    flight: dict = {}  # ref -> (actor index, actor, asset, attempt)
    load = [0] * n
    errors: dict[str, str] = {}  # the last error of assets being retried
    while queue or flight:
        for i in range(n):
            while queue and load[i] < IN_FLIGHT_PER_WORKER:
                a, attempt = queue.popleft()
                flight[actors[i].make.remote(a.to_dict(), str(out_root))] = (i, actors[i], a, attempt)
                load[i] += 1
        ready, _ = ray.wait(list(flight), num_returns=1, timeout=0.5)
        for ref in ready:
            i, actor, a, attempt = flight.pop(ref)
            load[i] -= 1
            try:
                result = ray.get(ref)
            except Exception as exc:  # the worker process died (or Ray lost it): replace it
                result = {"ok": False, "name": a.name, "user_error": False,
                          "error": f"worker lost: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}"}
                if actors[i] is actor:
                    actors[i] = pool[i] = new_actor()
            if not result.get("ok") and not result.get("user_error") and attempt <= retries:
                s.retried += 1
                manifest.record(a, result, attempt)  # the error is on record while the retry runs
                errors[a.name] = str(result.get("error"))
                queue.append((a, attempt + 1))
                continue
            if result.get("ok") and a.name in errors:
                result["recovered"] = f"recovered after: {errors.pop(a.name)}"
            manifest.record(a, result, attempt)
            if result.get("ok"):
                s.done += 1
            else:
                s.failed += 1
                s.failures.append((a.name, str(result.get("error"))))
            if on_result:
                on_result(a, result)
