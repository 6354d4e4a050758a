"""`segue` — the command line.

User errors (a bad spec, a missing file, an unknown mood) print one clear message and exit
with status 2; they never print a traceback. Heavy modules are imported inside commands so
`segue --help` stays instant.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import typer
from rich.console import Console
from rich.markup import escape

app = typer.Typer(
    name="segue", help="Adaptive, AI-generated music for games, film and media.",
    no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False,
    # plain help text: typer's rich help formatter imports rich.markdown, pygments and markdown-it
    # (~0.15 s CPU) just to draw boxes around `segue --help`
    rich_markup_mode=None,
)
out = Console()
err = Console(stderr=True)


def _esc(value: object) -> str:
    """A file name or other user text, safe inside rich markup."""
    return escape(str(value))


def _warn(message: str) -> None:
    """A warning the user should read (a theme that quotes a known work), on stderr."""
    err.print(f"[yellow]warning:[/yellow] {_esc(message)}")


class UserError(Exception):
    """Anything the user can fix: printed as one line, exit status 2."""


# Where each kind of user error is defined. They are looked up only in modules already imported when
# an exception reaches ``main()`` (an exception cannot come from a module nobody imported), so that
# learning the error types costs nothing at start-up: importing the subsystems to get their
# classes cost 1.4 s of CPU before `segue --help` printed a line.
_USER_ERROR_TYPES = (
    ("segue.audio.errors", "AudioError"),
    ("segue.compose.affect", "MoodError"),
    ("segue.pipeline", "OutputError"),
    ("segue.spec.issues", "SpecError"),
    ("segue.style.errors", "StyleError"),
    ("segue.engine.controls", "TimelineError"),
    ("segue.evaluate.errors", "EvaluationError"),
    ("segue.server", "ServerError"),
    ("segue.film.errors", "FilmError"),
    ("segue.originality.errors", "OriginalityError"),
    ("segue.studio.errors", "StudioError"),
    ("segue.variations.errors", "VariationError"),
)


def _user_error_types() -> tuple[type[BaseException], ...]:
    """The user-error classes of every subsystem imported so far (and :class:`UserError`)."""
    types: list[type[BaseException]] = [UserError]
    for module, name in _USER_ERROR_TYPES:
        cls = getattr(sys.modules.get(module), name, None)
        if isinstance(cls, type) and issubclass(cls, BaseException):
            types.append(cls)
    return tuple(types)


@contextmanager
def progress_bar(label: str) -> Iterator:
    """A rich progress bar; yields a ``(done, total)`` callback."""
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TaskProgressColumn(), TimeRemainingColumn(),
                  console=err, transient=True, disable=not err.is_terminal) as prog:
        task = prog.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            prog.update(task, completed=done, total=total)

        yield update


def _load_spec(spec: Optional[Path]):
    from segue.spec import default_spec, load_spec

    return load_spec(spec) if spec is not None else default_spec()


def _affect(spec_obj, mood: Optional[str], valence: Optional[float], arousal: Optional[float],
            intensity: Optional[float]):
    from segue.compose.affect import Affect, mood_to_affect

    if mood is not None and any(v is not None for v in (valence, arousal, intensity)):
        raise UserError("give --mood or --valence/--arousal/--intensity, not both")
    if mood is not None:
        return mood_to_affect(mood)
    if any(v is not None for v in (valence, arousal, intensity)):
        m = spec_obj.mood
        vals = {"valence": valence, "arousal": arousal, "intensity": intensity}
        for name, v in vals.items():
            if v is not None and not (v == v):  # NaN
                raise UserError(f"--{name} must be a number, got NaN")
        if valence is not None and not -1.0 <= valence <= 1.0:
            raise UserError(f"--valence must be between -1 and 1, got {valence}")
        for name in ("arousal", "intensity"):
            v = vals[name]
            if v is not None and not 0.0 <= v <= 1.0:
                raise UserError(f"--{name} must be between 0 and 1, got {v}")
        return Affect(
            m.valence if valence is None else valence,
            m.arousal if arousal is None else arousal,
            m.intensity if intensity is None else intensity,
        )
    return None


@app.command()
def compose(
    out_path: Path = typer.Option(..., "--out", "-o", help="Output file: .mid, .musicxml, .wav or .flac."),
    spec: Optional[Path] = typer.Option(None, "--spec", "-s", help="Score spec (YAML). Default: the embedded spec."),
    mood: Optional[str] = typer.Option(None, "--mood", "-m", help='Mood in words, e.g. "tense suspense".'),
    valence: Optional[float] = typer.Option(None, help="Valence -1 (negative) .. 1 (positive)."),
    arousal: Optional[float] = typer.Option(None, help="Arousal 0 (calm) .. 1 (excited)."),
    intensity: Optional[float] = typer.Option(None, help="Intensity 0 .. 1 (layers, loudness, tension)."),
    bars: Optional[int] = typer.Option(None, "--bars", "-b", help="Length in bars (default 16)."),
    seconds: Optional[float] = typer.Option(None, "--seconds", help="Length in seconds (rounded up to whole bars)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed (default: the spec's seed)."),
    stems: Optional[Path] = typer.Option(None, "--stems", help="Also write one audio file per layer into this folder."),
    soundfont: Optional[Path] = typer.Option(None, "--soundfont", help="A .sf2 file (default: the bundled GM font)."),
    state: Optional[str] = typer.Option(None, "--state", help="Start in this game state (default: the spec's initial_state)."),
) -> None:
    """Compose a piece from a spec or a mood; the output kind follows the extension."""
    from segue import pipeline

    spec_obj = pipeline.in_state(_load_spec(spec), state)
    affect = _affect(spec_obj, mood, valence, arousal, intensity)
    kind = pipeline.output_kind(out_path)
    if seed is not None and seed < 0:
        raise UserError(f"--seed must be ≥ 0, got {seed}")
    t0 = time.perf_counter()
    if kind == "audio":
        with progress_bar("rendering") as cb:
            r = pipeline.render(spec_obj, bars=bars, seconds=seconds, seed=seed, affect=affect,
                                soundfont=soundfont, progress=cb, keep_stems=stems is not None, warn=_warn)
        written = pipeline.write_rendered(r, out_path, stems)
        perf = r.performance
    else:
        if stems is not None:
            raise UserError("--stems needs an audio output (.wav or .flac)")
        with progress_bar("composing") as cb:
            perf = pipeline.compose(spec_obj, bars=bars, seconds=seconds, seed=seed, affect=affect, progress=cb,
                                    warn=_warn)
        written = [pipeline.write_performance(perf, out_path)]
    dt = time.perf_counter() - t0
    out.print(f"[green]wrote[/green] {_esc(written[0])}  ({len(perf.bars)} bars, {perf.seconds:.1f} s, "
              f"{perf.home_key.name()}, seed {perf.seed}, {dt:.1f} s)")
    for p in written[1:]:
        out.print(f"      {_esc(p)}")


@app.command()
def play(
    spec: Path = typer.Option(..., "--spec", "-s", help="Score spec (YAML) with states/parameters."),
    trace: Path = typer.Option(..., "--trace", "-t", help="Timeline of controls (JSON or YAML)."),
    out_path: Path = typer.Option(..., "--out", "-o", help="Output: .wav, .flac or .mid."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed (default: the trace's, else the spec's)."),
    events: Optional[Path] = typer.Option(None, "--events", help="Also write the engine's events as JSON lines."),
    soundfont: Optional[Path] = typer.Option(None, "--soundfont", help="A .sf2 file (default: the bundled GM font)."),
) -> None:
    """Render a gameplay trace offline with the live engine (same notes, same samples)."""
    import json as _json

    from segue import pipeline
    from segue.engine.controls import Timeline

    spec_obj = _load_spec(spec)
    timeline = Timeline.load(trace)
    kind = pipeline.output_kind(out_path)
    if kind == "musicxml":
        raise UserError("`segue play` writes .wav, .flac or .mid")
    with progress_bar("playing") as cb:
        played = pipeline.play(spec_obj, timeline, seed=seed, soundfont=soundfont, progress=cb,
                               keep_audio=kind == "audio")
    if kind == "audio":
        from segue.audio import write_audio

        pipeline._ensure_dir(out_path)
        write_audio(out_path, played.mix, timeline.sample_rate)
        pipeline.write_sidecar(out_path, played.performance.provenance)
    else:
        pipeline.write_performance(played.performance, out_path)
    if events is not None:
        with events.open("w", encoding="utf-8") as fh:
            for ev in played.events:
                fh.write(_json.dumps({"sample": ev.sample, "kind": ev.kind, "data": ev.data}, default=str) + "\n")
    kinds: dict[str, int] = {}
    for ev in played.events:
        kinds[ev.kind] = kinds.get(ev.kind, 0) + 1
    out.print(f"[green]wrote[/green] {_esc(out_path)}  ({timeline.end_sample() / timeline.sample_rate:.1f} s, "
              f"{kinds.get('state_entered', 0)} transitions, {kinds.get('stinger', 0)} stingers, "
              f"{played.rejected} rejected controls)")


def _stop_on_sigterm() -> object:
    """Make SIGTERM stop `segue live` like Ctrl-C (it used to kill it before the --record log was written)."""
    import signal

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (tests drive the command in a thread): nothing to do
        return None


def _restore_sigterm(previous: object) -> None:
    import signal

    if previous is not None:
        try:
            signal.signal(signal.SIGTERM, previous)  # type: ignore[arg-type]
        except ValueError:
            pass


@app.command()
def live(
    spec: Optional[Path] = typer.Option(None, "--spec", "-s", help="Score spec (YAML). Default: the embedded spec."),
    osc_port: int = typer.Option(9000, "--osc-port", help="UDP port for OSC control (-1 = off, 0 = any free port)."),
    ws_port: int = typer.Option(9001, "--ws-port", help="TCP port for the WebSocket protocol (-1 = off, 0 = any free port)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback by default)."),
    token: Optional[str] = typer.Option(None, "--token", help="Required from WebSocket and OSC clients, at least 16 "
                                        "characters (needed off loopback; see docs/limits.md)."),
    headless: bool = typer.Option(False, "--headless", "--no-audio",
                                  help="No sound card: run the clock without audio output (MIDI-only with --midi-out)."),
    record: Optional[Path] = typer.Option(None, "--record", help="On exit, write the control log here (replay with `segue play`)."),
    seconds: Optional[float] = typer.Option(None, "--seconds", help="Stop after this many seconds (default: until Ctrl-C)."),
    seed: Optional[int] = typer.Option(None, "--seed"),
    midi_out: Optional[str] = typer.Option(None, "--midi-out", help="Also send the notes to this MIDI output port "
                                           "(its name, or part of it; see --midi-list)."),
    midi_virtual: bool = typer.Option(False, "--midi-virtual", help="Create a virtual MIDI output port (named by "
                                      "--midi-out, default 'Segue') for a DAW or sampler to connect to."),
    midi_list: bool = typer.Option(False, "--midi-list", help="List the MIDI output ports and exit."),
) -> None:
    """Play in real time to the sound device, controlled over OSC and WebSocket; optionally to a MIDI port."""
    from segue.engine.live import DEFAULT_LOG_LIMIT, DeviceError, DeviceSink, HeadlessSink, LiveSession
    from segue.engine.midiport import MidiPortError, MidiPortSink, list_midi_outputs, open_midi_output

    if midi_list:
        try:
            names = list_midi_outputs()
        except MidiPortError as exc:
            raise UserError(str(exc)) from None
        for name in names:
            out.print(name, markup=False, highlight=False)
        if not names:
            out.print("no MIDI output ports (use --midi-virtual to create one)")
        return
    from segue.server.access import AccessError, check_token

    try:
        check_token(token, "--token")
    except AccessError as exc:
        raise UserError(str(exc)) from None
    spec_obj = _load_spec(spec)
    if host not in ("127.0.0.1", "localhost", "::1") and not token:
        raise UserError("listening beyond loopback needs --token")
    port = None
    if midi_out is not None or midi_virtual:
        try:  # before anything starts: a missing port is one line, not a half-started session
            port = open_midi_output(midi_out, virtual=midi_virtual)
        except MidiPortError as exc:
            raise UserError(str(exc)) from None
    from segue.pipeline import default_guard

    session = LiveSession(spec_obj, seed=seed, guard=default_guard(),
                          log_limit=None if record is not None else DEFAULT_LOG_LIMIT)
    midi = MidiPortSink(session, port, close_port=True).start() if port is not None else None
    session.start()
    servers = []
    try:
        try:
            sink = HeadlessSink(session).start() if headless else DeviceSink(session).start()
        except DeviceError as exc:
            raise UserError(str(exc)) from None
        from segue.server import start_osc, start_ws

        if osc_port >= 0:
            osc = start_osc(session, host=host, port=osc_port, token=token)
            servers.append(osc)
            out.print(f"OSC on udp://{host}:{osc.port}  (/segue/param/<name> f, /segue/state s, /segue/stinger s)")
        if ws_port >= 0:
            ws = start_ws(session, host=host, port=ws_port, token=token)
            servers.append(ws)
            out.print(f"WebSocket on ws://{host}:{ws.port}  (JSON controls, see docs/protocol.md)")
        if midi is not None:
            out.print(f"MIDI out to {getattr(port, 'name', 'the port')!r}", markup=False, highlight=False)
        out.print("playing — Ctrl-C to stop")
        t0 = time.perf_counter()
        previous = _stop_on_sigterm()
        try:
            while seconds is None or time.perf_counter() - t0 < seconds:
                time.sleep(0.25)
        except KeyboardInterrupt:
            pass
        finally:
            _restore_sigterm(previous)
        sink.stop()
    finally:
        for s in servers:
            s.close()
        if midi is not None:
            midi.stop()
        session.stop()
        if record is not None:  # also when stopped by SIGTERM or an error: the log is what the user asked for
            session.control_log().save(record)
            out.print(f"[green]wrote[/green] control log {_esc(record)}")
    st = session.status()
    out.print(f"played {st['seconds']:.1f} s, {st['underruns']} underruns, {st['rejected']} rejected controls")


@app.command()
def render(
    midi: Path = typer.Argument(..., help="A Standard MIDI file."),
    out_path: Path = typer.Option(..., "--out", "-o", help="Output .wav or .flac."),
    soundfont: Optional[Path] = typer.Option(None, "--soundfont", help="A .sf2 file (default: the bundled GM font)."),
) -> None:
    """Render a MIDI file through Segue's synthesizer and mix bus."""
    from segue.audio import render_midi_file

    if out_path.suffix.lower() not in (".wav", ".flac"):
        raise UserError(f"don't know how to write {out_path.name!r}: use .wav or .flac")
    report = render_midi_file(midi, out_path, soundfont=soundfont)
    layers = ", ".join(f"{name} {layer['preset']}" for name, layer in report["layers"].items())
    limited = f", limiter {report['limiter_reduction_db']:.1f} dB" if report["limiter_reduction_db"] < 0 else ""
    out.print(f"[green]wrote[/green] {_esc(out_path)}  {report['seconds']:.1f} s, {report['lufs_after']:.1f} LUFS "
              f"(gain {report['gain_db']:+.1f} dB{limited}), peak {report['peak_dbfs']:.1f} dBFS; "
              f"{len(report['layers'])} layer{'s' if len(report['layers']) != 1 else ''}: {_esc(layers)}")


