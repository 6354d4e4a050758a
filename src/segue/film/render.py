"""Render a cue sheet: the whole film through the live engine, streamed to files, then checked.

Offline rendering is the live engine driven as fast as possible (Segue's one sound path), here
with its output streamed block by block to disk — a two-hour film does not fit in memory as
floating-point audio, let alone with stems. What comes out: the full mix (WAV), one stem per layer,
a MIDI file for the whole film and one per cue (aligned to timecode), and the checks a director
and a composer care about: each hit point's error measured from the written MIDI, the rendered
length against the film's, and every locked cue compared note-for-note with its last render.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from segue.film.cuesheet import CueSheet
from segue.film.errors import FilmError
from segue.film.midi import FilmNotes, build_film_midi, read_grid
from segue.film.onsets import HitWindows
from segue.film.palette import TACET_LAYER, FilmPalette
from segue.film.score import TACET, FilmPlan, lock_context, plan_film

MAX_RENDER_SECONDS = 4 * 3600.0
"""Longest film rendered in one go (a feature is cut into reels long before this)."""
BLOCK = 4096
HIT_TOLERANCE_MS = 10.0
"""A hit lands when its beat is within this many ms of it, in the MIDI and in the audio."""
Progress = Callable[[int, int], None]


class _Buffered:
    """Collects engine blocks and writes them to a :class:`~segue.audio.FileSink` a second or so at a time
    (a 24-bit conversion and a libsndfile call per 4096-frame block cost more than the synthesis)."""

    def __init__(self, sink: object, frames: int = 65536) -> None:
        self.sink = sink
        self.frames = frames
        self.parts: list[np.ndarray] = []
        self.count = 0

    def write(self, block: np.ndarray) -> None:
        self.parts.append(block)
        self.count += block.shape[0]
        if self.count >= self.frames:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            self.sink.write(np.concatenate(self.parts))
            self.parts, self.count = [], 0

    def close(self) -> None:
        self.flush()
        self.sink.close()

    def abort(self) -> None:
        self.parts = []
        self.sink.abort()


@dataclass(slots=True)
class HitResult:
    """A hit point after rendering: planned and measured error (ms) and what it landed on."""

    cue: str
    time: float
    label: str
    planned_ms: float
    measured_ms: float
    lands_on: str
    audio_ms: float | None = None
    """Onset of the hit's accent in the rendered audio, ms from the hit (None: not rendered or not heard)."""

    @property
    def missed(self) -> bool:
        """Off by more than ±10 ms in the MIDI or in the audio (or no accent heard in the audio)."""
        return abs(self.measured_ms) > HIT_TOLERANCE_MS or (self.audio_ms is not None and
                                                             abs(self.audio_ms) > HIT_TOLERANCE_MS)


@dataclass(slots=True)
class CueResult:
    cue: str
    ordinal: int
    sections: int
    notes: int
    notes_sha256: str
    settings_sha256: str
    start_tick: int
    end_tick: int


@dataclass(slots=True)
class FilmRender:
    """Everything a render produced and measured."""

    sheet: CueSheet
    plan: FilmPlan
    files: list[Path]
    hits: list[HitResult]
    cues: dict[str, CueResult]
    length_seconds: float
    audio_seconds: float | None
    midi_seconds: float
    sample_rate: int
    rejected: int
    warnings: list[str] = field(default_factory=list)

    @property
    def max_hit_error_ms(self) -> float:
        return max((abs(h.measured_ms) for h in self.hits), default=0.0)


