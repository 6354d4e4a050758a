"""From a preset's layered zones to flat *regions*: what one key and velocity actually play.

SoundFont layering (SF2 2.04 §9.4): an instrument zone's generators start from the defaults,
its instrument's global zone fills what it leaves out, and the preset zone (plus the preset's
global zone) *adds* to most of them; key and velocity ranges intersect. Resolving this once per
preset keeps note-on cheap: a note only filters a short list of regions.
"""

from __future__ import annotations

from dataclasses import dataclass

from segue.audio.sf2 import parse as p

_DEFAULTS: dict[int, int] = {
    p.FILTER_FC: 13500, p.DELAY_MOD: -12000, p.ATTACK_MOD: -12000, p.HOLD_MOD: -12000, p.DECAY_MOD: -12000,
    p.RELEASE_MOD: -12000, p.DELAY_VOL: -12000, p.ATTACK_VOL: -12000, p.HOLD_VOL: -12000,
    p.DECAY_VOL: -12000, p.RELEASE_VOL: -12000, p.SCALE_TUNING: 100, p.ROOT_KEY: -1,
    p.KEYNUM: -1, p.VELOCITY: -1,
}
_NOT_ADDITIVE = {p.START_OFFSET, p.END_OFFSET, p.LOOP_START_OFFSET, p.LOOP_END_OFFSET, p.START_COARSE,
                 p.END_COARSE, p.LOOP_START_COARSE, p.LOOP_END_COARSE, p.KEYNUM, p.VELOCITY,
                 p.SAMPLE_MODES, p.EXCLUSIVE_CLASS, p.ROOT_KEY, p.SAMPLE_ID, p.INSTRUMENT}
"""Generators a preset zone may not change (SF2 2.04 §8.1.3: instrument-level only)."""


def seconds(timecents: float) -> float:
    """SF2 time: 1200 timecents per doubling, 0 = one second; -12000 (the default) is 'instant'."""
    return 0.0 if timecents <= -12000 else float(2.0 ** (timecents / 1200.0))


@dataclass(frozen=True)
class Region:
    """One sample mapped to a key/velocity rectangle, with everything a voice needs."""

    keys: tuple[int, int]
    vels: tuple[int, int]
    start: int
    end: int
    loop_start: int
    loop_end: int
    loop_mode: int
    """0: none, 1: loop while sounding, 3: loop until release, then play out."""
    sample_rate: int
    root: int
    tune_cents: float
    scale: float
    attenuation_db: float
    pan: float
    """-0.5 (left) .. 0.5 (right)."""
    delay: float
    attack: float
    hold: float
    decay: float
    sustain_db: float
    """Sustain level in dB below full (≥ 0)."""
    release: float
    key_to_hold: float
    key_to_decay: float
    filter_cents: float
    filter_q_db: float
    mod_to_filter: float
    """Cents the modulation envelope adds to the cutoff at its peak (how GM fonts make a note bright, then mellow)."""
    mod_env: tuple[float, float, float, float, float, float]
    """Modulation envelope: delay, attack, hold, decay (s), sustain level (0..1), release (s)."""
    key_to_mod_hold: float
    key_to_mod_decay: float
    exclusive: int
    keynum: int
    velocity: int

    def matches(self, key: int, vel: int) -> bool:
        return self.keys[0] <= key <= self.keys[1] and self.vels[0] <= vel <= self.vels[1]


def _range(a: tuple[int, int] | None, b: tuple[int, int] | None) -> tuple[int, int]:
    lo, hi = 0, 127
    for r in (a, b):
        if r is not None:
            lo, hi = max(lo, r[0]), min(hi, r[1])
    return lo, hi


