"""The film workflow end to end, and the function behind ``segue score``.

``segue score SCRIPT --out DIR`` reads a screenplay (or SRT, or scene list), analyses its affect,
proposes a cue sheet, renders it and writes everything into DIR. ``segue score --cue-sheet
DIR/cues.yaml --out DIR2`` renders an edited cue sheet again: directions written in words are
applied, locked cues are checked, untouched cues keep their notes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from segue.film.analysis import analyse_script
from segue.film.cuesheet import Cue, CueSheet, load_cue_sheet
from segue.film.direction import parse_direction
from segue.film.errors import FilmError
from segue.film.llm import LLMBackend, backend_from_env
from segue.film.palette import FilmPalette, choose_instruments, choose_key, load_palette, preferred_tempo
from segue.film.propose import ProposeOptions, mood_words, propose_cues
from segue.film.reading import ReadOptions, load_script
from segue.film.render import FilmRender, render_film, write_report_json
from segue.film.score import plan_film
from segue.film.report import write_arc, write_html
from segue.film.timecode import frame_rate, parse_timecode
from segue.film.timing import TimingOptions

SAMPLE_RATES = (22050, 32000, 44100, 48000, 88200, 96000)


def propose_from_script(script: str | Path, *, timing: str | Path | None = None, fps: str | float | None = None,
                        start: str | float | None = None, length: float | None = None,
                        palette: FilmPalette | None = None, seed: int | None = None,
                        backend: LLMBackend | None = None, timing_options: TimingOptions | None = None,
                        options: ProposeOptions | None = None) -> CueSheet:
    """Read, analyse and propose: a cue sheet for a script (nothing is rendered)."""
    opt = ReadOptions(fps=None if fps is None else frame_rate(fps), start=start,
                      timing=timing_options or TimingOptions(), length=length)
    s = load_script(script, opt, timing=timing)
    # a YAML scene list may declare its frame rate and start timecode; options given here win
    rate = frame_rate(fps) if fps is not None else (s.fps or frame_rate(None))
    if start not in (None, ""):
        offset = parse_timecode(start, rate, what="start timecode")
    else:
        offset = s.start_tc or 0.0
    pal = palette or load_palette()
    affects = analyse_script(s, backend)
    sheet = propose_cues(s, affects, pal, fps=rate, start_tc=offset, seed=seed, options=options,
                         analysis=analysis_used(affects, backend))
    if pal.source != "<film palette>":
        sheet.palette = pal.source
    return sheet


def analysis_used(affects: list, backend: LLMBackend | None) -> str:
    """What really read the scenes (for ``analysis:`` in cues.yaml): never 'llm' when the lexicon did the work."""
    base = "learned reader" if any(a.source == "learned" for a in affects) else "lexicon"
    if backend is None:
        return base
    by_llm = sum(1 for a in affects if a.source == backend.name)
    if by_llm == len(affects):
        return backend.name
    if by_llm == 0:
        return f"{base} ({backend.name} failed for every scene)"
    return f"{backend.name} for {by_llm} of {len(affects)} scenes, {base} for the rest"


def apply_direction(cue: Cue, palette: FilmPalette, backend: LLMBackend | None, warnings: list[str]) -> None:
    """Re-derive a cue's mood, intensity, texture, instruments, key and tempo from its written direction."""
    if backend is not None:
        d = backend.direction(cue.direction, warnings)
    else:
        d = parse_direction(cue.direction, strict=False)
    if d is None:
        raise FilmError(f"cue {cue.id}: no mood, instrument or texture word recognised in direction "
                        f"{cue.direction!r} (try e.g. 'melancholy piano, sparse' or 'tense, building')")
    cue.valence, cue.arousal, cue.tension = round(d.valence, 3), round(d.arousal, 3), round(d.tension, 3)
    cue.intensity = round(d.intensity, 3)
    cue.intensity_end = None if d.intensity_end is None else round(d.intensity_end, 3)
    cue.density = d.density
    instruments, notes = choose_instruments(palette, d.valence, d.arousal, d.tension,
                                            max(d.intensity, d.intensity_end or 0.0), d)
    warnings.extend(f"cue {cue.id}: {n}" for n in notes)  # an instrument asked for and not given is said aloud
    cue.instruments = instruments
    cue.key = choose_key(palette, d.valence, d.arousal, d.tension, d)
    cue.tempo = preferred_tempo(palette, d.arousal, d)
    cue.mood = mood_words(d.valence, d.arousal, d.intensity, d.tension)
    cue.why = [f"direction: “{cue.direction}” ({', '.join(d.words) or d.source})"] + notes
    cue.direction_applied = cue.direction