@app.command()
def train(
    source: Optional[Path] = typer.Argument(None, help="Folder of MIDI/MusicXML/ABC files (default: the music21 corpus)."),
    out_path: Path = typer.Option(..., "--out", "-o", help="Where to write the trained style model."),
    workers: int = typer.Option(2, help="Parallel worker processes."),
    limit: Optional[int] = typer.Option(None, help="Use at most this many files (quick experiments)."),
    style: str = typer.Option("markov", "--style", help="markov: learn the count tables; neural: fine-tune the neural melody model on the folder."),
) -> None:
    """Train a style model (melody, rhythm, harmony) from a corpus or your own files.

    With ``--style neural`` the shipped neural melody model is fine-tuned on the folder's melodies
    (rhythm and harmony stay the default style's); give the file to a spec's ``style:`` or ``--style``.
    """
    from segue.style import train as train_style

    if source is not None and not source.is_dir():
        raise UserError(f"{source}: not a folder")
    if style not in ("markov", "default", "neural"):
        raise UserError(f"--style must be markov or neural, not {style!r}")
    t0 = time.perf_counter()
    if style == "neural":
        if source is None:
            raise UserError("--style neural fine-tunes on a folder: give one (the shipped model is rebuilt with "
                            "`python -m segue.style.neural_train`)")
        from segue.style import load_style
        from segue.style.neural_train import finetune

        with progress_bar("reading") as cb:
            meta = finetune(source, out_path, workers=workers, progress=cb)
        model = load_style(out_path)
        before, hist = meta["valid_bits_before"], meta["history"]
        bits = "" if before is None else f", validation bits/note {before:.3f} → {min(h['valid_bits'] for h in hist):.3f}"
        out.print(f"[green]wrote[/green] {out_path}  (model {model.id}, {meta['training_notes']} notes from "
                  f"{meta['training_pieces']} pieces{bits}, {time.perf_counter() - t0:.0f} s)")
        return
    with progress_bar("training") as cb:
        model = train_style(source, out_path, workers=workers, progress=cb, limit=limit)
    out.print(f"[green]wrote[/green] {_esc(out_path)}  (model {model.id}, {time.perf_counter() - t0:.0f} s)")


