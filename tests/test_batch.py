"""`segue batch`: job errors, expansion, and real Ray runs in local mode (one small cluster per module).

The Ray tests share one local cluster (``ray.init`` costs seconds); the kill-and-resume test joins it
from a subprocess by address — the cluster code path — kills that driver with SIGKILL partway and
resumes in this process.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf
from typer.testing import CliRunner

from segue.batch import BatchError
from segue.batch.assets import expand
from segue.batch.job import load_job
from segue.batch.manifest import Manifest
from segue.batch.runner import INSTALL_HINT, connect, run
from segue.batch.work import AssetMaker
from segue.cli import app

ROOT = Path(__file__).resolve().parents[1]
FANTASY = ROOT / "examples" / "fantasy_game.yaml"
AMBIENT = ROOT / "examples" / "dark_ambient.yaml"
runner = CliRunner()


def write_job(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def small_job(tmp: Path, *, bad: bool = True, variations: int = 2) -> Path:
    (tmp / "broken.yaml").write_text('name: "broken"\nlayers: []\n', encoding="utf-8")
    text = f"""name: small
groups:
  - spec: {FANTASY}
    region: vale
    states: [explore, combat]
    variations: {variations}
    bars: 1
    formats: [mid, wav]
    stems: true
  - spec: {AMBIENT}
    region: caves
    variations: 1
    bars: 1
    formats: [flac]
