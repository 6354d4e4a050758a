"""Film: every hit of a cue in sync, and robust text and time (Unicode, timecode rules, warnings, LLM deadline).

The sync test renders a few random cue sheets of the sweep (``python -m segue.film.sweep`` runs
30 of them as a benchmark) and measures every hit from the written MIDI — with pretty_midi, an
independent reader — and from the rendered audio's onsets.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from pathlib import Path

import mido
import pytest

from segue.film import LLMBackend, analyse_script, cli_score, load_cue_sheet, load_script, parse_timecode
from segue.film.render import HitResult, _missed_hits
from segue.film.sweep import random_scene_list, run_sheet, summary

SR = 22050


def test_every_hit_of_every_cue_lands_in_the_midi_and_the_audio(tmp_path: Path) -> None:
    measures = []
    for seed in (101, 102):
        measures += run_sheet(seed, tmp_path / str(seed), sample_rate=SR)
    s = summary(measures)
    assert s["later_hits"] >= 3  # hits after a cue's first: the ones a first-hit-only planner misses
    assert all(2 <= len(json.loads(random_scene_list(seed))["scenes"][0]["hits"]) <= 4 for seed in range(20))
    for m in measures:
        assert abs(m.midi_ms) <= 10.0, m
        assert m.accent_ms is not None and abs(m.accent_ms) <= 10.0, m


def test_a_missed_hit_is_a_warning_everywhere(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ok = HitResult("1M1", 4.0, "door", 0.0, 0.4, "bar 3 beat 1", 0.5)
    late = HitResult("1M1", 8.0, "lamp", 0.0, 0.3, "bar 5 beat 1", 42.0)  # the audio says it missed
    assert not ok.missed and late.missed
    from segue.film.cuesheet import CueSheet

    sheet = CueSheet("t", [], 10.0)
    warnings = _missed_hits(sheet, [ok, late])
    assert len(warnings) == 1 and "'lamp'" in warnings[0] and "+42.0 ms in the audio" in warnings[0]
    # every warning of a run reaches the console, report.json and cues.yaml (rows out of order: a warning)
    (tmp_path / "s.csv").write_text("scene,start,end,description\n2,00:00:06:00,00:00:12:00,She weeps.\n"
                                    "1,00:00:00:00,00:00:06:00,A brutal fight.\n", encoding="utf-8")
    cli_score(tmp_path / "s.csv", tmp_path / "o", sample_rate=SR, stems=False)
    err = capsys.readouterr().err
    assert "warning:" in err and "not in time order" in err
    rep = json.loads((tmp_path / "o" / "report.json").read_text(encoding="utf-8"))
    assert any("not in time order" in w for w in rep["warnings"]) and rep["hits_missed"] == 0
    cues = (tmp_path / "o" / "cues.yaml").read_text(encoding="utf-8")
    assert "not in time order" in cues and "not in time order" in (tmp_path / "o" / "report.html").read_text()


def test_unicode_titles_and_labels_render(tmp_path: Path) -> None:
    title = "Lighthouse’s End — Маяк"
    (tmp_path / "u.yaml").write_text(f"""title: "{title}"
scenes:
  - {{scene: 1, start: "00:00:00:00", end: "00:00:10:00", description: "Она плачет — a brutal fight’s end",
     hits: ["00:00:03:00 дверь — slams’", "00:00:06:12 Свет"]}}
""", encoding="utf-8")
    cli_score(tmp_path / "u.yaml", tmp_path / "o", sample_rate=SR, stems=False)
    sheet = load_cue_sheet(tmp_path / "o" / "cues.yaml")
    assert sheet.title == title and [h.label for c in sheet.cues for h in c.hits] == ["дверь — slams’", "Свет"]
    mid = mido.MidiFile(str(tmp_path / "o" / "midi" / "film.mid"), charset="utf-8")
    texts = [m.name if m.type == "track_name" else m.text for m in mid.tracks[0] if m.type in ("track_name", "marker")]
    assert title in texts and "HIT дверь — slams’" in texts
    assert (tmp_path / "o" / "score.wav").exists() and title in (tmp_path / "o" / "report.html").read_text("utf-8")


def test_timecode_rules_and_an_hh_mm_ss_scene_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert parse_timecode("00:03:00") == 180.0  # three fields: HH:MM:SS, never MM:SS:FF
    assert parse_timecode("00:00:03:12") == 3.5  # four fields: frames (24 fps)
    assert parse_timecode("00:01:02.500") == 62.5 and parse_timecode("01:02") == 62.0
    (tmp_path / "s.csv").write_text("scene,start,end,description\n1,00:00:00,00:01:30,A quiet morning.\n"
                                    "2,00:01:30,00:03:00,A brutal fight.\n", encoding="utf-8")
    cli_score(tmp_path / "s.csv", tmp_path / "o", render=False)
    sheet = load_cue_sheet(tmp_path / "o" / "cues.yaml")
    assert sheet.length == pytest.approx(180.0)  # a three-minute film, not three seconds
    assert "read as HH:MM:SS" in capsys.readouterr().err


class _Trickle(http.server.BaseHTTPRequestHandler):
    requests = 0
    cut_off = 0  # requests whose client hung up before the whole (6 s) answer was sent

    def do_POST(self) -> None:  # noqa: N802 - the standard library's name
        type(self).requests += 1
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        try:
            for _ in range(60):  # a byte every 0.1 s: each read is quick, the whole answer never comes in time
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:
            type(self).cut_off += 1

    def log_message(self, *args: object) -> None:
        pass


def test_a_trickling_llm_is_cut_at_its_deadline_and_given_up(tmp_path: Path) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Trickle)
    server.daemon_threads = False  # so that server_close() waits for every handler to finish
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        script = load_script(Path(__file__).resolve().parent.parent / "examples" / "film" / "the_keepers_light.fountain")
        script.warnings = []
        llm = LLMBackend(f"http://127.0.0.1:{server.server_address[1]}/v1", timeout=0.6, batch=1, max_failures=3)
        affects = analyse_script(script, llm)
        assert _Trickle.requests == 3 and llm.gave_up  # three cut requests, then it stopped asking
        server.shutdown()
        server.server_close()  # joins the handlers: each saw the client hang up mid-answer
        assert _Trickle.cut_off == 3
        assert all(a.source == "learned" for a in affects)  # the offline reader answered every scene
        assert sum("within 0.6 s" in w for w in script.warnings) == 3
        assert any("stopped asking" in w for w in script.warnings)
    finally:
        server.shutdown()
        server.server_close()