@app.command(name="eval")
def eval_cmd(
    pieces: int = typer.Option(100, "--pieces", "-n", help="Generated pieces per comparison."),
    bars: Optional[int] = typer.Option(None, help="Bars per generated piece (default: each as long as a held-out piece)."),
    seed: int = typer.Option(0, help="Base seed."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Also write the numbers as JSON."),
    style: Optional[str] = typer.Option(None, "--style", help="Compose with this style: default/markov, neural or a model file (default: each spec's own)."),
) -> None:
    """Print QUALITY.md §1–3 and §7–8: constraints, plausibility vs. baselines, control response, musicianship, emotion."""
    from segue.evaluation_run import run_eval

    with progress_bar("evaluating") as cb:
        result = run_eval(pieces=pieces, bars=bars, seed=seed, progress=cb, style=style)
    out.print(result.renderable())
    if json_out is not None:
        json_out.write_text(result.to_json(), encoding="utf-8")
        out.print(f"[green]wrote[/green] {_esc(json_out)}")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback by default)."),
    port: int = typer.Option(8765, "--port", help="TCP port."),
    token: Optional[str] = typer.Option(None, "--token", help="Required on every request when not on loopback."),
    spec: Optional[Path] = typer.Option(None, "--spec", "-s", help="Spec to open in the studio."),
) -> None:
    """The studio: a browser page for composers and an HTTP/WebSocket server for engines."""
    from segue.studio import serve as run_studio

    out.print(f"studio on http://{host}:{port}/  (Ctrl-C to stop)")
    try:
        run_studio(host=host, port=port, token=token, spec=spec)
    except KeyboardInterrupt:
        pass