def check_locks(sheet: CueSheet, palette: FilmPalette, plan: FilmPlan) -> None:
    """Before rendering: a locked cue must have been rendered, and nothing its notes depend on may change."""
    for cue in sheet.cues:
        if not cue.locked:
            continue
        r = cue.rendered or {}
        if "settings_sha256" not in r:
            raise FilmError(f"cue {cue.id} is locked but has never been rendered; render the cue sheet once, then "
                            "lock cues in the cue sheet that render wrote")
        states = plan.states_of(cue.id)
        ordinal = states[0].ordinal
        if r.get("ordinal") != ordinal:
            raise FilmError(f"cue {cue.id} is locked, but a cue, section or gap was added or removed before it "
                            f"(it is now state #{ordinal} of the film, it was #{r.get('ordinal')}); its notes would "
                            "change. Undo that change, or unlock the cue")
        ctx = lock_context(sheet, palette, ordinal, plan.bridge_in.get(cue.id, False))
        if cue.settings_sha256(ctx) != r["settings_sha256"]:
            old = r.get("settings") or {}
            changed = [k for k, v in cue.settings().items() if old.get(k) != v]
            what = ", ".join(changed) if changed else "the palette, seed or the transition into it"
            raise FilmError(f"cue {cue.id} is locked, but {what} changed since it was rendered; undo the change "
                            "or set locked: false to let it be rewritten")


def _drive(plan: FilmPlan, sheet: CueSheet, out_dir: Path, *, soundfont: Path | None, stems: bool, stem_format: str,
           audio: bool, progress: Progress | None, windows: HitWindows | None = None
           ) -> tuple[object, list, int, Path | None, list[Path]]:
    """Play the timeline through the engine, streaming the mix and stems to WAV files."""
    from segue.audio import FileSink
    from segue.engine.conductor import Conductor
    from segue.pipeline import default_guard
    from segue.engine.engine import Engine
    from segue.spec import SpecError, spec_from_dict

    try:
        spec = spec_from_dict(plan.spec_data, base_dir=sheet.base_dir, source="<film score spec>")
    except SpecError as exc:
        raise FilmError(f"the cue sheet makes an invalid score spec:\n{exc}") from None
    sr = sheet.sample_rate
    total = int(round(sheet.length * sr))
    cond = Conductor(spec, seed=sheet.seed, sample_rate=sr, keep_bars=True, guard=default_guard())
    engine = Engine(cond, soundfont=soundfont)
    for ctl in sorted(plan.controls, key=lambda c: c.sample):  # stable: same-sample controls keep their order
        reason = engine.submit(ctl, sample=ctl.sample)
        if reason:
            raise FilmError(f"internal: the engine refused a film control ({reason})")
    latency = engine.mixer.latency
    files: list[Path] = []
    mix_path = out_dir / "score.wav" if audio else None
    used = sorted({name for c in sheet.cues for name in c.instruments})
    sinks: dict[str, object] = {}
    mix_sink = _Buffered(FileSink(mix_path, sr)) if audio else None
    accents = [str(x["name"]) for x in plan.spec_data.get("stingers", [])]
    try:
        if audio and stems:
            for name in used:
                sinks[name] = _Buffered(FileSink(out_dir / "stems" / f"score.{name}.{stem_format}", sr))
        written = 0
        while engine.position < total + latency:
            n = min(BLOCK, total + latency - engine.position)
            pos = engine.position
            mix, st = engine.pull(n, want_stems=bool(sinks) or windows is not None)
            if windows is not None:
                for name in accents:
                    if name in st:  # stems are not delayed by the bus; an accent first played inside this
                        # block has audio only from then on: its piece ends with the block
                        windows.add(pos + n - st[name].shape[0], st[name])
            if mix_sink is not None:
                a = max(0, latency - pos)
                b = min(n, total + latency - pos)
                if b > a:
                    mix_sink.write(mix[a:b])
                    written += b - a
            for name, sink in sinks.items():
                b = min(n, max(0, total - pos))
                if b > 0:
                    block = st.get(name)
                    sink.write(block[:b] if block is not None else np.zeros((b, 2), np.float32))
            engine.events = [e for e in engine.events if e.kind in ("state_entered", "stinger", "rejected")]
            if progress:
                progress(min(engine.position, total + latency), total + latency)
    except BaseException:
        for s in [mix_sink, *sinks.values()]:
            if s is not None:
                s.abort()
        raise
    for s in [mix_sink, *sinks.values()]:
        if s is not None:
            s.close()
    if mix_path is not None:
        files.append(mix_path)
    files += [out_dir / "stems" / f"score.{name}.{stem_format}" for name in sinks]
    perf = cond.performance()
    perf.end = cond.tempo_map.tick_at_sample(total)
    while cond.tempo_map.sample(perf.end) < total:
        perf.end += 1
    return perf, list(engine.events), engine.rejected, mix_path, files


