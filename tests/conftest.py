"""Shared fixtures: the system programs some tests drive (Chromium, MuseScore 3).

The README's test command (`uv run pytest`) must pass on a fresh machine with nothing installed
beforehand, so a test that needs a system program asks for it through :func:`system_program`: when
the program is missing and this process may install Debian packages (root, `apt-get` present), it
installs the package once per test session; otherwise the test *fails* with the command that
installs it. It never skips: a suite that passes because it checked less would lie.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

_updated = False


def _apt_install(package: str) -> str:
    """Install a Debian package; returns '' or what went wrong."""
    global _updated
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    steps = ([] if _updated else [["apt-get", "update", "-qq"]]) + [["apt-get", "install", "-y", "-qq", package]]
    for argv in steps:
        r = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=1200)
        if r.returncode != 0:
            return f"`{' '.join(argv)}` failed ({r.returncode}): {(r.stderr or r.stdout).strip()[-800:]}"
        if argv[1] == "update":
            _updated = True
    return ""


def system_program(program: str, package: str, *, path: str | None = None) -> Path:
    """The path of ``program`` (or exactly ``path``), installing Debian's ``package`` if it is missing.

    Fails the calling test, with the command to run, when it is missing and cannot be installed here.
    """
    def find() -> Path | None:
        if path is not None:
            return Path(path) if Path(path).is_file() else None
        found = shutil.which(program)
        return Path(found) if found else None

    found = find()
    if found is not None:
        return found
    how = f"`sudo apt-get update && sudo apt-get install -y {package}`"
    can_install = hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get") is not None
    if not can_install:
        pytest.fail(f"{path or program} is missing and this test run cannot install it (needs root and apt-get): "
                    f"install it with {how}, or run the tests on Debian/Ubuntu as root", pytrace=False)
    problem = _apt_install(package)
    found = find()
    if found is None:
        pytest.fail(f"{path or program} is still missing after installing {package!r}: {problem or 'no error'}; "
                    f"try {how}", pytrace=False)
    return found


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium, which the studio's browser test drives through Playwright."""
    return system_program("chromium", "chromium", path="/usr/bin/chromium")


@pytest.fixture(scope="session")
def mscore3() -> Path:
    """MuseScore 3's command line (Debian's `musescore3`), which imports our MusicXML and MIDI."""
    return system_program("mscore3", "musescore3")