@app.command()
def score(
    script: Optional[Path] = typer.Argument(None, help="Fountain screenplay, SRT subtitles or a CSV/YAML scene list."),
    out_dir: Path = typer.Option(..., "--out", "-o", help="Folder for the cue sheet, score, stems, MIDI and reports."),
    cue_sheet: Optional[Path] = typer.Option(None, "--cue-sheet", help="Render this (edited) cue sheet instead."),
    timing: Optional[Path] = typer.Option(None, "--timing", help="A scene list whose timecodes time the screenplay."),
    fps: Optional[str] = typer.Option(None, "--fps", help="23.976, 24 (default), 25, 29.97, 29.97df, 30 …"),
    start: Optional[str] = typer.Option(None, "--start", help="Timecode of the first frame, e.g. 01:00:00:00."),
    palette: Optional[Path] = typer.Option(None, "--palette", help="A score spec to score the film with."),
    seed: Optional[int] = typer.Option(None, "--seed"),
    llm: Optional[str] = typer.Option(None, "--llm", help="An OpenAI-compatible endpoint (optional)."),
    llm_model: Optional[str] = typer.Option(None, "--llm-model"),
    no_render: bool = typer.Option(False, "--no-render", help="Cue sheet, arc and report only."),
    no_stems: bool = typer.Option(False, "--no-stems", help="No per-layer WAVs."),
    sample_rate: Optional[int] = typer.Option(None, "--sample-rate"),
    soundfont: Optional[Path] = typer.Option(None, "--soundfont"),
    length: Optional[float] = typer.Option(None, "--length", help="Film length in seconds (end credits)."),
) -> None:
    """Film: a script or scene list in, an editable cue sheet and a score that hits its sync points out."""
    from segue.film import cli_score

    with progress_bar("scoring") as cb:
        files = cli_score(script, out_dir, cue_sheet, fps, start=start, timing=timing, palette=palette, seed=seed,
                          llm=llm, llm_model=llm_model, render=not no_render, stems=not no_stems,
                          sample_rate=sample_rate, soundfont=soundfont, length=length, progress=cb)
    out.print(f"[green]wrote[/green] {len(files)} files into {_esc(out_dir)}")
    for f in files[:8]:
        out.print(f"      {_esc(f)}")


