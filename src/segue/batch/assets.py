"""A job expanded into assets: one loop per (region, state, variation), each with an inputs hash.

The inputs hash is what makes a rerun cheap: it covers everything the files depend on (the spec's
content hash, state, seed, bars, formats, stems and Segue's version), so an asset whose hash and files
are already recorded as done is skipped, and one whose spec was edited is made again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from segue import __version__
from segue.batch.errors import BatchError
from segue.batch.job import AUDIO_FORMATS, Group, Job
from segue.limits import MAX_BATCH_ASSETS

PREFIX = "mus"
"""Asset names read ``mus_<region>_<state>_<variation>`` — the prefix middleware naming schemes use for music."""


@dataclass(frozen=True, slots=True)
class Asset:
    """One loop to make. Plain data, so it travels to a Ray worker as it is."""

    name: str
    region: str
    state: str
    """The game state it starts in; "" for a score without states."""
    variation: int
    seed: int
    bars: int
    formats: tuple[str, ...]
    stems: bool
    spec_path: str
    folder: str
    """Where its files go, relative to the output folder: ``region/state``."""
    inputs_hash: str

    @property
    def audio_formats(self) -> list[str]:
        return [f for f in self.formats if f in AUDIO_FORMATS]

    def to_dict(self) -> dict:
        return asdict(self)


def asset_name(region: str, state: str, variation: int) -> str:
    parts = [PREFIX, region] + ([state] if state else []) + [f"{variation:03d}"]
    return "_".join(parts)


def inputs_hash(spec_sha: str, state: str, seed: int, bars: int, formats: tuple[str, ...], stems: bool) -> str:
    """Everything an asset's bytes depend on, hashed."""
    key = {"segue": __version__, "spec": spec_sha, "state": state, "seed": seed, "bars": bars,
           "formats": list(formats), "stems": stems}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def _spec_facts(path: Path) -> tuple[str, list[str], int, str | None]:
    """(content hash, states, seed, load error) of a spec; a spec that does not load still gets a hash
    (of its bytes) so that fixing it makes its assets run again."""
    from segue.spec import load_spec

    try:
        spec = load_spec(path)
    except Exception as exc:  # a bad spec fails its assets, not the job
        try:
            raw = path.read_bytes()
        except OSError:
            raw = b""
        return hashlib.sha256(raw).hexdigest(), [], 0, str(exc)
    return spec.sha256, [s.name for s in spec.states], int(spec.seed), None


def expand(job: Job) -> list[Asset]:
    """Every asset of ``job``, in job order. A spec that does not load still yields its assets (they fail
    with its error when made); names that collide across groups are a :class:`BatchError`."""
    assets: list[Asset] = []
    seen: dict[str, int] = {}
    facts: dict[Path, tuple[str, list[str], int, str | None]] = {}
    for gi, group in enumerate(job.groups):
        path = job.spec_path(group)
        if path not in facts:
            facts[path] = _spec_facts(path)
        sha, spec_states, spec_seed, _error = facts[path]
        region = group.region or _region_of(path)
        states = list(group.states) if group.states is not None else (spec_states or [""])
        first = spec_seed if group.seed is None else group.seed
        formats = tuple(group.formats)
        for state in states:
            for v in range(group.variations):
                if len(assets) >= MAX_BATCH_ASSETS:
                    raise BatchError(f"the job expands to more than {MAX_BATCH_ASSETS} assets; split it")
                name = asset_name(region, state, v)
                if name in seen:
                    raise BatchError(f"groups[{seen[name]}] and groups[{gi}] both make {name}: "
                                     f"give them different regions")
                seen[name] = gi
                seed = first + v
                folder = f"{region}/{state}" if state else region
                assets.append(Asset(name, region, state, v, seed, group.bars, formats, group.stems,
                                    str(path), folder, inputs_hash(sha, state, seed, group.bars, formats,
                                                                   group.stems)))
    return assets


def _region_of(path: Path) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9_-]", "_", path.stem)[:64] or "region"


