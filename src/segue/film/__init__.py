"""Film and media: from a screenplay or scene list to an editable cue sheet and a rendered score.

    script (Fountain / SRT / CSV / YAML)  →  affect per scene and through scenes (lexicon or LLM)
      →  cue sheet (YAML: cues, mood, key, tempo, instruments, hits, transitions; editable, lockable)
      →  score spec + timeline (one engine state per cue; a click track that lands the hits)
      →  the live engine, offline  →  mix + stems (WAV), MIDI per cue and for the film, arc plot, report

Apps floor: uses the engine, spec, audio and export floors; nothing below imports it. Every user
mistake is a :class:`FilmError` with a message that says where and what.
"""

from segue.film.analysis import Evidence, SceneAffect, analyse_script, analyse_scene, read_words
from segue.film.command import apply_direction, cli_score, palette_for, propose_from_script, render_sheet
from segue.film.cuesheet import Cue, CueHit, CueSheet, load_cue_sheet
from segue.film.direction import Direction, parse_direction
from segue.film.errors import FilmError
from segue.film.fountain import parse_fountain
from segue.film.hits import plan_sections
from segue.film.lexicon import Lexicon, default_lexicon
from segue.film.llm import LLMBackend, backend_from_env
from segue.film.midi import read_grid
from segue.film.palette import FilmPalette, load_palette
from segue.film.propose import ProposeOptions, propose_cues
from segue.film.reading import ReadOptions, load_script
from segue.film.render import FilmRender, render_film
from segue.film.script import Element, Hit, Scene, Script
from segue.film.subtitles import parse_srt
from segue.film.timecode import FrameRate, format_timecode, frame_rate, parse_timecode
from segue.film.timing import TimingOptions

__all__ = [
    "FilmError", "Script", "Scene", "Element", "Hit", "parse_fountain", "parse_srt", "load_script", "ReadOptions",
    "TimingOptions", "FrameRate", "frame_rate", "parse_timecode", "format_timecode", "Lexicon", "default_lexicon",
    "Evidence", "SceneAffect", "read_words", "analyse_scene", "analyse_script", "Direction", "parse_direction",
    "LLMBackend", "backend_from_env", "FilmPalette", "load_palette", "Cue", "CueHit", "CueSheet", "load_cue_sheet",
    "ProposeOptions", "propose_cues", "plan_sections", "FilmRender", "render_film", "read_grid",
    "propose_from_script", "render_sheet", "apply_direction", "palette_for", "cli_score",
]