@app.command()
def check(
    path: Path = typer.Argument(..., help="A MIDI, MusicXML or ABC file to check."),
    index: Optional[Path] = typer.Option(None, "--index", help="An extra reference index (SQLite) to check against."),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable report."),
) -> None:
    """Originality: the nearest known works, the matched passages, scores and a verdict."""
    from segue.originality import cli_check

    text, code = cli_check(path, index, json_out)
    out.print(text, highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(code)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []})
def profile(ctx: typer.Context) -> None:
    """Listener profiles, local only: show|export|reset|play|simulate (segue profile --help)."""
    from segue.listener.cli import profile_app  # its own module; imported here so `segue --help` stays light

    return profile_app(args=ctx.args, prog_name="segue profile", standalone_mode=False)


index_app = typer.Typer(help="Reference catalogues for the originality guard.", no_args_is_help=True,
                        rich_markup_mode=None)
app.add_typer(index_app, name="index")


@index_app.command("add")
def index_add(
    folder: Path = typer.Argument(..., help="Folder of MIDI/MusicXML/ABC files (your catalogue)."),
    index: Optional[Path] = typer.Option(None, "--index", help="Index file (default: your user catalogue)."),
) -> None:
    """Add a folder of works to a reference index (transactional: a crash never leaves it half-written)."""
    from segue.originality import cli_index_add

    out.print(cli_index_add(folder, index), highlight=False, markup=False)