def _notes_digest(notes: FilmNotes, layers: list[str], start_tick: int, end_tick: int) -> tuple[str, int]:
    """A hash of a cue's notes relative to its start (onsets before its end): what 'locked' keeps."""
    h = hashlib.sha256()
    count = 0
    for layer in sorted(layers):
        for n in notes.between(layer, start_tick, max(start_tick, end_tick - 2)):
            h.update(f"{layer}:{n.start - start_tick}:{n.pitch}:{n.velocity};".encode())
            count += 1
    return h.hexdigest()[:16], count


def render_film(sheet: CueSheet, out_dir: str | Path, *, palette: FilmPalette, soundfont: Path | None = None,
                stems: bool = True, audio: bool = True, progress: Progress | None = None,
                stem_format: str = "flac") -> FilmRender:
    """Render ``sheet`` into ``out_dir`` (mix, stems, MIDI); measure hits, length and locks."""
    from segue import __version__

    if sheet.length > MAX_RENDER_SECONDS:
        raise FilmError(f"the film is {sheet.length / 3600:.1f} hours long; Segue renders at most "
                        f"{MAX_RENDER_SECONDS / 3600:.0f} hours at a time — render it reel by reel (a cue sheet per reel)")
    out_dir = Path(out_dir)
    sheet.validate()
    sheet = sheet.playing()  # music: false spans are silence, as the gaps between cues are
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FilmError(f"cannot create {out_dir}: {exc.strerror or exc}") from None
    plan = plan_film(sheet, palette)
    check_locks(sheet, palette, plan)
    if stem_format not in ("flac", "wav"):
        raise FilmError(f"stems are written as flac or wav, not {stem_format!r}")
    windows = HitWindows([h.time for c in sheet.cues for h in c.hits], sheet.sample_rate) if audio else None
    perf, events, rejected, mix_path, files = _drive(plan, sheet, out_dir, soundfont=soundfont, stems=stems,
                                                     stem_format=stem_format, audio=audio, progress=progress,
                                                     windows=windows)
    sr = sheet.sample_rate
    tm = perf.tempo_map
    entered = {e.data["name"]: e.data["tick"] for e in events if e.kind == "state_entered"}
    deck_starts = sorted(set(entered.values()) | {0})
    missing = [s.name for s in plan.chain[1:] if s.name not in entered and s.name != TACET]
    if missing:
        raise FilmError(f"internal: the engine never entered {', '.join(missing[:5])}")
    perf.provenance = {"segue_version": __version__, "film": sheet.title, "seed": sheet.seed,
                       "palette_sha256": palette.sha256, "script": sheet.script}
    notes = FilmNotes.of(perf)
    parts = [p for p in perf.parts if p.name != TACET_LAYER]
    markers: list[tuple[int, str]] = []
    for st in plan.chain[1:]:
        if st.cue is not None and st.name in entered:
            markers.append((entered[st.name], st.name if st.section_index == 0 else f"{st.name} (section)"))
    for cue in sheet.cues:
        for h in cue.hits:
            markers.append((tm.tick_at_sample(int(round(h.time * sr))), f"HIT {h.label}"))
    hit_notes, programs = _stinger_notes(events, plan, palette)
    midi_dir = out_dir / "midi"
    midi_dir.mkdir(parents=True, exist_ok=True)
    end_tick = perf.end_tick
    mid, _ = build_film_midi(notes, deck_starts, 0, end_tick, parts=parts, title=sheet.title, rate=sheet.fps,
                             offset_seconds=sheet.start_tc, markers=markers, extra_notes=hit_notes,
                             extra_programs=programs)
    film_mid = midi_dir / "film.mid"
    mid.save(str(film_mid))
    files.append(film_mid)
    cue_results: dict[str, CueResult] = {}
    for k, cue in enumerate(sheet.cues):
        states = plan.states_of(cue.id)
        a = entered[states[0].name]
        end_s = states[-1].end
        b = tm.tick_at_sample(int(round(end_s * sr)))
        while tm.sample(b) < int(round(end_s * sr)):
            b += 1
        layers = list(cue.instruments)
        digest, count = _notes_digest(notes, layers, a, b)
        cue_results[cue.id] = CueResult(cue.id, states[0].ordinal, len(states), count, digest,
                                        cue.settings_sha256(lock_context(sheet, palette, states[0].ordinal,
                                                                         plan.bridge_in.get(cue.id, False))), a, b)
        cmid, _ = build_film_midi(notes, [entered[s.name] for s in states], a, b,
                                  parts=[p for p in parts if p.name in layers], title=f"{sheet.title} {cue.id}",
                                  rate=sheet.fps, offset_seconds=sheet.start_tc + tm.seconds(a),
                                  markers=[(t, txt) for t, txt in markers if a <= t < b],
                                  extra_notes=hit_notes, extra_programs=programs)
        path = midi_dir / f"{cue.id}.mid"
        cmid.save(str(path))
        files.append(path)
    grid, midi_seconds = read_grid(film_mid)
    hits = _measure_hits(sheet, plan, grid, windows)
    for w in list(plan.notes) + _missed_hits(sheet, hits):
        if w not in sheet.warnings:
            sheet.warnings.append(w)
    warnings = list(sheet.warnings)
    audio_seconds = None
    if mix_path is not None:
        import soundfile as sf

        audio_seconds = sf.info(str(mix_path)).frames / sr
    for cue in sheet.cues:
        res = cue_results[cue.id]
        if cue.locked and cue.rendered and cue.rendered.get("notes_sha256") != res.notes_sha256:
            raise FilmError(f"cue {cue.id} is locked but its notes changed ({cue.rendered.get('notes_sha256')} → "
                            f"{res.notes_sha256}); this is a bug in Segue — please report it with the cue sheet")
    _record(sheet, plan, cue_results, hits)
    return FilmRender(sheet, plan, files, hits, cue_results, sheet.length, audio_seconds, midi_seconds, sr, rejected,
                      warnings)


