"""The direct MIDI encoder writes, byte for byte, what mido writes for the same piece (issue 16)."""

from __future__ import annotations

import io

import pytest

from segue.engine.controls import Timeline
from segue.evaluation_run import examples_dir
from segue.export.midi import build_midi, midi_bytes, write_midi
from segue.pipeline import compose, play
from segue.spec import load_spec


def _mido_bytes(perf) -> bytes:
    buf = io.BytesIO()
    build_midi(perf).save(file=buf)
    return buf.getvalue()


@pytest.mark.parametrize("name,seed,bars", [("dark_ambient", 1, 24), ("light_orchestral_film", 7, 32),
                                            ("fantasy_game", 3, 16), ("fantasy_game", 11, 40)])
def test_composed_pieces_match_mido_byte_for_byte(name, seed, bars) -> None:
    perf = compose(load_spec(examples_dir() / f"{name}.yaml"), bars=bars, seed=seed)
    assert midi_bytes(perf) == _mido_bytes(perf)


def test_a_played_game_with_transitions_and_cut_bars_matches_mido(tmp_path) -> None:
    """State changes (cut bars, tempo changes, key changes), stingers, a provenance in UTF-8."""
    game = load_spec(examples_dir() / "fantasy_game.yaml")
    trace = Timeline.from_data({"duration": 14.0, "controls": [
        {"time": 1.0, "type": "state", "name": "combat"}, {"time": 6.5, "type": "state", "name": "victory"},
        {"time": 9.0, "type": "param", "name": "intensity", "value": 0.9}]})
    perf = play(game, trace, keep_audio=False).performance
    perf.provenance = {"note": "Ünïcødé ♪", "seed": 5}
    assert len(perf.tempo_map.points) > 1 and any(b.cut is not None for b in perf.bars)
    out = write_midi(perf, tmp_path / "game.mid")
    assert out.read_bytes() == _mido_bytes(perf)