@app.command()
def vary(
    motif: str = typer.Argument(..., help="A MIDI/MusicXML/ABC file, or inline note text like \"D4:1 E4:0.5 F4:0.5 A4:2\"."),
    n: int = typer.Option(8, "-n", help="How many variations."),
    axis: str = typer.Option("rhythm", "--axis", "-a", help="Axes, comma-separated: rhythm, melody, harmony, mode, "
                             "texture, tempo, development, elaboration."),
    band: str = typer.Option("medium", "--band", "-b", help="Distance from the source: close, medium or far."),
    out_dir: Path = typer.Option(Path("variations"), "--out", "-o", help="Folder for the variations and the sheet."),
    key: Optional[str] = typer.Option(None, "--key", help="Override the detected key, e.g. 'D dorian'."),
    meter: Optional[str] = typer.Option(None, "--meter", help="Override the detected meter, e.g. 6/8."),
    seed: int = typer.Option(0, "--seed"),
    skyline: bool = typer.Option(False, "--skyline", help="Reduce polyphonic input to its top line."),
    low: Optional[str] = typer.Option(None, "--low", help="Lowest note allowed (e.g. C4)."),
    high: Optional[str] = typer.Option(None, "--high", help="Highest note allowed (e.g. C6)."),
    no_audio: bool = typer.Option(False, "--no-audio", help="Skip WAV files."),
) -> None:
    """Variations of a motif along named musical axes, with their distance from the source."""
    from segue.variations import cli_vary

    with progress_bar("varying") as cb:
        cb(0, 1)
        files = cli_vary(motif, n, axis, band, out_dir, key=key, meter=meter, seed=seed, skyline=skyline,
                         low=low, high=high, audio=not no_audio)
    out.print(f"[green]wrote[/green] {len(files)} files; open {_esc(files[0])}")


@app.command()
def morph(
    a: str = typer.Argument(..., help="Motif A (file or note text)."),
    b: str = typer.Argument(..., help="Motif B (file or note text)."),
    steps: int = typer.Option(6, "--steps", help="Phrases between A and B."),
    out_dir: Path = typer.Option(Path("morph"), "--out", "-o"),
    seed: int = typer.Option(0, "--seed"),
    no_audio: bool = typer.Option(False, "--no-audio", help="Skip WAV files."),
) -> None:
    """Interpolate from motif A to motif B in playable steps."""
    from segue.variations import cli_morph

    files = cli_morph(a, b, steps, out_dir, seed=seed, audio=not no_audio)
    out.print(f"[green]wrote[/green] {len(files)} files; open {_esc(files[0])}")