def preset_regions(font: p.FontData, index: int) -> list[Region]:
    """Every region of preset ``index``, in the font's zone order (which sets voice order: determinism)."""
    preset = font.presets[index]
    regions: list[Region] = []
    for pzone in preset.zones:
        pg = {**preset.global_zone.gens, **pzone.gens}
        instrument = font.instruments[int(pg[p.INSTRUMENT])]
        for izone in instrument.zones:
            ig = {**instrument.global_zone.gens, **izone.gens}
            keys = _range(pg.get(p.KEY_RANGE), ig.get(p.KEY_RANGE))  # type: ignore[arg-type]
            vels = _range(pg.get(p.VEL_RANGE), ig.get(p.VEL_RANGE))  # type: ignore[arg-type]
            if keys[0] > keys[1] or vels[0] > vels[1]:
                continue
            region = _region(font, pg, ig, keys, vels)
            if region is not None:
                regions.append(region)
    return regions


def _region(font: p.FontData, pg: dict, ig: dict, keys: tuple[int, int], vels: tuple[int, int]) -> Region | None:
    def g(op: int) -> int:
        value = int(ig.get(op, _DEFAULTS.get(op, 0)))
        if op not in _NOT_ADDITIVE:
            value += int(pg.get(op, 0))
        return value

    s = font.samples[int(ig[p.SAMPLE_ID])]
    if s.kind & 0x8000:  # ROM sample: not in this file
        return None
    n = len(font.pcm) - 8
    start = min(max(0, s.start + g(p.START_OFFSET) + 32768 * g(p.START_COARSE)), n)
    end = min(max(start, s.end + g(p.END_OFFSET) + 32768 * g(p.END_COARSE)), n)
    loop_start = min(max(start, s.loop_start + g(p.LOOP_START_OFFSET) + 32768 * g(p.LOOP_START_COARSE)), end)
    loop_end = min(max(loop_start, s.loop_end + g(p.LOOP_END_OFFSET) + 32768 * g(p.LOOP_END_COARSE)), end)
    mode = g(p.SAMPLE_MODES) & 3
    if mode == 2 or loop_end - loop_start < 2:
        mode = 0
    if end - start < 2:
        return None
    root = g(p.ROOT_KEY)
    if not 0 <= root <= 127:
        root = s.root if 0 <= s.root <= 127 else 60
    return Region(
        keys=keys, vels=vels, start=start, end=end, loop_start=loop_start, loop_end=loop_end,
        loop_mode=mode, sample_rate=s.rate, root=root,
        tune_cents=100.0 * g(p.COARSE_TUNE) + g(p.FINE_TUNE) + s.correction,
        scale=float(g(p.SCALE_TUNING)),
        attenuation_db=min(max(g(p.ATTENUATION), 0), 1440) / 10.0,
        pan=min(max(g(p.PAN) / 1000.0, -0.5), 0.5),
        delay=seconds(g(p.DELAY_VOL)), attack=seconds(g(p.ATTACK_VOL)), hold=seconds(g(p.HOLD_VOL)),
        decay=seconds(g(p.DECAY_VOL)), sustain_db=min(max(g(p.SUSTAIN_VOL), 0), 1440) / 10.0,
        release=seconds(g(p.RELEASE_VOL)),
        key_to_hold=float(g(p.KEY_TO_HOLD)), key_to_decay=float(g(p.KEY_TO_DECAY)),
        filter_cents=float(min(max(g(p.FILTER_FC), 1500), 13500)), filter_q_db=min(max(g(p.FILTER_Q), 0), 960) / 10.0,
        mod_to_filter=float(min(max(g(p.MOD_ENV_TO_FILTER), -12000), 12000)),
        mod_env=(seconds(g(p.DELAY_MOD)), seconds(g(p.ATTACK_MOD)), seconds(g(p.HOLD_MOD)), seconds(g(p.DECAY_MOD)),
                 1.0 - min(max(g(p.SUSTAIN_MOD), 0), 1000) / 1000.0, seconds(g(p.RELEASE_MOD))),
        key_to_mod_hold=float(g(p.KEY_TO_MOD_HOLD)), key_to_mod_decay=float(g(p.KEY_TO_MOD_DECAY)),
        exclusive=g(p.EXCLUSIVE_CLASS), keynum=g(p.KEYNUM), velocity=g(p.VELOCITY),
    )
