"""Making one asset: the same pipeline calls as ``segue compose``, written aside and moved into place.

Files are first written into a private folder under ``.partial/`` with their final names (so sidecars
and stems are byte-for-byte what ``segue compose -o NAME`` writes), then moved into place one
``os.replace`` at a time. The manifest records the asset only after every move, so a crash at any
point leaves, at worst, files that the next run makes again — never a half-written file marked done.
"""

from __future__ import annotations

import os
import shutil
import time
import traceback
import uuid
from pathlib import Path

from segue.batch.assets import Asset

PARTIAL = ".partial"


class AssetMaker:
    """Makes assets in one process. It loads the soundfont, the style model, the originality index and
    the voicing tables once (a warm-up render) and keeps loaded specs, so each asset costs only its own
    music. A Ray actor wraps one of these; tests and ``--workers 0`` use it directly."""

    def __init__(self, warm: bool = True) -> None:
        self._specs: dict[tuple[str, int], object] = {}
        if warm:
            from segue import pipeline
            from segue.spec import default_spec

            pipeline.render(default_spec(), bars=1, tail_seconds=0.0)

    def spec(self, path: str) -> object:
        from segue.spec import load_spec

        try:
            mtime = os.stat(path).st_mtime_ns
        except OSError:
            mtime = -1
        key = (path, mtime)
        if key not in self._specs:
            self._specs[key] = load_spec(path)
        return self._specs[key]

    def make(self, asset: dict, out_root: str) -> dict:
        """Make one asset (given as :meth:`Asset.to_dict`) under ``out_root``; never raises: failures come
        back as data."""
        a = Asset(**{**asset, "formats": tuple(asset["formats"])})
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            result = make_asset(a, self.spec(a.spec_path), Path(out_root))
            result.update(ok=True, seconds=time.perf_counter() - t0, cpu=time.process_time() - c0, pid=os.getpid())
            return result
        except Exception as exc:  # reported in the manifest, never lost
            user = isinstance(exc, _user_error_types())
            error = str(exc) if user else "".join(traceback.format_exception_only(type(exc), exc)).strip()
            return {"ok": False, "name": a.name, "error": error or type(exc).__name__, "user_error": user,
                    "seconds": time.perf_counter() - t0, "pid": os.getpid()}


def _user_error_types() -> tuple[type[BaseException], ...]:
    from segue.cli import _user_error_types as types

    return types() + (ValueError, FileNotFoundError)


def make_asset(a: Asset, spec: object, out_root: Path) -> dict:
    """Compose/render ``a`` into ``out_root/a.folder``; returns its outputs (relative paths), the index
    row facts (loop points, tempo, bars, loudness) and its provenance."""
    from segue import pipeline

    spec = pipeline.in_state(spec, a.state or None)
    tmp = out_root / PARTIAL / f"{a.name}.{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    facts: dict = {}
    prov: dict = {}
    try:
        notes = [f for f in a.formats if f in ("mid", "musicxml")]
        if notes:  # what `segue compose -o NAME.mid` does
            perf = pipeline.compose(spec, bars=a.bars, seed=a.seed)
            for fmt in notes:
                pipeline.write_performance(perf, tmp / f"{a.name}.{fmt}")
            prov = perf.provenance
            facts.update(_timing(perf))
        if a.audio_formats:  # what `segue compose -o NAME.wav [--stems stems]` does
            r = pipeline.render(spec, bars=a.bars, seed=a.seed, keep_stems=a.stems)
            for i, fmt in enumerate(a.audio_formats):
                pipeline.write_rendered(r, tmp / f"{a.name}.{fmt}", tmp / "stems" if a.stems and i == 0 else None)
            prov = r.performance.provenance
            facts.update(_timing(r.performance))
            facts["length_samples"] = int(r.mix.shape[0])
            facts["loudness_lufs"] = round(float(r.loudness.get("lufs_after", float("nan"))), 2)
            facts["stem_layers"] = sorted(r.stems)
        outputs = _move_into_place(tmp, out_root / a.folder, out_root)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"name": a.name, "outputs": outputs, "facts": facts, "provenance": prov}


def _timing(perf: object) -> dict:
    """Loop points and tempo/bar metadata: the loop is the whole piece, from its first downbeat to the bar
    line where it ends; after ``loop_end`` the file holds the ring-out (reverb, release) only."""
    end = perf.tempo_map.sample(perf.end_tick)
    return {"bpm": round(float(perf.bars[0].tempo), 3), "bars": len(perf.bars),
            "beats_per_bar": perf.meter.beats_per_bar,
            "meter": str(perf.meter), "key": perf.home_key.name(), "sample_rate": perf.sample_rate,
            "loop_start": 0, "loop_end": int(end)}


def _move_into_place(tmp: Path, dest: Path, root: Path) -> list[str]:
    """Move every file written under ``tmp`` to the same place under ``dest``, sidecars last (a sidecar
    present means its file is complete); returns the paths relative to ``root``."""
    files = sorted((p for p in tmp.rglob("*") if p.is_file()), key=lambda p: (p.name.endswith(".segue.json"), str(p)))
    moved = []
    for f in files:
        target = dest / f.relative_to(tmp)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(f, target)
        moved.append(target.relative_to(root).as_posix())
    return sorted(moved)


def clear_partial(out_root: Path) -> None:
    """Remove what interrupted runs left half-made (called before a run starts, when no worker writes)."""
    shutil.rmtree(Path(out_root) / PARTIAL, ignore_errors=True)
