"""Film and media: script → affect → cue sheet → rendered score, checked on the output files.

The example screenplay (examples/film/) was written with a deliberate arc — calm, suspense,
violence, grief, hope — so the analysis can be held to it. Renders run at 22.05 kHz to keep the
file fast; every timing claim (hits, length) is measured on the written MIDI and WAV files.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import mido
import numpy as np
import pretty_midi
import pytest
import soundfile as sf
from ruamel.yaml import YAML

from segue.film import (
    FilmError, LLMBackend, analyse_script, apply_direction, cli_score, frame_rate, load_cue_sheet, load_palette,
    load_script, parse_direction, parse_fountain, parse_timecode, plan_sections, propose_from_script, read_words,
    render_sheet,
)
from segue.film.cuesheet import Cue
from segue.film.reading import ReadOptions
from segue.film.timecode import format_timecode
from segue.film.timing import TimingOptions
from segue.music import Meter

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "film"
SCRIPT = EXAMPLES / "the_keepers_light.fountain"
SCENES = EXAMPLES / "the_keepers_light.csv"
SRT = EXAMPLES / "the_keepers_light.srt"
SR = 22050
CALM, SUSPENSE, VIOLENCE, GRIEF, HOPE = ("1", "2"), ("3", "4"), ("5",), ("6", "7"), ("8",)


# ---------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def palette():
    return load_palette()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example film, proposed and rendered by the CLI function."""
    out = tmp_path_factory.mktemp("film") / "first"
    cli_score(SCRIPT, out, timing=SCENES, sample_rate=SR)
    return out


