"""The command line as a user meets it: real processes, exit codes, files other tools open."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mido
import numpy as np
import pretty_midi
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]


def segue(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "segue.cli", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, env=env, timeout=600)


def test_demo_writes_files_that_other_tools_open(tmp_path) -> None:
    out = tmp_path / "demo"
    r = segue("demo", "--out", str(out), "--bars", "4")
    assert r.returncode == 0, r.stderr
    # a clean first run: nothing alarming in the log (a user's first sight of Segue)
    alarming = [line for line in (r.stderr + r.stdout).splitlines()
                if any(w in line.lower() for w in ("rejected", "warning", "error", "traceback", "failed"))]
    assert not alarming, alarming
    # the table names the keys the files play (their key markers), not the spec's home key
    for stem in ("fantasy_game", "dark_ambient", "light_orchestral_film", "mood_tense", "fantasy_game_trace"):
        keys = [m.text.removeprefix("key: ") for m in mido.MidiFile(str(out / f"{stem}.mid")).tracks[0]
                if m.type == "marker" and m.text.startswith("key: ")]
        played = " → ".join(k for i, k in enumerate(keys) if i == 0 or keys[i - 1] != k)
        label = "game trace" if stem == "fantasy_game_trace" else stem
        row = next(line for line in r.stdout.splitlines() if label in line)
        assert played in row, (stem, played, row)
    wavs = sorted(out.glob("*.wav"))
    mids = sorted(out.glob("*.mid"))
    xmls = sorted(out.glob("*.musicxml"))
    assert len(wavs) >= 3 and len(mids) >= 3 and len(xmls) >= 3
    for w in wavs:
        audio, sr = sf.read(str(w))
        assert sr in (44100, 48000)
        peak = float(np.max(np.abs(audio)))
        assert 0.05 < peak < 0.999, (w, peak)  # neither silent nor clipped
    for m in mids:
        mf = mido.MidiFile(str(m))
        assert mf.type == 1 and len(mf.tracks) >= 3
        pm = pretty_midi.PrettyMIDI(str(m))
        assert sum(len(i.notes) for i in pm.instruments) > 10
    from music21 import converter

    for x in xmls:
        score = converter.parse(str(x))
        assert len(score.parts) >= 2 and len(score.flatten().notes) > 10
    assert (out / "fantasy_game_stems").is_dir() and len(list((out / "fantasy_game_stems").glob("*.wav"))) >= 4
    assert list(out.glob("*.segue.json"))


def test_compose_is_byte_identical_for_same_seed(tmp_path) -> None:
    outs = []
    for i, seed in enumerate(("7", "7", "8")):
        for ext in ("mid", "wav"):
            p = tmp_path / f"{i}.{ext}"
            r = segue("compose", "--spec", "examples/dark_ambient.yaml", "--bars", "3", "--seed", seed, "--out", str(p))
            assert r.returncode == 0, r.stderr
        outs.append(((tmp_path / f"{i}.mid").read_bytes(), (tmp_path / f"{i}.wav").read_bytes()))
    assert outs[0] == outs[1]
    assert outs[0][0] != outs[2][0] and outs[0][1] != outs[2][1]


@pytest.mark.parametrize("args", [
    ("--mood", "tense suspense building", "--seconds", "6"),
    ("--valence", "0.5", "--arousal", "0.2", "--intensity", "0.3", "--bars", "2"),
])
def test_compose_from_mood_or_affect(tmp_path, args) -> None:
    p = tmp_path / "x.flac"
    r = segue("compose", *args, "--out", str(p))
    assert r.returncode == 0, r.stderr
    audio, sr = sf.read(str(p))
    assert audio.shape[0] > sr and np.max(np.abs(audio)) > 0.05


def test_musicxml_output_parses(tmp_path) -> None:
    p = tmp_path / "x.musicxml"
    r = segue("compose", "--spec", "examples/light_orchestral_film.yaml", "--bars", "4", "--out", str(p))
    assert r.returncode == 0, r.stderr
    from music21 import converter

    assert len(converter.parse(str(p)).flatten().notes) > 10


def _bad_spec(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    return p


GOOD = (ROOT / "examples" / "dark_ambient.yaml").read_text()


@pytest.mark.parametrize("mutate, expect", [
    (lambda t: t + "\n  - [unclosed\n", "line"),
    (lambda t: t.replace("palette:", "palette:\n  colour: blue", 1), "colour"),
    (lambda t: t.replace("meter:", "meter_typo:", 1), "meter_typo"),
])
def test_bad_specs_give_one_clear_error(tmp_path, mutate, expect) -> None:
    p = _bad_spec(tmp_path, mutate(GOOD))
    r = segue("compose", "--spec", str(p), "--out", str(tmp_path / "x.mid"))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    assert expect in r.stderr
    assert "bad.yaml:" in r.stderr  # file:line


def test_empty_scale_range_intersection_is_named(tmp_path) -> None:
    text = """
