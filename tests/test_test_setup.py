"""The test suite's own set-up: a missing system program is installed or fails the test, never skipped."""

from __future__ import annotations

import os

import pytest

import conftest


def test_a_missing_program_that_cannot_be_installed_fails_with_the_command(monkeypatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000, raising=False)
    with pytest.raises(pytest.fail.Exception) as info:
        conftest.system_program("segue-no-such-program", "segue-no-such-package")
    assert "apt-get install -y segue-no-such-package" in str(info.value)


def test_a_failed_install_fails_with_apt_gets_answer(monkeypatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0, raising=False)
    monkeypatch.setattr(conftest.shutil, "which", lambda name: "/usr/bin/apt-get" if name == "apt-get" else None)
    monkeypatch.setattr(conftest, "_apt_install", lambda package: "E: Unable to locate package " + package)
    with pytest.raises(pytest.fail.Exception) as info:
        conftest.system_program("segue-no-such-program", "segue-no-such-package")
    assert "Unable to locate package segue-no-such-package" in str(info.value)


def test_a_present_program_is_found_without_installing(monkeypatch) -> None:
    monkeypatch.setattr(conftest, "_apt_install", lambda package: pytest.fail("tried to install " + package))
    assert conftest.system_program("sh", "dash").name == "sh"
