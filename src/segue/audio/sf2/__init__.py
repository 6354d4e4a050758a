"""Segue's built-in SoundFont (SF2) player: numpy only, so ``pip install segue`` needs no compiler.

TinySoundFont is the fast synthesizer and stays the first choice where its wheel installs; but it
requires PyAudio, which has no Linux (or macOS) wheel, so a plain ``pip install`` would need
PortAudio headers and a C compiler. This package plays the same fonts through the same calls
(:class:`SoundFont` mirrors the subset of ``tinysoundfont._tinysoundfont.SoundFont`` that
:mod:`segue.audio.soundfont` and :mod:`segue.audio.synth` use), so the engine keeps one code path
whichever synthesizer renders. ``SEGUE_SYNTH=builtin`` forces it; see docs/install.md.
"""

from segue.audio.sf2.font import OutputMode, SoundFont

__all__ = ["OutputMode", "SoundFont"]
