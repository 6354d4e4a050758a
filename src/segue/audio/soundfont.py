"""Finding, loading and sharing SoundFonts.

An arrangement has 6–10 layers and each layer gets its own voice set (so stems fall out
naturally and one layer's voices never steal another's). Parsing an SF2 and converting its
samples to float costs ~25 ms and ~12 MB per copy, so each file is parsed once into a
*template* and every layer gets a clone of it: TinySoundFont's clone shares the sample data
and only allocates fresh channels and voices (microseconds, kilobytes).

We use the low-level ``tinysoundfont._tinysoundfont.SoundFont`` because the high-level
``tinysoundfont.Synth`` wrapper cannot clone and would re-parse the font for every layer.
Its playback helpers (which import pyaudio) are never touched.

Two synthesizers, one interface: TinySoundFont (C, fast) when it is installed, else Segue's
built-in numpy player (:mod:`segue.audio.sf2`), which exists so that a plain ``pip install`` works
where TinySoundFont's PyAudio requirement cannot be built. ``SEGUE_SYNTH=builtin`` or
``SEGUE_SYNTH=tinysoundfont`` forces one. Either way a live session and its offline replay use the
same one, so live = offline holds; the two do not produce the same samples as each other.
"""

from __future__ import annotations

import os
import threading
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

from segue.audio.errors import AudioError

DRUM_BANK = 128
"""TinySoundFont (like the SF2 spec) keeps percussion kits in bank 128."""

_templates: dict[tuple[str, str, int, int], Any] = {}
_lock = threading.Lock()

SYNTHS = ("tinysoundfont", "builtin")


def synth_name() -> str:
    """Which synthesizer renders: ``SEGUE_SYNTH`` if set, else TinySoundFont when importable, else built-in."""
    wanted = os.environ.get("SEGUE_SYNTH", "").strip().lower()
    if wanted:
        if wanted not in SYNTHS:
            raise AudioError(f"SEGUE_SYNTH must be one of {', '.join(SYNTHS)}, got {wanted!r}")
        return wanted
    try:
        import tinysoundfont._tinysoundfont  # noqa: F401
    except ImportError:
        return "builtin"
    return "tinysoundfont"


def _backend(name: str) -> ModuleType:
    if name == "builtin":
        from segue.audio import sf2

        return sf2
    try:
        from tinysoundfont import _tinysoundfont
    except ImportError as exc:
        raise AudioError("SEGUE_SYNTH=tinysoundfont, but TinySoundFont is not installed "
                         "(pip install 'segue[tinysoundfont]')") from exc
    return _tinysoundfont


def default_soundfont() -> Path:
    """The General MIDI soundfont shipped inside ``pretty_midi`` (TimGM6mb.sf2, ~6 MB).

    It ships in a package, so nothing is downloaded at run time (a design invariant). The package is
    found, not imported: importing pretty_midi imports mido and costs ~35 ms of every render's start-up.
    """
    spec = importlib.util.find_spec("pretty_midi")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - pretty_midi is a dependency
        raise AudioError("the default soundfont needs the 'pretty_midi' package, which is not installed")
    path = Path(list(spec.submodule_search_locations)[0]) / "TimGM6mb.sf2"
    if not path.is_file():  # pragma: no cover - a broken install
        raise AudioError(f"the default soundfont is missing from the pretty_midi package: {path}")
    return path


def _template(path: Path) -> Any:
    """The parsed font for ``path``, parsed on first use and kept for the life of the process.

    The key includes size and mtime so that editing a user's .sf2 between renders is noticed.
    """
    resolved = path.expanduser().resolve()
    if not resolved.is_file():
        raise AudioError(f"soundfont not found: {path}")
    stat = resolved.stat()
    name = synth_name()
    key = (name, str(resolved), stat.st_size, stat.st_mtime_ns)
    with _lock:
        font = _templates.get(key)
        if font is None:
            try:
                data = resolved.read_bytes()
            except OSError as exc:
                raise AudioError(f"cannot read soundfont {path}: {exc.strerror or exc}") from exc
            try:
                font = _backend(name).SoundFont(data)
            except (RuntimeError, ValueError) as exc:
                raise AudioError(f"not a valid SF2 soundfont: {path}") from exc
            if font.get_preset_count() == 0:
                raise AudioError(f"soundfont has no presets: {path}")
            _templates[key] = font
        return font


def open_voice_set(soundfont: Path | None, sample_rate: int, gain_db: float, max_voices: int) -> Any:
    """A fresh, independent voice set (channels + voices) over a shared parsed font."""
    if sample_rate < 8000 or sample_rate > 192000:
        raise ValueError(f"sample rate must be 8000..192000 Hz, got {sample_rate}")
    template = _template(Path(soundfont) if soundfont is not None else default_soundfont())
    backend = _backend(synth_name())
    with _lock:
        voices = backend.SoundFont(template)
    voices.set_output(backend.OutputMode.StereoInterleaved, int(sample_rate), float(gain_db))
    voices.set_max_voices(int(max_voices))
    return voices


def has_preset(font: Any, bank: int, program: int, is_drums: bool) -> bool:
    """Whether TinySoundFont will find *some* preset for this request.

    Mirrors TinySoundFont's own fallbacks (requested bank → bank 0 for melodic programs;
    requested kit → kit 0 for drums) so we only refuse what would really play nothing.
    """
    if is_drums:
        candidates = [(DRUM_BANK | bank, program), (DRUM_BANK, program), (DRUM_BANK, 0), (bank, program)]
    else:
        candidates = [(bank, program)]
    candidates.append((0, program))
    return any(font.get_preset_index(b, p) >= 0 for b, p in candidates)


def preset_name(font: Any, channel: int) -> str:
    """Name of the preset a channel actually ended up on (after fallbacks), for reports."""
    index = font.channel_get_preset_index(channel)
    return str(font.get_preset_name(index)) if 0 <= index < font.get_preset_count() else "<none>"
