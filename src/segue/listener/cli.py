"""`segue profile …`: a player's profile on this machine — show it, export it, delete it, play with it,
and measure the learner on simulated listeners. Heavy modules are imported inside the commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

profile_app = typer.Typer(help="Listener profiles: personal soundtracks that learn and remember (local only).",
                          no_args_is_help=True, rich_markup_mode=None, add_completion=False)

_DIR = typer.Option(None, "--dir", help="Profile folder (default: $SEGUE_PROFILE_DIR or ~/.local/share/segue/profiles).")


def _echo(text: str) -> None:
    typer.echo(text)


def _open(player: str, folder: Optional[Path]):
    from segue.listener.profile import open_profile

    prof = open_profile(player, folder)
    if prof.notice:
        typer.echo(f"note: {prof.notice}", err=True)
    return prof


@profile_app.command("show")
def show(player: str = typer.Argument(..., help="The player's name."), folder: Optional[Path] = _DIR,
         spec: Optional[Path] = typer.Option(None, "--spec", "-s", help="Also show the taste learnt for this score.")) -> None:
    """What the profile holds: feedback counts, play-style signals, who the player met (and, with --spec, their taste)."""
    with _open(player, folder) as prof:
        s = prof.summary()
        _echo(f"player {s['player']}  ({s['path']})")
        _echo(f"  seed {s['seed']}, created {s['created']}")
        _echo("  feedback: " + (", ".join(f"{k} {v}" for k, v in sorted(s["feedback"].items())) or "none yet"))
        _echo("  play style: " + (", ".join(f"{k} {v:g}" for k, v in sorted(s["signals"].items())) or "none yet"))
        _echo("  met: " + (", ".join(f"{k} ×{v}" for k, v in sorted(s["met"].items())) or "nobody yet"))
        if spec is not None:
            from segue.listener.personaliser import ListenerModel
            from segue.spec import load_spec

            spec_obj = load_spec(spec)
            model = ListenerModel(spec_obj, seed=prof.seed, profile=prof)
            if model.model is None:
                _echo(f"  {spec_obj.name}: no 'personalise' bounds")
                return
            for state in model.model.states or [None]:
                fav = model.model.favourite(state, model.aggression)
                _echo(f"  taste in {state or 'every state'}: " + ", ".join(f"{k} {v:g}" for k, v in fav.items()))


@profile_app.command("export")
def export(player: str = typer.Argument(..., help="The player's name."), folder: Optional[Path] = _DIR,
           out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the JSON here (default: print it).")) -> None:
    """Everything the profile holds, as JSON (it never leaves this machine unless you move it)."""
    with _open(player, folder) as prof:
        text = json.dumps(prof.export(), indent=1, ensure_ascii=False)
    if out is None:
        _echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        _echo(f"wrote {out}")


@profile_app.command("reset")
def reset(player: str = typer.Argument(..., help="The player's name."), folder: Optional[Path] = _DIR) -> None:
    """Delete the profile: the taste learnt, the signals, the memory of who the player met."""
    from segue.listener.profile import delete_profile

    _echo(f"deleted the profile of {player}" if delete_profile(player, folder) else f"{player} had no profile")


@profile_app.command("play")
def play(spec: Path = typer.Option(..., "--spec", "-s", help="Score spec with a 'personalise' or 'remember' block."),
         trace: Path = typer.Option(..., "--trace", "-t", help="Gameplay trace (JSON/YAML), feedback events included."),
         player: str = typer.Option(..., "--player", "-p", help="The player's name."),
         out_path: Path = typer.Option(..., "--out", "-o", help="Output: .wav, .flac or .mid."),
         log: Optional[Path] = typer.Option(None, "--log", help="Also write the control log (replays with `segue play`)."),
         learn: bool = typer.Option(False, "--learn", help="Write the trace's feedback and meetings to the profile."),
         folder: Optional[Path] = _DIR) -> None:
    """Render a trace as this player's soundtrack (their seed, taste and memory)."""
    from segue import pipeline
    from segue.engine.controls import Timeline
    from segue.listener.session import play_personal
    from segue.spec import load_spec

    spec_obj = load_spec(spec)
    timeline = Timeline.load(trace)
    kind = pipeline.output_kind(out_path)
    if kind == "musicxml":
        raise ValueError("`segue profile play` writes .wav, .flac or .mid")
    with _open(player, folder) as prof:
        played = play_personal(spec_obj, timeline, prof, learn=learn, keep_audio=kind == "audio")
    if kind == "audio":
        from segue.audio import write_audio

        pipeline._ensure_dir(out_path)
        write_audio(out_path, played.mix, timeline.sample_rate)
    else:
        pipeline.write_performance(played.performance, out_path)
    if log is not None:
        played.control_log.save(log)
    kinds: dict[str, int] = {}
    for ev in played.events:
        kinds[ev.kind] = kinds.get(ev.kind, 0) + 1
    _echo(f"wrote {out_path}  ({kinds.get('personal', 0)} personal choices, {kinds.get('recall', 0)} recalled themes, "
          f"{kinds.get('feedback', 0)} feedback events{', learnt' if learn else ''})")


@profile_app.command("simulate")
def simulate(spec: Path = typer.Option(Path("examples/personal_game.yaml"), "--spec", "-s", help="Score with 'personalise' bounds."),
             listeners: int = typer.Option(200, "--listeners", help="Simulated listeners."),
             events: int = typer.Option(100, "--events", help="Feedback events per listener."),
             seed: int = typer.Option(17, "--seed", help="Population seed."),
             plots: Optional[Path] = typer.Option(None, "--plots", help="Write the curves as PNGs into this folder."),
             as_json: bool = typer.Option(False, "--json", help="Machine-readable numbers.")) -> None:
    """The learner against fixed and random choices on simulated listeners with hidden tastes."""
    from segue.listener.report import evaluate_spec, plot, summary, text
    from segue.spec import load_spec

    ev = evaluate_spec(load_spec(spec), listeners=listeners, events=events, seed=seed)
    s = summary(ev)
    _echo(json.dumps(s, indent=1) if as_json else text(s))
    if plots is not None:
        for path in plot(ev, plots):
            _echo(f"wrote {path}")