@pytest.fixture(scope="module")
def rerendered(rendered: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The composer edits the written cue sheet: a new key and instruments for 1M4, a direction for 1M5,
    and locks 1M2; then re-renders with the CLI function."""
    y = YAML()
    data = y.load((rendered / "cues.yaml").read_text(encoding="utf-8"))
    cues = {c["id"]: c for c in data["cues"]}
    cues["1M4"]["key"] = "D phrygian"
    cues["1M4"]["instruments"] = ["piano", "cello", "choir"]
    cues["1M4"]["valence"] = -0.8
    cues["1M5"]["direction"] = "melancholy piano, sparse"
    cues["1M2"]["locked"] = True
    edited = rendered.parent / "edited.yaml"
    with edited.open("w", encoding="utf-8") as fh:
        y.dump(data, fh)
    out = rendered.parent / "second"
    cli_score(None, out, cue_sheet=edited)
    return edited, out


def _report(out: Path) -> dict:
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


def _cue_of_scene(sheet, scene: str):
    return next(c for c in sheet.cues if scene in c.scenes)


# ---------------------------------------------------------------------------------------- reading
def test_fountain_reads_every_element_kind() -> None:
    text = """Title: **Test** Film
Author: Someone

# ACT ONE
= The opening.

.A FORCED HEADING #1A#

!INT. THIS IS ACTION, NOT A HEADING

INT. KITCHEN - DAY #2#

A *quiet* kitchen. [[hit: kettle]]

@McCLANE (V.O.)
(softly)
Hello there.
How are you?

BRICK ^
Fine.

/* a cut line
   over two lines */
> BURN TO WHITE

CUT TO:

> THE END <

~Sing a song of sixpence

===
[[duration: 1:20]]
[[mood: melancholy piano, sparse]]
"""
    s = parse_fountain(text, "t.fountain")
    assert s.title == "Test Film"
    assert [sc.heading for sc in s.scenes] == ["A FORCED HEADING", "INT. KITCHEN - DAY"]
    assert [sc.number for sc in s.scenes] == ["1A", "2"]
    first, kitchen = s.scenes
    assert first.section == "ACT ONE" and first.synopsis == "The opening."
    assert first.elements[0].kind == "action" and first.elements[0].text.startswith("INT. THIS IS ACTION")
    kinds = [(e.kind, e.character) for e in kitchen.elements]
    assert kinds == [("action", None), ("character", "McCLANE"), ("parenthetical", "McCLANE"),
                     ("dialogue", "McCLANE"), ("character", "BRICK"), ("dialogue", "BRICK"),
                     ("transition", None), ("transition", None), ("centered", None), ("lyric", None)]
    assert kitchen.elements[0].text == "A quiet kitchen."  # emphasis removed, note taken out
    assert kitchen.elements[3].text == "Hello there.\nHow are you?"
    assert "a cut line" not in " ".join(e.text for e in kitchen.elements)  # boneyard skipped
    assert kitchen.pending_hits == [(0, "kettle")]
    assert kitchen.duration_override == 80.0 and kitchen.mood == "melancholy piano, sparse"
    assert kitchen.line == 11 and kitchen.elements[1].line == 15  # lines survive notes and boneyard


def test_timecodes_at_every_frame_rate() -> None:
    assert parse_timecode("00:01:23.400") == pytest.approx(83.4)
    assert parse_timecode("00:01:23,400") == pytest.approx(83.4)
    assert parse_timecode("1m23.4s") == pytest.approx(83.4)
    assert parse_timecode("00:01:23:12", frame_rate(24)) == pytest.approx(83.5)
    assert parse_timecode("00:01:23:12", frame_rate(25)) == pytest.approx(83.48)
    # 23.976: a timecode second lasts 1001/1000 s of real time
    assert parse_timecode("01:00:00:00", frame_rate("23.976")) == pytest.approx(3603.6)
    df = frame_rate("29.97df")
    for frames in (0, 1799, 1800, 17981, 17982, 107892, 123456):
        t = frames * 1001 / 30000
        assert parse_timecode(format_timecode(t, df), df) == pytest.approx(t, abs=1e-6)
    assert format_timecode(60.06, df) == "00:01:00;02"  # frames 00 and 01 are skipped at minute 1
    for bad in ("00:00:10:30", "00:61:00:00", "ten seconds", ""):
        with pytest.raises(FilmError):
            parse_timecode(bad, frame_rate(24))
    with pytest.raises(FilmError):
        frame_rate(17)


def test_durations_are_a_page_a_minute_and_dialogue_by_words(tmp_path: Path) -> None:
    action = "\n\n".join("The wind moves the grass on the hill." for _ in range(27))
    words = " ".join(["word"] * 150)
    p = tmp_path / "t.fountain"
    p.write_text(f"INT. A - DAY\n\n{action}\n\nINT. B - DAY\n\nANNA\n{words}\n\nINT. C - DAY\n\n"
                 "Short.\n[[duration: 00:00:42.5]]\n", encoding="utf-8")
    s = load_script(p)
    a, b, c = s.scenes
    assert a.duration == pytest.approx(60.0, rel=0.1)  # 27 paragraphs × (1 line + 1 blank) + heading ≈ 55 lines
    assert b.duration == pytest.approx(60.0 + 2 * 60 / 55, rel=0.02)  # 150 words at 150 wpm, plus the heading
    assert c.duration == pytest.approx(42.5)
    assert b.start == pytest.approx(a.end) and s.length == pytest.approx(c.end)
    slow = load_script(p, ReadOptions(timing=TimingOptions(dialogue_wpm=75)))
    assert slow.scenes[1].duration > 1.9 * b.duration - 5


def test_srt_and_scene_lists_carry_real_times() -> None:
    s = load_script(SRT)
    assert s.timed and s.scenes[0].start == 0.0
    assert all(a.end == pytest.approx(b.start) for a, b in zip(s.scenes, s.scenes[1:]))
    first = s.scenes[0].elements[0]
    assert first.offset == pytest.approx(6.0) and "peaceful" in first.text
    assert "<i>" not in s.scenes[2].elements[0].text
    lst = load_script(SCENES)
    assert [sc.number for sc in lst.scenes] == [str(k) for k in range(1, 9)]
    assert lst.length == pytest.approx(164.0)
    assert [round(h.time, 3) for h in lst.all_hits()] == [78.0, 91.5, 149.25]
    timed = load_script(SCRIPT, timing=SCENES)
    assert [round(sc.start, 3) for sc in timed.scenes] == [round(sc.start, 3) for sc in lst.scenes]
    # a [[hit]] note with the same label as a timecoded hit is that hit, not a second one
    assert [h.label for h in timed.all_hits()] == ["door smashes", "the lamp falls", "the light returns"]


# ---------------------------------------------------------------------------------------- affect
def test_negation_and_degree_words_change_the_reading() -> None:
    def val(text: str) -> float:
        ev = read_words(text)
        return sum(e.valence * e.weight for e in ev) / sum(e.weight for e in ev)

    assert val("She is afraid.") < 0 < val("She is not afraid.")
    assert val("He is very sad.") < val("He is sad.") < val("He is slightly sad.")
    loud = read_words("The door SMASHES open!", shouting=True)[0]
    quiet = read_words("the door smashes open", shouting=True)[0]
    assert loud.arousal > quiet.arousal and "capitals" in loud.note and loud.weight > quiet.weight
    neg = read_words("They are not happy.")[0]
    assert neg.word == "happy" and "negated by 'not'" in neg.note


@pytest.mark.parametrize("source", ["fountain+csv", "csv"])
def test_the_example_cue_sheet_follows_the_arc(source: str, palette) -> None:
    """calm → suspense → violence → grief → hope, scene by scene, in the proposed cue sheet."""
    sheet = propose_from_script(SCRIPT, timing=SCENES, palette=palette) if source == "fountain+csv" \
        else propose_from_script(SCENES, palette=palette)
    v = {s: _cue_of_scene(sheet, s).valence for s in "12345678"}
    a = {s: _cue_of_scene(sheet, s).arousal for s in "12345678"}
    for c in CALM:
        for s in SUSPENSE:
            assert v[c] > v[s] and a[s] > a[c], (c, s)
        for g in GRIEF:
            assert v[c] > v[g]
    for s in SUSPENSE:
        assert v[s] > v[VIOLENCE[0]] and a[VIOLENCE[0]] > a[s]
        for g in GRIEF:
            assert a[s] > a[g]
    for g in GRIEF:
        assert v[g] > v[VIOLENCE[0]] and a[VIOLENCE[0]] > a[g]
        assert v[HOPE[0]] > v[g] and a[HOPE[0]] > a[g]
    assert v[HOPE[0]] > 0 > v[SUSPENSE[0]]
    assert all(c.valence > 0 for s in CALM + HOPE for c in [_cue_of_scene(sheet, s)])
    assert all(c.valence < 0 for s in SUSPENSE + VIOLENCE + GRIEF for c in [_cue_of_scene(sheet, s)])
    # and the music follows: violence is the fastest cue, in a dark mode; hope is in a major key
    viol, hope = _cue_of_scene(sheet, "5"), _cue_of_scene(sheet, "8")
    assert viol.tempo == max(c.tempo for c in sheet.cues)
    assert viol.key.split()[-1] in ("phrygian", "harmonic_minor", "minor")
    assert hope.key.endswith(("major", "lydian", "mixolydian"))
    assert [h.label for h in viol.hits] == ["door smashes", "the lamp falls"]


def test_every_cue_says_why(palette) -> None:
    sheet = propose_from_script(SCRIPT, timing=SCENES, palette=palette)
    viol = _cue_of_scene(sheet, "5")
    assert any("'SMASHES'" in w and "capitals" in w for w in viol.why)
    susp = _cue_of_scene(sheet, "4")
    assert any("direction 'tense suspense, building'" in w for w in susp.why)  # the [[mood: …]] note
    assert susp.intensity_end is not None and susp.intensity_end > susp.intensity  # … builds
    script = load_script(SCRIPT, timing=SCENES)
    affects = analyse_script(script)
    assert {e.word.lower() for e in affects[5].evidence} >= {"weeps", "sobs", "dead"}


# ---------------------------------------------------------------------------------------- direction
def test_directions_in_words_become_musical_specs(palette) -> None:
    build = parse_direction("tense suspense building to a triumphant climax")
    assert build.valence < 0 and build.intensity_end is not None and build.intensity_end > build.intensity + 0.2
    sparse = parse_direction("melancholy piano, sparse")
    assert sparse.instruments == [("piano", 0)] and sparse.density is not None and sparse.density <= 0.3
    assert sparse.valence < 0 and sparse.arousal < 0.3
    cue = Cue(id="X", start=0, end=30, key="D minor", tempo=90, instruments=["horn", "brass", "drums"],
              direction="melancholy piano, sparse")
    apply_direction(cue, palette, None, [])
    assert cue.instruments == ["piano"] and cue.density == sparse.density
    assert cue.tempo < 80 and cue.key in ("D minor", "D dorian") and cue.direction_applied == cue.direction
    strings = parse_direction("slow strings and choir, no drums, 60 bpm")
    assert strings.tempo == 60 and strings.percussion is False and [p for _, p in strings.instruments] == [48, 52]
    with pytest.raises(FilmError):
        parse_direction("qwerty zxcv")


def test_llm_backend_is_validated_and_falls_back(palette) -> None:
    """No network: a fake transport plays the server. Bad answers fall back to the lexicon."""
    script = load_script(SCRIPT, timing=SCENES)
    n = len(script.scenes)
    sent: list[dict] = []

    def server(reply: object):
        def transport(url: str, body: bytes, headers: dict, timeout: float) -> bytes:
            sent.append({"url": url, "body": json.loads(body), "headers": headers, "timeout": timeout})
            if isinstance(reply, Exception):
                raise reply
            return json.dumps({"choices": [{"message": {"content": json.dumps(reply)}}]}).encode()
        return transport

    good = {"scenes": [{"index": k, "valence": -0.9 if k == 4 else 0.1, "arousal": 0.5, "tension": 0.5,
                        "why": "model", "evidence": ["The door SMASHES open.", "not in the text at all"]}
                       for k in range(n)]}
    llm = LLMBackend("http://localhost:9/v1", model="m", api_key="SECRET", transport=server(good), batch=100)
    affects = analyse_script(script, llm)
    assert sent[0]["url"] == "http://localhost:9/v1/chat/completions"
    assert sent[0]["headers"]["Authorization"] == "Bearer SECRET" and sent[0]["timeout"] > 0
    fmt = sent[0]["body"]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    assert affects[4].source == "llm:m" and affects[4].valence < -0.5  # scene 5 as the model scored it
    assert any('quoted: "The door SMASHES open."' in r for r in affects[4].reasons)
    assert not any("not in the text" in r for sa in affects for r in sa.reasons)  # invented quotes dropped
    for bad in ({"scenes": [{"index": 0, "valence": 7}]}, "not json at all", TimeoutError("timed out")):
        warnings: list[str] = []
        script.warnings = warnings
        llm = LLMBackend("http://localhost:9/v1", transport=server(bad))
        fallback = analyse_script(script, llm)
        lexicon = analyse_script(load_script(SCRIPT, timing=SCENES))
        assert [round(a.valence, 6) for a in fallback] == [round(a.valence, 6) for a in lexicon]
        assert warnings and all("fell back to the lexicon" in w for w in warnings)
    d = LLMBackend("http://x/v1", transport=server({"valence": 0.7, "arousal": 0.8, "tension": 0.2, "intensity": 0.9,
                                                    "intensity_end": None, "instruments": ["french horn"],
                                                    "density": None, "tempo_bpm": 120, "percussion": True})
                   ).direction("heroic", [])
    assert d.instruments == [("french horn", 60)] and d.tempo == 120 and d.source == "llm:local"


# ---------------------------------------------------------------------------------------- hits
def test_hit_planning_lands_on_downbeats_or_splits() -> None:
    sections, planned = plan_sections(10.0, 60.0, [(12.0, "a", ""), (12.9, "b", ""), (13.1, "c", ""),
                                                   (40.0, "d", "")], 90.0, (48.0, 160.0), Meter(4, 4))
    assert [p.label for p in planned] == ["a", "b", "c", "d"]
    assert all(abs(p.error_ms) < 0.5 for p in planned)
    assert [(p.beat in (0, 2)) for p in planned] == [True] * 4
    assert 13.1 in [s.start for s in sections]  # c is 0.2 s after b: a new section starts on it
    assert all(48 <= t <= 160 for s in sections for t in s.bar_tempos)


def test_hit_planning_models_the_engines_tempo_glide() -> None:
    """Later hits of a cue: the plan is replayed on the engine's own tempo map (a change glides over a bar)."""
    from segue.music import PPQ
    from segue.music.time import TempoMap

    meter = Meter(4, 4)
    hits = [(6.17, "a", ""), (8.46, "b", ""), (15.29, "c", ""), (21.0, "d", ""), (22.3, "e", "")]
    sections, planned = plan_sections(0.0, 30.0, hits, 96.0, (60.0, 160.0), meter)
    assert len({t for t in sections[0].bar_tempos}) >= 3  # the click changes tempo between hits
    sec = sections[0]
    tm = TempoMap.constant(sec.tempo_of_bar(0), 48000)
    tpb = meter.ticks_per_bar
    for k in range(1, len(sec.bar_tempos) + 1):  # what Conductor.compose_on does at each bar line
        if tm.bpm_at(k * tpb) != sec.tempo_of_bar(k):
            tm.ramp(k * tpb, (k + 1) * tpb, sec.tempo_of_bar(k), max(meter.ticks_per_beat // 2, 1))
    first = [p for p in planned if p.section == 0]
    assert len(first) >= 4
    for p in first:
        heard = tm.seconds(p.bar * tpb + p.beat * meter.ticks_per_beat)
        assert abs(heard - p.time) <= 0.002, (p.label, heard, p.time)
    assert PPQ == 480


def test_rendered_film_lands_hits_and_matches_the_film_length(rendered: Path) -> None:
    rep = _report(rendered)
    sheet = load_cue_sheet(rendered / "cues.yaml")
    frame = 1 / 24
    audio = sf.info(str(rendered / "score.wav"))
    assert audio.samplerate == SR and abs(audio.frames / SR - sheet.length) <= frame
    assert abs(mido.MidiFile(str(rendered / "midi" / "film.mid")).length - sheet.length) <= frame
    pm = pretty_midi.PrettyMIDI(str(rendered / "midi" / "film.mid"))
    # every hit within ±10 ms of a downbeat or strong beat, read back by an independent MIDI reader
    hits = [h.time for c in sheet.cues for h in c.hits]
    assert len(hits) == 3
    downbeats = pm.get_downbeats()
    beats = pm.get_beats()
    strong = set(np.round(downbeats, 6))
    for d0, d1 in zip(downbeats, list(downbeats[1:]) + [pm.get_end_time()]):
        inside = [b for b in beats if d0 < b < d1 - 1e-6]
        if len(inside) == 3:  # a 4/4 bar: beat 3 is strong
            strong.add(round(inside[1], 6))
    for h in hits:
        assert min(abs(s - h) for s in strong) <= 0.010, h
    assert rep["max_hit_error_ms"] <= 10.0 and len(rep["hits"]) == 3
    assert rep["length_within_one_frame"] and rep["rejected_controls"] == 0
    # a cue starts on a bar line at its exact time
    for c in sheet.cues:
        assert min(abs(d - c.start) for d in downbeats) <= 0.010
    files = {p.name for p in rendered.rglob("*") if p.is_file()}
    assert {"score.wav", "cues.yaml", "cues.csv", "arc.png", "arc.svg", "report.html", "report.json",
            "film.mid"} <= files
    assert {f"{c.id}.mid" for c in sheet.cues} <= files
    assert {f"score.{name}.flac" for c in sheet.cues for name in c.instruments} <= files
    assert "1M3" in (rendered / "report.html").read_text(encoding="utf-8")
    assert (rendered / "arc.png").read_bytes()[:4] == b"\x89PNG" and b"<svg" in (rendered / "arc.svg").read_bytes()


def test_offset_timecode_split_cues_and_strong_beats(tmp_path: Path) -> None:
    """23.976 fps from 01:00:00:00, hits too close for one tempo: sections, strong beats, SMPTE offset."""
    (tmp_path / "s.yaml").write_text("""fps: 23.976
start: "01:00:00:00"
scenes:
  - {scene: 1, start: "01:00:00:00", end: "01:00:10:00", description: "A quiet, gentle morning."}
  - {scene: 2, start: "01:00:10:00", end: "01:00:20:00", description: "A brutal violent fight; glass shatters.",
     hits: ["01:00:11:05 punch", "01:00:12:02 kick", "01:00:12:12 fall", "01:00:17:17 crash"]}
  - {scene: 3, start: "01:00:21:00", end: "01:00:26:00", description: "She weeps alone.", hits: ["01:00:23:00"]}
""", encoding="utf-8")
    out = tmp_path / "out"
    cli_score(tmp_path / "s.yaml", out, sample_rate=SR)
    rep = _report(out)
    assert len(rep["hits"]) == 5 and rep["max_hit_error_ms"] <= 10.0 and rep["length_within_one_frame"]
    assert rep["hits"][0]["at"] == "01:00:11:05"
    fight = rep["hits"][0]["cue"]
    assert rep["cues"][fight]["sections"] >= 2  # kick and fall are 0.4 s apart: a new section starts on the fall
    smpte = next(m for m in mido.MidiFile(str(out / "midi" / "film.mid")).tracks[0] if m.type == "smpte_offset")
    assert (smpte.hours, smpte.minutes, smpte.seconds, smpte.frames, smpte.frame_rate) == (1, 0, 0, 0, 24)
    last = rep["hits"][-1]["cue"]
    smpte3 = next(m for m in mido.MidiFile(str(out / "midi" / f"{last}.mid")).tracks[0] if m.type == "smpte_offset")
    assert (smpte3.hours, smpte3.seconds) == (1, 21)
    mix, sr = sf.read(str(out / "score.wav"))
    assert abs(len(mix) / sr - 26 * 1.001) <= 1 / 24
    gap = mix[int(20.4 * sr):int(20.9 * sr)]  # between the cues: tacet (after the fade)
    assert np.max(np.abs(gap)) < 0.02 < np.max(np.abs(mix[int(14 * sr):int(16 * sr)]))


def test_rerender_changes_only_the_edited_cues(rendered: Path, rerendered: tuple[Path, Path]) -> None:
    edited, out = rerendered
    before, after = _report(rendered)["cues"], _report(out)["cues"]
    changed = {k for k in before if before[k]["notes_sha256"] != after[k]["notes_sha256"]}
    assert changed == {"1M4", "1M5"}
    for cue in ("1M1", "1M2", "1M3"):  # untouched and locked cues: the same notes, the same MIDI file
        a = pretty_midi.PrettyMIDI(str(rendered / "midi" / f"{cue}.mid"))
        b = pretty_midi.PrettyMIDI(str(out / "midi" / f"{cue}.mid"))
        na = sorted((i.name, round(n.start, 5), n.pitch, n.velocity) for i in a.instruments for n in i.notes)
        nb = sorted((i.name, round(n.start, 5), n.pitch, n.velocity) for i in b.instruments for n in i.notes)
        assert na == nb and len(na) > 10
    sheet = load_cue_sheet(out / "cues.yaml")
    assert sheet.cue("1M5").instruments == ["piano"] and sheet.cue("1M5").direction_applied
    assert sheet.cue("1M4").key == "D phrygian" and sheet.cue("1M2").locked
    assert {n.name for n in pretty_midi.PrettyMIDI(str(out / "midi" / "1M4.mid")).instruments} == {"piano", "cello",
                                                                                                    "choir"}


def test_locked_cues_refuse_changes(rerendered: tuple[Path, Path], tmp_path: Path) -> None:
    _, out = rerendered
    pal = load_palette()
    sheet = load_cue_sheet(out / "cues.yaml")
    sheet.cue("1M2").key = "D major"
    with pytest.raises(FilmError, match=r"1M2 is locked, but key changed"):
        render_sheet(sheet, tmp_path / "x", palette=pal)
    sheet = load_cue_sheet(out / "cues.yaml")
    sheet.cues = sheet.cues[1:]  # the first cue removed: the locked cue moves in the chain of states
    with pytest.raises(FilmError, match=r"1M2 is locked, but a cue, section or gap was added or removed"):
        render_sheet(sheet, tmp_path / "y", palette=pal)
    sheet = load_cue_sheet(out / "cues.yaml")
    sheet.cue("1M1").locked, sheet.cue("1M1").rendered = True, None
    with pytest.raises(FilmError, match="never been rendered"):
        render_sheet(sheet, tmp_path / "z", palette=pal)
    assert not (tmp_path / "x" / "score.wav").exists()  # refused before rendering anything


def test_cue_sheet_edits_are_checked_with_line_numbers(rendered: Path, tmp_path: Path) -> None:
    import re

    text = (rendered / "cues.yaml").read_text(encoding="utf-8")
    tempo = re.search(r"tempo: [\d.]+", text).group(0)  # the first cue's own lines, whatever they hold
    instruments = re.search(r"\[[a-z, ]*strings[a-z, ]*\]", text).group(0)
    cases = {
        tempo: (tempo.replace("tempo", "tempoo"), r"unknown field 'tempoo'; did you mean 'tempo'"),
        instruments: ("[flute, strngs]", r"no instrument \(layer\) called 'strngs'.*'strings'"),
        "end: 00:00:38:00": ("end: 00:00:50:00", r"cues 1M1 and 1M2 overlap"),
        "start: 00:01:18:00": ("start: 00:01:18:99", r"frame 99"),
        "into_next: crossfade, fade_beats: 1.0": ("into_next: crossfad, fade_beats: 1.0", "did you mean 'crossfade'"),
    }
    for old, (new, message) in cases.items():
        assert old in text, old
        p = tmp_path / "bad.yaml"
        p.write_text(text.replace(old, new, 1), encoding="utf-8")
        with pytest.raises(FilmError, match=message) as err:
            cli_score(None, tmp_path / "o", cue_sheet=p, render=False)
        if "instrument" not in message:
            assert "bad.yaml:" in str(err.value)  # file:line:column
    files = cli_score(None, tmp_path / "ok", cue_sheet=rendered / "cues.yaml", render=False)
    assert {p.name for p in files} >= {"cues.yaml", "cues.csv", "arc.png", "arc.svg", "report.html"}


# ---------------------------------------------------------------------------------------- bad input
def _synthetic_script(pages: int, seed: int = 3) -> str:
    rnd = random.Random(seed)
    moods = [["calm", "gentle", "warm", "smiles"], ["uneasy", "shadow", "whisper", "afraid"],
             ["SMASHES", "fight", "blood", "screams"], ["weeps", "grief", "alone", "loss"],
             ["hopeful", "light", "safe", "home"]]
    lines = ["Title: Synthetic", ""]
    scene = 0
    while len(lines) < pages * 55:
        words = moods[min(4, 5 * len(lines) // (pages * 55))] + ["the", "door", "room", "she", "walks"]
        lines += [f"INT. ROOM {scene} - NIGHT", ""]
        for _ in range(3):
            lines += [" ".join(rnd.choice(words) for _ in range(9)).capitalize() + ".", "", "ANNA",
                      " ".join(rnd.choice(words) for _ in range(6)) + ".", ""]
        scene += 1
    return "\n".join(lines)


def test_malformed_input_gives_clear_errors_or_sensible_results(tmp_path: Path, palette) -> None:
    def write(name: str, data: bytes | str) -> Path:
        p = tmp_path / name
        p.write_bytes(data if isinstance(data, bytes) else data.encode())
        return p

    errors = {
        "empty.fountain": ("", "empty"),
        "notes.fountain": ("[[only a note]]\n/* and boneyard */\n", "script is empty"),
        "junk.fountain": (random.Random(1).randbytes(4000), "binary"),
        "junk.srt": (bytes(range(1, 32)) * 100, "binary"),
        "overlap.csv": ("scene,start,end\n1,00:00:00:00,00:00:10:00\n2,00:00:09:00,00:00:20:00\n", "overlap"),
        "backwards.csv": ("scene,start,end\n1,00:00:10:00,00:00:05:00\n", "before it"),
        "nothing.srt": ("no subtitles here\n", "no subtitles"),
        "broken.yaml": ("scenes: [1, 2\n", "not valid YAML"),
        "script.pdf": ("%PDF-1.4", "don't know how to read"),
    }
    for name, (data, message) in errors.items():
        with pytest.raises(FilmError, match=message):
            cli_score(write(name, data), tmp_path / "out", render=False)
    with pytest.raises(FilmError, match="not both"):
        cli_score(None, tmp_path / "out")
    with pytest.raises(FilmError, match="no such file"):
        cli_score(tmp_path / "missing.fountain", tmp_path / "out")
    # no scene headings: cut into page-sized scenes, with a warning, and still a cue sheet
    prose = "\n\n".join(["She smiles in the warm, calm morning light."] * 60 + ["A brutal fight! Blood, screams."] * 60)
    sheet = propose_from_script(write("prose.fountain", prose), palette=palette)
    assert len(sheet.cues) >= 2 and any("no scene headings" in w for w in sheet.warnings)
    assert sheet.cues[0].valence > 0 > sheet.cues[-1].valence
    # random Fountain-like noise never raises anything but FilmError
    rnd = random.Random(7)
    tokens = ["INT. X", "EXT.", "@", "!", ">", "<", "~", "=", "#", "[[", "]]", "/*", "*/", "(", ")", "BOB", "^",
              "CUT TO:", "\n", "\n\n", "word", "[[hit 00:00:xx]]", "[[duration: nope]]", "*", "_", "==="]
    for k in range(150):
        text = " ".join(rnd.choice(tokens) for _ in range(rnd.randint(1, 60)))
        try:
            parse_fountain(text, f"noise{k}")
        except FilmError:
            pass
    # a 400-page script: a sensible cue sheet quickly; rendering it whole is refused with advice
    big = propose_from_script(write("big.fountain", _synthetic_script(400)), palette=palette)
    assert big.length > 3 * 3600 and len(big.cues) > 20
    middle = next(c for c in big.cues if c.start <= big.length / 2 < c.end)  # the violent fifth of the script
    assert big.cues[0].valence > 0 > middle.valence and middle.arousal > big.cues[0].arousal
    with pytest.raises(FilmError, match="reel by reel"):
        render_sheet(big, tmp_path / "big", palette=palette)