def palette_for(sheet: CueSheet, override: str | Path | None = None) -> FilmPalette:
    """The palette a cue sheet names (relative paths resolve against the sheet's folder)."""
    if override is not None:
        return load_palette(override)
    if not sheet.palette or sheet.palette == "default":
        return load_palette()
    p = Path(sheet.palette)
    if not p.is_absolute() and sheet.base_dir is not None and not p.exists():
        p = sheet.base_dir / p
    return load_palette(p)


def render_sheet(sheet: CueSheet, out: str | Path, *, palette: FilmPalette, backend: LLMBackend | None = None,
                 soundfont: Path | None = None, stems: bool = True, audio: bool = True,
                 progress: Callable[[int, int], None] | None = None,
                 stem_format: str = "flac") -> tuple[FilmRender, list[Path]]:
    """Apply pending directions, render, and write cue sheet, reports and pictures next to the audio."""
    out = Path(out)
    for cue in sheet.cues:
        if cue.direction.strip() and cue.direction.strip() != cue.direction_applied.strip():
            apply_direction(cue, palette, backend, sheet.warnings)
    r = render_film(sheet, out, palette=palette, soundfont=soundfont, stems=stems, audio=audio, progress=progress,
                    stem_format=stem_format)
    files = list(r.files)
    files += _write_docs(sheet, out, r, palette)
    return r, files


def _write_docs(sheet: CueSheet, out: Path, r: FilmRender | None, palette: FilmPalette) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    files = [sheet.save(out / "cues.yaml"), sheet.save_csv(out / "cues.csv")]
    arc = write_arc(sheet, out)
    files += arc
    files.append(write_html(sheet, out / "report.html", r, svg_file=arc[1]))
    if r is not None:
        import json

        from ruamel.yaml import YAML

        files.append(write_report_json(r, out / "report.json"))
        spec_path = out / "film_spec.yaml"
        with spec_path.open("w", encoding="utf-8") as fh:
            fh.write("# The score spec Segue generated from the cue sheet (one state per cue section).\n")
            YAML(typ="safe", pure=True).dump(r.plan.spec_data, fh)
        files.append(spec_path)
        tl = out / "timeline.json"
        tl.write_text(json.dumps({"sample_rate": sheet.sample_rate, "duration": sheet.length, "seed": sheet.seed,
                                  "controls": [c.to_dict(sheet.sample_rate) for c in r.plan.controls]}, indent=1) + "\n",
                      encoding="utf-8")
        files.append(tl)
        mix = out / "score.wav"
        if mix.exists():
            from segue.pipeline import write_sidecar

            files.append(write_sidecar(mix, {"film": sheet.title, "seed": sheet.seed, "palette": sheet.palette,
                                             "palette_sha256": palette.sha256, "script": sheet.script,
                                             "cue_sheet": "cues.yaml", "analysis": sheet.analysis}))
    return files