@app.command()
def demo(
    out_dir: Path = typer.Option(Path("segue-demo"), "--out", "-o", help="Folder for the showcase."),
    bars: int = typer.Option(16, help="Bars per piece."),
) -> None:
    """Render a showcase from the example specs: WAV, MIDI, MusicXML and stems."""
    from rich.table import Table

    from segue.demo import run_demo

    t0 = time.perf_counter()
    with progress_bar("demo") as cb:
        rows = run_demo(out_dir, bars=bars, progress=cb)
    table = Table(title=f"Segue demo — {out_dir}", show_lines=False)
    for col in ("piece", "key", "tempo", "bars", "seconds", "files"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["piece"], r["key"], f'{r["tempo"]:.0f}', str(r["bars"]), f'{r["seconds"]:.1f}',
                      "\n".join(str(p) for p in r["files"]))
    out.print(table)
    from segue.audio.soundfont import synth_name

    synth = ("TinySoundFont" if synth_name() == "tinysoundfont" else
             _esc("Segue's built-in SoundFont player (pip install 'segue[tinysoundfont]' renders ~3× faster where it builds)"))
    out.print(f"[green]done[/green] in {time.perf_counter() - t0:.1f} s with {synth} — open the .wav files, "
              "or the .mid/.musicxml in your DAW")


@app.command()
def batch(
    job_file: Path = typer.Argument(..., help="A batch job (YAML): specs × states × variations × formats."),
    out_dir: Optional[Path] = typer.Option(None, "--out", "-o", help="Output folder (default: the job's `out`, else segue-batch/<job name>)."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", help="Worker actors (default: every CPU Ray has)."),
    address: Optional[str] = typer.Option(None, "--address", help="A Ray cluster to join (default: $RAY_ADDRESS, else a local one)."),
    retries: Optional[int] = typer.Option(None, "--retries", help="Retries after an unexpected failure (default: the job's, 2)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Expand the job and say what would be made; make nothing."),
) -> None:
    """Render an asset library on Ray: resumable, with a manifest and a game-ready index (docs/batch.md)."""
    from segue.batch.command import run_batch

    raise typer.Exit(run_batch(job_file, out_dir, workers, address, retries, dry_run))


def _usage_error_types() -> tuple[type[BaseException], ...]:
    """Click's usage errors: typer ≥ 0.26 carries its own copy of click, older ones use click itself."""
    types: list[type[BaseException]] = []
    for module in ("typer._click.exceptions", "click.exceptions"):
        try:
            types.append(__import__(module, fromlist=["ClickException"]).ClickException)
        except (ImportError, AttributeError):
            pass
    return tuple(types)


def _print_error(message: str) -> None:
    """``error: message`` on stderr. The message quotes user input (a spec's field names, a file name),
    so it is printed as plain text: ``[/x]`` in it once crashed rich's markup parser, and
    ``[link=…]`` would have become a live link."""
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)


def main() -> None:
    """Entry point: run the app, turning user errors into one clear line and exit status 2.

    Exit status: 0 success; 1 a finding the command reports as a failure (``segue check``: similar
    or copy); 2 a user error or a usage error; 130 interrupted. In click's non-standalone mode a
    command's ``typer.Exit(code)`` comes back as the return value, which must become the status.
    """
    try:
        code = app(standalone_mode=False)
    except SystemExit:
        raise
    except (KeyboardInterrupt, typer.Abort):
        err.print("aborted")
        sys.exit(130)
    except Exception as exc:
        errors = _user_error_types()
        if isinstance(exc, errors):
            _print_error(str(exc))
            sys.exit(2)
        if isinstance(exc, FileNotFoundError):
            _print_error(f"file not found: {exc.filename or exc}")
            sys.exit(2)
        if isinstance(exc, ValueError):
            _print_error(str(exc))
            sys.exit(2)
        if isinstance(exc, _usage_error_types()):  # usage errors come through here in non-standalone mode
            exc.show()
            sys.exit(exc.exit_code if isinstance(exc.exit_code, int) else 2)
        raise
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