def _stinger_notes(events: list, plan: FilmPlan, palette: FilmPalette
                   ) -> tuple[list[tuple[int, int, int, int, int]], dict[int, int]]:
    """The hit accents the engine played, as notes for the film MIDI's hits track."""
    chans = {"timpani": (14, 47), "chime": (13, 14), "crash": (9, None)}
    out = []
    programs: dict[int, int] = {}
    for e in events:
        if e.kind != "stinger":
            continue
        kind = str(e.data["name"]).rsplit("_", 1)[0]
        ch, prog = chans.get(kind, (12, 0))
        if prog is not None:
            programs[ch] = prog
        for tick, pitch in e.data.get("notes", []):
            out.append((int(tick), int(pitch), 480, 110, ch))
    return out, programs


def _missed_hits(sheet: CueSheet, hits: list[HitResult]) -> list[str]:
    """A warning for every hit that did not land: it must reach the console and every report."""
    out = []
    for h in hits:
        if h.missed:
            audio = "" if h.audio_ms is None else f", {h.audio_ms:+.1f} ms in the audio"
            out.append(f"hit '{h.label}' at {sheet.tc(h.time)} (cue {h.cue}) missed its beat: "
                       f"{h.measured_ms:+.1f} ms in the MIDI{audio} (limit ±{HIT_TOLERANCE_MS:g} ms); move the hit, "
                       "widen the palette's tempo range or split the cue")
    return out