def cli_score(script: Path | None, out: Path, cue_sheet: Path | None = None, fps: str | float | None = None, *,
              start: str | None = None, timing: Path | None = None, palette: Path | None = None,
              seed: int | None = None, llm: str | None = None, llm_model: str | None = None, render: bool = True,
              stems: bool = True, sample_rate: int | None = None, soundfont: Path | None = None,
              length: float | None = None, lines_per_page: float | None = None, dialogue_wpm: float | None = None,
              progress: Callable[[int, int], None] | None = None, warn: Callable[[str], None] | None = None,
              stem_format: str = "flac") -> list[Path]:
    """``segue score``: propose (from a script) or reload (a cue sheet), render, write everything into ``out``.

    Raises :class:`FilmError` for anything the user can fix; returns the files written. Every warning
    (a hit that missed, an LLM that fell back, an ambiguous timecode …) goes to ``warn`` — by default
    the console's stderr — as well as into cues.yaml, report.json and report.html: a problem that
    only a report shows is a problem nobody sees.
    """
    files, warnings = _score(script, out, cue_sheet, fps, start=start, timing=timing, palette=palette, seed=seed, llm=llm,
                   llm_model=llm_model, render=render, stems=stems, sample_rate=sample_rate, soundfont=soundfont,
                   length=length, lines_per_page=lines_per_page, dialogue_wpm=dialogue_wpm, progress=progress,
                   stem_format=stem_format)
    for w in warnings:
        (warn or _to_stderr)(w)
    return files


def _to_stderr(message: str) -> None:
    import sys

    print(f"warning: {message}", file=sys.stderr)


def _score(script: Path | None, out: Path, cue_sheet: Path | None, fps: str | float | None, *, start: str | None,
           timing: Path | None, palette: Path | None, seed: int | None, llm: str | None, llm_model: str | None,
           render: bool, stems: bool, sample_rate: int | None, soundfont: Path | None, length: float | None,
           lines_per_page: float | None, dialogue_wpm: float | None, progress: Callable[[int, int], None] | None,
           stem_format: str) -> tuple[list[Path], list[str]]:
    if (script is None) == (cue_sheet is None):
        raise FilmError("give a script (segue score SCRIPT --out DIR) or a cue sheet (--cue-sheet cues.yaml), "
                        "not both and not neither")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise FilmError(f"--seed must be a whole number ≥ 0, got {seed!r}")
    if sample_rate is not None and sample_rate not in SAMPLE_RATES:
        raise FilmError(f"--sample-rate must be one of {', '.join(map(str, SAMPLE_RATES))}")
    backend = backend_from_env(llm, llm_model)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise FilmError(f"{out} exists and is not a folder")
    if cue_sheet is not None:
        sheet = load_cue_sheet(cue_sheet)
        if fps is not None and frame_rate(fps) != sheet.fps:
            raise FilmError(f"the cue sheet is at {sheet.fps.name} fps; --fps {fps} does not match (edit 'fps' in the "
                            "sheet to change it)")
        if seed is not None:
            sheet.seed = seed
        pal = palette_for(sheet, palette)
        if palette is not None:
            sheet.palette = str(palette)
    else:
        topt = TimingOptions(**{k: v for k, v in (("lines_per_page", lines_per_page),
                                                  ("dialogue_wpm", dialogue_wpm)) if v is not None})
        pal = load_palette(palette)
        sheet = propose_from_script(script, timing=timing, fps=fps, start=start, length=length, palette=pal,
                                    seed=seed, backend=backend, timing_options=topt)
    if sample_rate is not None:
        sheet.sample_rate = sample_rate
    if not render:
        for cue in sheet.cues:
            if cue.direction.strip() and cue.direction.strip() != cue.direction_applied.strip():
                apply_direction(cue, pal, backend, sheet.warnings)
        plan_film(sheet, pal)  # the same checks a render makes (instruments, tempi), without the audio
        return _write_docs(sheet, out, None, pal), list(sheet.warnings)
    _, files = render_sheet(sheet, out, palette=pal, backend=backend, soundfont=soundfont, stems=stems,
                            progress=progress, stem_format=stem_format)
    return files, list(sheet.warnings)


def load_sheet(path: str | Path) -> CueSheet:
    return load_cue_sheet(path)
