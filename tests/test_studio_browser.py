"""End to end in a real browser: headless Chromium (Playwright's Python API) against a running studio.

Loads the page, starts a session, moves the intensity slider and checks that the engine's
parameter (via REST status) and the streamed audio (the page's received-audio RMS) change, types
a broken spec and checks the error shown at its line, and saves screenshots of the main views
under tests/artifacts/studio/ (the folder ignores itself in git). Chromium comes from the system
through the ``chromium`` fixture (tests/conftest.py): installed with ``apt-get install chromium`` when it is
missing and the run may install packages; otherwise the test fails with a message saying so.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from segue.studio.server import make_server

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--autoplay-policy=no-user-gesture-required"]
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "studio"


@pytest.fixture(scope="module")
def studio_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server, sock = make_server("127.0.0.1", 0, upload_dir=tmp_path_factory.mktemp("uploads"), examples_dir=EXAMPLES)
    port = sock.getsockname()[1]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)  # type: ignore[attr-defined]
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:  # type: ignore[attr-defined]
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True  # type: ignore[attr-defined]
    thread.join(timeout=10)
    sock.close()


def rest(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def mean_rms(page: object, seconds: float = 3.0) -> float:
    """The page's received-audio RMS (a 0.5 s window), averaged over ``seconds`` of listening."""
    values = []
    for _ in range(int(seconds / 0.25)):
        values.append(float(page.evaluate("document.body.dataset.rms")))  # type: ignore[attr-defined]
        time.sleep(0.25)
    return sum(values) / len(values)


def test_studio_in_headless_chromium(studio_url: str, chromium: Path) -> None:
    from playwright.sync_api import sync_playwright

    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    (ARTIFACTS.parent / ".gitignore").write_text("*\n")  # screenshots are test output, never committed
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            problems: list[str] = []
            page.on("pageerror", lambda err: problems.append(str(err)))
            page.goto(studio_url + "/")
            page.wait_for_function("document.querySelectorAll('#example option').length > 2")
            page.select_option("#example", "fantasy_game")
            page.wait_for_function("document.getElementById('editor').value.includes('Ashen Vale')")

            # --- live session from the editor: the explore state without its fixed layers, so that
            # intensity brings layers in by their `enter` thresholds (a composer's experiment)
            original = page.input_value("#editor")
            assert "    layers: [lead, strings, harp]\n" in original
            page.fill("#editor", original.replace("    layers: [lead, strings, harp]\n", ""))
            page.wait_for_function("document.getElementById('spec-state').textContent === 'spec OK'")
            page.click("#start-editor")
            page.wait_for_selector("#param-intensity")
            page.wait_for_function("Number(document.body.dataset.frames) > 20", timeout=15000)
            session = page.evaluate("document.body.dataset.session")
            assert page.locator("#states button").all_inner_texts() == ["explore", "tension", "combat", "victory"]
            assert page.locator("#stingers button").all_inner_texts() == ["discovery", "hit"]
            page.wait_for_function("document.getElementById('np-key').textContent === 'D dorian'")
            status = rest(f"{studio_url}/api/sessions/{session}")
            assert status["parameters"]["intensity"] == pytest.approx(0.2)
            assert not {"horns", "drums"} & set(status["active_layers"]), status
            time.sleep(1.0)
            quiet_rms = mean_rms(page)
            page.screenshot(path=str(ARTIFACTS / "live-explore.png"), full_page=True)

            # --- move the intensity slider to the top: the engine follows and the music gets louder
            slider = page.locator("#param-intensity")
            box = slider.bounding_box()
            assert box is not None
            page.mouse.click(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
            page.wait_for_function("Number(document.getElementById('param-intensity').value) > 0.9")
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                status = rest(f"{studio_url}/api/sessions/{session}")
                if status["parameters"]["intensity"] > 0.9 and {"horns", "drums"} <= set(status["active_layers"]):
                    break
                time.sleep(0.25)
            assert status["parameters"]["intensity"] > 0.9, status
            assert {"horns", "drums"} <= set(status["active_layers"]), status
            time.sleep(1.0)  # the denser, louder bars reach the page
            loud_rms = mean_rms(page)
            print(f"received RMS: intensity 0.2 → {quiet_rms:.4f}, intensity 1.0 → {loud_rms:.4f}")
            assert loud_rms > quiet_rms * 1.2, (quiet_rms, loud_rms)
            page.click("#states button[data-state='combat']")
            page.wait_for_function("document.getElementById('np-state').textContent.includes('combat')", timeout=15000)
            page.wait_for_timeout(500)
            assert page.evaluate("document.body.dataset.pageUnderruns") is not None
            page.click("#feedback button[data-feedback='like']")  # the listener's taste buttons reach the engine
            page.wait_for_function("document.getElementById('log').textContent.includes('you said: like')", timeout=10000)
            page.screenshot(path=str(ARTIFACTS / "live-combat.png"), full_page=True)

            # --- a broken spec: the error is shown at its line, in the list and in the gutter
            text = original
            broken = text.replace("range: [C4, G6]", "range: [C4, Q9]")
            line = next(n for n, row in enumerate(broken.splitlines(), 1) if "Q9" in row)
            page.fill("#editor", broken)
            page.wait_for_selector(f"#errors li[data-line='{line}']", timeout=10000)
            assert "Q9" in page.inner_text(f"#errors li[data-line='{line}']") or \
                "note" in page.inner_text(f"#errors li[data-line='{line}']").lower()
            assert page.get_attribute(f"#gutter div[data-line='{line}']", "class") == "error"
            assert page.inner_text("#spec-state").endswith("problem") or "problem" in page.inner_text("#spec-state")
            page.click(f"#errors li[data-line='{line}']")
            page.screenshot(path=str(ARTIFACTS / "editor-error.png"), full_page=True)

            # --- hot reload refused for the broken text, then accepted once fixed; the music never stops
            page.click("#reload")
            page.wait_for_function("document.getElementById('log').textContent.includes('hot reload refused')")
            page.fill("#editor", text.replace("name: discovery", "name: secret"))
            page.wait_for_function("document.getElementById('spec-state').textContent === 'spec OK'")
            frames_before = int(page.evaluate("document.body.dataset.frames"))
            page.click("#reload")
            page.wait_for_selector("#stingers button[data-stinger='secret']", timeout=10000)
            page.wait_for_function(f"Number(document.body.dataset.frames) > {frames_before + 20}")
            assert rest(f"{studio_url}/api/sessions/{session}")["generation"] == 1
            page.screenshot(path=str(ARTIFACTS / "hot-reloaded.png"), full_page=True)

            # --- stopping the page's session ends the engine on the server
            page.click("#stop")
            deadline = time.monotonic() + 5
            while rest(f"{studio_url}/api/sessions")["sessions"] and time.monotonic() < deadline:
                time.sleep(0.1)
            assert rest(f"{studio_url}/api/sessions")["sessions"] == []
            assert problems == [], problems
        finally:
            browser.close()
    for name in ("live-explore.png", "live-combat.png", "editor-error.png", "hot-reloaded.png"):
        assert (ARTIFACTS / name).stat().st_size > 10_000