def _measure_hits(sheet: CueSheet, plan: FilmPlan, grid: list, windows: HitWindows | None = None) -> list:
    """Each hit's distance to the nearest downbeat or strong beat of the written MIDI, in ms."""
    import bisect

    times = [g.seconds for g in grid if g.strong or g.downbeat]
    accents = [g for g in grid if g.strong or g.downbeat]
    out = []
    for cue in sheet.cues:
        planned = {round(p.time, 4): p for p in plan.hits.get(cue.id, [])}
        for h in cue.hits:
            i = bisect.bisect_left(times, h.time)
            best = min((j for j in (i - 1, i) if 0 <= j < len(times)), key=lambda j: abs(times[j] - h.time), default=None)
            if best is None:
                out.append(HitResult(cue.id, h.time, h.label, 0.0, float("inf"), "nothing"))
                continue
            g = accents[best]
            p = planned.get(round(h.time, 4))
            out.append(HitResult(cue.id, h.time, h.label, p.error_ms if p else 0.0, (g.seconds - h.time) * 1000.0,
                                 f"bar {g.bar + 1} beat {g.beat + 1}" + (" (downbeat)" if g.downbeat else ""),
                                 windows.onset_ms(h.time) if windows is not None else None))
    return out


def _record(sheet: CueSheet, plan: FilmPlan, results: dict[str, CueResult], hits: list[HitResult]) -> None:
    """Write what was rendered into the cue sheet (for people, and for the next render's lock checks)."""
    by_cue: dict[str, list[HitResult]] = {}
    for h in hits:
        by_cue.setdefault(h.cue, []).append(h)
    for cue in sheet.cues:
        r = results[cue.id]
        states = plan.states_of(cue.id)
        cue.rendered = {
            "ordinal": r.ordinal, "sections": r.sections, "notes": r.notes, "notes_sha256": r.notes_sha256,
            "settings_sha256": r.settings_sha256, "settings": cue.settings(),
            "click": [{"at": sheet.tc(s.start), "bar_tempos": _runs(s.section.bar_tempos), "then": s.section.tail_tempo}
                      for s in states if s.section is not None],
        }
        for h, res in zip(cue.hits, by_cue.get(cue.id, [])):
            h.measured_ms = res.measured_ms
            h.planned_ms = res.planned_ms
            h.beat = res.lands_on
            h.audio_ms = res.audio_ms
            h.missed = res.missed


def _runs(tempos: list[float]) -> list[str]:
    """[120, 120, 120, 96] → ['3 × 120', '1 × 96']: a click track a person can read."""
    out: list[list[float]] = []
    for t in tempos:
        if out and out[-1][1] == t:
            out[-1][0] += 1
        else:
            out.append([1, t])
    return [f"{int(n)} × {t:g}" for n, t in out]


def film_report_data(r: FilmRender) -> dict:
    """The render's numbers as plain data (report.json)."""
    frame = float(1 / r.sheet.fps.fps)
    return {
        "title": r.sheet.title, "fps": r.sheet.fps.name, "start": r.sheet.tc(0), "length_seconds": r.length_seconds,
        "audio_seconds": r.audio_seconds, "midi_seconds": r.midi_seconds, "frame_seconds": frame,
        "length_within_one_frame": (r.audio_seconds is None or abs(r.audio_seconds - r.length_seconds) <= frame)
        and abs(r.midi_seconds - r.length_seconds) <= frame,
        "max_hit_error_ms": r.max_hit_error_ms,
        "hits": [{"cue": h.cue, "at": r.sheet.tc(h.time), "label": h.label, "planned_ms": round(h.planned_ms, 3),
                  "measured_ms": round(h.measured_ms, 3), "lands_on": h.lands_on,
                  "audio_ms": None if h.audio_ms is None else round(h.audio_ms, 3), "landed": not h.missed}
                 for h in r.hits],
        "max_audio_hit_error_ms": max((abs(h.audio_ms) for h in r.hits if h.audio_ms is not None), default=None),
        "hits_missed": sum(h.missed for h in r.hits),
        "cues": {k: {"ordinal": v.ordinal, "sections": v.sections, "notes": v.notes, "notes_sha256": v.notes_sha256}
                 for k, v in r.cues.items()},
        "rejected_controls": r.rejected, "warnings": r.warnings,
        "files": [str(p) for p in r.files],
    }


def write_report_json(r: FilmRender, path: Path) -> Path:
    path.write_text(json.dumps(film_report_data(r), indent=2) + "\n", encoding="utf-8")
    return path