"""
    if bad:
        text += "  - spec: broken.yaml\n    region: broken\n"
    return write_job(tmp / "job.yaml", text)


def rows(db: Path) -> dict[str, tuple]:
    con = sqlite3.connect(db)
    try:
        return {r[0]: r[1:] for r in con.execute("SELECT name, status, attempts, error, updated_at FROM assets")}
    except sqlite3.OperationalError:  # being created by the other process
        return {}
    finally:
        con.close()


# ---------------------------------------------------------------- the job file (no Ray)

@pytest.mark.parametrize("body, expect", [
    ("name: j\ngroups:\n  - spec: a.yaml\n    bars: 0\n", "job.yaml:4:11: groups[0].bars: Input should be greater"),
    ("name: j\ngroups:\n  - spec: a.yaml\n    colour: red\n", "groups[0].colour: unknown field"),
    ("name: j\ngroups:\n  - spec: a.yaml\n    formats: [mid]\n    stems: true\n", "stems: true needs an audio"),
    ("name: j\ngroups:\n  - spec: a.yaml\n    region: ../../etc\n", "region '../../etc' must be"),
    ("name: j\ngroups: [\n", "YAML syntax error"),
    ("- just a list\n", "a job is a mapping of fields"),
])
def test_a_bad_job_file_is_one_located_error(tmp_path, body, expect):
    path = write_job(tmp_path / "job.yaml", body)
    with pytest.raises(BatchError) as e:
        load_job(path)
    assert expect in str(e.value)
    r = subprocess.run([sys.executable, "-m", "segue.cli", "batch", str(path)], capture_output=True, text=True,
                       cwd=tmp_path, timeout=60) if "unknown field" in expect else None
    if r is not None:  # through the CLI: one line, status 2, no traceback
        assert r.returncode == 2 and "Traceback" not in r.stderr and "unknown field" in r.stderr


def test_expansion_names_hashes_and_collisions(tmp_path):
    job = load_job(small_job(tmp_path))
    assets = expand(job)
    names = [a.name for a in assets]
    assert names == ["mus_vale_explore_000", "mus_vale_explore_001", "mus_vale_combat_000", "mus_vale_combat_001",
                     "mus_caves_000", "mus_broken_000"]
    assert [a.seed for a in assets[:2]] == [7, 8]  # the spec's seed, then the next
    assert len({a.inputs_hash for a in assets}) == len(assets)
    again = expand(load_job(small_job(tmp_path, variations=3)))
    assert {a.name: a.inputs_hash for a in assets[:2]} == {a.name: a.inputs_hash for a in again[:2]}
    clash = write_job(tmp_path / "clash.yaml", f"name: c\ngroups:\n  - spec: {AMBIENT}\n    region: r\n"
                                               f"  - spec: {AMBIENT}\n    region: r\n")
    with pytest.raises(BatchError, match="both make mus_r_000"):
        expand(load_job(clash))


def test_compose_state_names_the_states_when_unknown(tmp_path):
    from segue.pipeline import OutputError

    r = runner.invoke(app, ["compose", "--spec", str(FANTASY), "--state", "boss", "-o", str(tmp_path / "x.mid")])
    assert isinstance(r.exception, OutputError)
    assert "no state named 'boss'" in str(r.exception) and "explore, tension, combat, victory" in str(r.exception)
    assert not (tmp_path / "x.mid").exists()


def test_without_ray_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if the extra were not installed
    with pytest.raises(BatchError) as e:
        connect(None, 1)
    assert str(e.value) == INSTALL_HINT and "segue[batch]" in str(e.value)


# ---------------------------------------------------------------- real Ray, local mode

@pytest.fixture(scope="module")
def ray_cluster():
    # 4 logical CPUs on any machine: this driver's two warm workers, the subprocess driver's one, and room
    ray, _n, _where, started = connect(None, 4)
    yield ray.get_runtime_context().gcs_address
    if started:
        ray.shutdown()


def test_batch_makes_the_same_files_as_compose_and_reports_a_bad_spec(tmp_path, ray_cluster):
    job = small_job(tmp_path)
    out = tmp_path / "out"
    r = runner.invoke(app, ["batch", str(job), "-o", str(out), "--workers", "2"])
    assert r.exit_code == 1, r.output  # one asset failed: documented status 1, the others are done
    assert "5 made" in r.output and "1 failed" in r.output
    status = rows(out / "manifest.sqlite")
    assert status["mus_broken_000"][0] == "failed" and "at least one layer" in status["mus_broken_000"][2]
    assert status["mus_broken_000"][1] == 1  # a user error is not retried
    assert all(status[n][0] == "done" for n in status if n != "mus_broken_000")
    index = json.loads((out / "index.json").read_text())["assets"]
    assert [a["name"] for a in index] == ["mus_vale_explore_000", "mus_vale_explore_001", "mus_vale_combat_000",
                                         "mus_vale_combat_001", "mus_caves_000"]
    csv_lines = (out / "index.csv").read_text().splitlines()
    assert csv_lines[0].startswith("name,region,state,variation") and len(csv_lines) == 6
    combat = next(a for a in index if a["name"] == "mus_vale_combat_001")
    frames = sf.info(str(out / combat["audio"])).frames
    # one 4/4 bar at the state's tempo, then the 2 s ring-out after the loop end
    assert combat["loop_end"] == round(4 * 60 / combat["bpm"] * 44100) and combat["bpm"] == 136
    assert frames == combat["length_samples"] == combat["loop_end"] + 2 * 44100
    assert len(combat["stems"]) == 7 and combat["loudness_lufs"] == pytest.approx(-16, abs=0.5)
    # the single-command render with the same inputs: byte for byte
    single = tmp_path / "single"
    for ext in ("wav", "mid"):
        args = ["compose", "--spec", str(FANTASY), "--state", "combat", "--seed", str(combat["seed"]), "--bars", "1",
                "-o", str(single / f"mus_vale_combat_001.{ext}")] + (["--stems", str(single / "stems")]
                                                                      if ext == "wav" else [])
        assert runner.invoke(app, args).exit_code == 0
    made = sorted(p.relative_to(single) for p in single.rglob("*") if p.is_file())
    assert len(made) == 2 + 2 + 7
    for rel in made:
        assert (out / "vale" / "combat" / rel).read_bytes() == (single / rel).read_bytes(), rel
    # a rerun makes nothing that is done (the failed one is tried again and fails again)
    before = {n: v[3] for n, v in status.items()}
    r2 = runner.invoke(app, ["batch", str(job), "-o", str(out)])
    assert r2.exit_code == 1 and "0 made, 5 already done, 1 failed" in r2.output
    after = rows(out / "manifest.sqlite")
    assert all(after[n][3] == before[n] for n in after if n != "mus_broken_000")
    # a deleted output is made again; the others are not
    (out / combat["audio"]).unlink()
    r3 = runner.invoke(app, ["batch", str(job), "-o", str(out)])
    assert "1 made, 4 already done" in r3.output and (out / combat["audio"]).is_file()


def test_killed_halfway_a_rerun_makes_only_what_is_missing(tmp_path, ray_cluster):
    job = small_job(tmp_path, bad=False, variations=4)  # 9 assets
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "segue.cli", "batch", str(job), "-o", str(out), "--workers", "1",
                             "--address", ray_cluster], cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    db = out / "manifest.sqlite"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            done = rows(db) if db.is_file() else {}
            if len(done) >= 3:
                break
            time.sleep(0.05)
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # no clean-up of any kind
        proc.wait()
    first = rows(db)
    assert 3 <= len(first) < 9, "the kill should land partway"
    assert all(v[0] == "done" for v in first.values())
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and ".partial" not in p.parts
              and p.suffix in (".wav", ".mid", ".flac")}
    r = runner.invoke(app, ["batch", str(job), "-o", str(out), "--workers", "2"])
    assert r.exit_code == 0, r.output
    assert f"{9 - len(first)} made, {len(first)} already done, 0 failed" in r.output
    second = rows(db)
    assert len(second) == 9 and all(v[0] == "done" for v in second.values())
    assert all(second[n][3] == first[n][3] for n in first)  # finished assets were not made again
    for name in first:
        for p, t in mtimes.items():
            if p.name.startswith(name + "."):
                assert p.stat().st_mtime_ns == t, p
    assert not any((out / ".partial").glob("*"))
    assert len(json.loads((out / "index.json").read_text())["assets"]) == 9


class FlakyMaker(AssetMaker):
    """Fails each asset's first try (as a lost file system or an out-of-memory worker would)."""

    def make(self, asset: dict, out_root: str) -> dict:
        mark = Path(out_root) / f"tried-{asset['name']}"
        if not mark.exists():
            mark.parent.mkdir(parents=True, exist_ok=True)
            mark.write_text("1")
            raise_here = {"ok": False, "name": asset["name"], "error": "OSError: disk went away", "user_error": False}
            return raise_here
        return super().make(asset, out_root)


def test_unexpected_failures_are_retried_and_recorded(tmp_path, ray_cluster):
    import ray.cloudpickle

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    assets = expand(load_job(small_job(tmp_path, bad=False, variations=1)))[:2]
    out = tmp_path / "out"
    m = Manifest(out / "manifest.sqlite")
    s = run(assets, out, m, retries=1, workers=1, maker=FlakyMaker)
    assert (s.done, s.failed, s.retried) == (2, 0, 2)
    for a in assets:
        row = m.row(a.name)
        assert row["status"] == "done" and row["attempts"] == 2 and "disk went away" in row["error"]
    out0 = tmp_path / "out0"
    m0 = Manifest(out0 / "manifest.sqlite")
    s0 = run(assets, out0, m0, retries=0, workers=1, maker=FlakyMaker)
    assert (s0.done, s0.failed) == (0, 2) and m0.row(assets[0].name)["error"] == "OSError: disk went away"