name: narrow
palette: {key: C major}
layers:
  - name: lead
    role: melody
    program: 0
    range: [C#4, D#4]
"""
    p = _bad_spec(tmp_path, text)
    r = segue("compose", "--spec", str(p), "--out", str(tmp_path / "x.mid"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "lead" in r.stderr and ":8:" in r.stderr


def test_missing_and_corrupt_files(tmp_path) -> None:
    r = segue("compose", "--spec", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "x.mid"))
    assert r.returncode == 2 and "Traceback" not in r.stderr and "nope.yaml" in r.stderr
    junk = tmp_path / "junk.mid"
    junk.write_bytes(b"MThd\x00\x00\x00\x06garbage" + os.urandom(64))
    r = segue("render", str(junk), "--out", str(tmp_path / "x.wav"))
    assert r.returncode == 2 and "Traceback" not in r.stderr and "junk.mid" in r.stderr
    r = segue("compose", "--mood", "xyzzy", "--out", str(tmp_path / "x.mid"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    r = segue("compose", "--valence", "nan", "--out", str(tmp_path / "x.mid"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    r = segue("compose", "--bars", "4", "--out", str(tmp_path / "x.docx"))
    assert r.returncode == 2 and ".docx" in r.stderr


def test_render_a_midi_file(tmp_path) -> None:
    mid = tmp_path / "in.mid"
    assert segue("compose", "--bars", "2", "--out", str(mid)).returncode == 0
    wav = tmp_path / "out.wav"
    r = segue("render", str(mid), "--out", str(wav))
    assert r.returncode == 0, r.stderr
    audio, sr = sf.read(str(wav))
    assert np.max(np.abs(audio)) > 0.05


def test_live_headless_records_a_log_that_play_renders(tmp_path) -> None:
    log = tmp_path / "log.json"
    r = segue("live", "--spec", "examples/fantasy_game.yaml", "--headless", "--seconds", "2",
              "--osc-port", "0", "--ws-port", "0", "--record", str(log))
    assert r.returncode == 0, r.stderr
    assert "OSC on udp://127.0.0.1:" in r.stdout and "WebSocket on ws://127.0.0.1:" in r.stdout
    assert log.is_file()
    wav = tmp_path / "replay.wav"
    r = segue("play", "--spec", "examples/fantasy_game.yaml", "--trace", str(log), "--out", str(wav))
    assert r.returncode == 0, r.stderr
    audio, sr = sf.read(str(wav))
    assert audio.shape[0] >= sr and np.max(np.abs(audio)) > 0.01


def test_play_and_bad_traces(tmp_path) -> None:
    mid = tmp_path / "trace.mid"
    r = segue("play", "--spec", "examples/fantasy_game.yaml", "--trace", "examples/fantasy_game_trace.json",
              "--out", str(mid))
    assert r.returncode == 0, r.stderr and "transitions" in r.stdout
    assert len(mido.MidiFile(str(mid)).tracks) >= 7
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    r = segue("play", "--spec", "examples/fantasy_game.yaml", "--trace", str(bad), "--out", str(tmp_path / "x.wav"))
    assert r.returncode == 2 and "Traceback" not in r.stderr and "bad.json" in r.stderr
    r = segue("live", "--host", "0.0.0.0", "--headless", "--seconds", "1")
    assert r.returncode == 2 and "token" in r.stderr


def test_vary_and_morph_commands(tmp_path) -> None:
    r = segue("vary", "D4:1 E4:0.5 F4:0.5 A4:1 G4:0.5 F4:0.5 E4:2", "-n", "3", "--axis", "rhythm,melody",
              "--band", "medium", "--out", str(tmp_path / "v"), "--no-audio")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "v" / "sheet.html").is_file() and len(list((tmp_path / "v").glob("*.mid"))) >= 4
    r = segue("morph", "D4:1 E4:1 F4:1 A4:1", "A4:0.5 G4:0.5 F4:1 E4:1 D4:1", "--steps", "3",
              "--out", str(tmp_path / "m"), "--no-audio")
    assert r.returncode == 0, r.stderr
    r = segue("vary", str(tmp_path / "missing.mid"))
    assert r.returncode == 2 and "Traceback" not in r.stderr and "missing.mid" in r.stderr


def test_score_command(tmp_path) -> None:
    r = segue("score", "examples/film/the_keepers_light.fountain", "--timing", "examples/film/the_keepers_light.csv",
              "--out", str(tmp_path / "film"), "--no-stems")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "film" / "cues.yaml").is_file() and (tmp_path / "film" / "score.wav").is_file()
    junk = tmp_path / "junk.fountain"
    junk.write_bytes(os.urandom(300))
    r = segue("score", str(junk), "--out", str(tmp_path / "x"))
    assert r.returncode == 2 and "Traceback" not in r.stderr


def installed_segue(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The console script the package installs (what a user types), not ``python -m``."""
    exe = Path(sys.executable).with_name("segue.exe" if os.name == "nt" else "segue")
    assert exe.is_file(), f"the `segue` console script is not installed beside {sys.executable}"
    env = dict(os.environ, COLUMNS="200")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=cwd or ROOT, env=env, timeout=600)


def test_check_exit_status_through_the_installed_command(tmp_path) -> None:
    """docs/originality.md: 0 original, 1 similar or copy, 2 a user error."""
    from music21 import corpus

    bach = Path(corpus.__file__).parent / "bach" / "bwv66.6.mxl"
    r = installed_segue("check", str(bach))
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "COPY" in r.stdout
    mid = tmp_path / "ours.mid"
    assert segue("compose", "--spec", "examples/dark_ambient.yaml", "--bars", "8", "--out", str(mid)).returncode == 0
    r = installed_segue("check", str(mid))
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "ORIGINAL" in r.stdout.upper()
    r = installed_segue("check", str(tmp_path / "missing.mid"))
    assert r.returncode == 2 and "Traceback" not in r.stderr


@pytest.mark.parametrize("args", [("nosuch",), ("compose",), ("compose", "--out", "x.mid", "--bars", "many"), ()])
def test_usage_errors_exit_2_without_a_traceback(args) -> None:
    r = installed_segue(*args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr + r.stdout


def test_help_exits_0() -> None:
    r = installed_segue("--help")
    assert r.returncode == 0 and "compose" in r.stdout


def test_every_user_error_type_is_where_main_looks_for_it() -> None:
    """main() finds user errors by module and name without importing anything; a moved class would be a traceback."""
    import importlib

    from segue import cli

    for module, name in cli._USER_ERROR_TYPES:
        cls = getattr(importlib.import_module(module), name)
        assert issubclass(cls, Exception), (module, name)
        assert cls.__module__ == module, (module, name, cls.__module__)


HEAVY = ("scipy", "music21", "matplotlib", "pretty_midi", "pedalboard", "tinysoundfont", "soundfile", "pyloudnorm")


def _modules_after(*args: str) -> set[str]:
    code = ("import sys\nsys.argv = ['segue', *sys.argv[1:]]\nfrom segue.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write('MODULES ' + ' '.join(sorted(sys.modules)) + '\\n')\n")
    r = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT, timeout=300)
    line = next(x for x in r.stderr.splitlines() if x.startswith("MODULES "))
    return set(line.split()[1:])


def test_help_imports_no_heavy_library() -> None:
    """`segue --help` stays fast because it imports nothing that makes music (benchmarks/bench_startup.py times it)."""
    mods = _modules_after("--help")
    tops = {m.split(".")[0] for m in mods}
    assert not tops & {*HEAVY, "numpy", "pydantic"}, sorted(tops & {*HEAVY, "numpy", "pydantic"})
    assert not any(m.startswith("segue.") and m != "segue.cli" for m in mods), sorted(m for m in mods if m.startswith("segue."))


def test_composing_a_midi_file_imports_no_audio_or_notation_library(tmp_path) -> None:
    mods = _modules_after("compose", "--bars", "1", "--out", str(tmp_path / "x.mid"))
    assert (tmp_path / "x.mid").is_file()
    tops = {m.split(".")[0] for m in mods}
    assert not tops & {"scipy", "music21", "matplotlib"}, sorted(tops & {"scipy", "music21", "matplotlib"})
