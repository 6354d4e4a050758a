"""The composer as a musician: tonal policy, sections that return, arrangement and affect (issue #11)."""

from __future__ import annotations

import mido
import numpy as np
import pytest

from segue.compose.affect import Affect
from segue.compose.composer import RuleViolation, check_bar
from segue.compose.harmony import CHARACTERISTIC_DEGREE
from segue.evaluation_run import check_midi_constraints, example_specs
from segue.export import write_midi
from segue.export.midi import parse_chord_marker
from segue.music import Key, Note
from segue.pipeline import compose
from segue.spec import default_spec


@pytest.fixture(scope="module")
def specs():
    return example_specs()


def _with_policy(spec, policy: str):
    palette = spec.palette.model_copy(update={"chromatic": policy})
    return spec.model_copy(update={"palette": palette})


def _bar_content(bar) -> tuple:
    return tuple(sorted((name, n.start - bar.start, n.pitch, n.duration)
                        for name, notes in bar.notes.items() for n in notes))


def test_harmonic_policy_colours_the_harmony_and_every_note_obeys_it(specs) -> None:
    """Under the default policy some chords leave the key; every note is in the key or the sounding chord."""
    chromatic = 0
    for spec in specs:
        for seed in (0, 1):
            perf = compose(spec, bars=16, seed=seed)
            for bar in perf.bars:
                check_bar(bar, perf.parts)
                chromatic += sum(ch.is_chromatic(bar.key) for _, ch in bar.chords)
                for name, notes in bar.notes.items():
                    part = next(p for p in perf.parts if p.name == name)
                    if part.is_drums:
                        continue
                    for n in notes:
                        ch = [c for off, c in bar.chords if off <= n.start - bar.start or off == bar.chords[0][0]][-1]
                        assert bar.key.contains(n.pitch) or n.pitch % 12 in ch.pcs
    assert chromatic > 0


def test_a_strictly_modal_spec_stays_in_its_mode(specs, tmp_path) -> None:
    """``chromatic: none``: no chord and no note outside the key, re-read from the written file."""
    for spec in specs:
        strict = _with_policy(spec, "none")
        for seed in (0, 1, 2):
            perf = compose(strict, bars=16, seed=seed)
            assert all(not ch.is_chromatic(b.key) for b in perf.bars for _, ch in b.chords)
            path = write_midi(perf, tmp_path / f"strict{seed}.mid")
            checks = check_midi_constraints(path, strict, 16)
            assert checks["key"] is True and checks["key_share"] == 1.0


def test_the_file_check_catches_a_note_outside_key_and_chord(specs, tmp_path) -> None:
    """The harmonic policy is checked from the file: a note in neither the key nor the chord fails it."""
    spec = specs[0]
    perf = compose(spec, bars=4, seed=1)
    path = write_midi(perf, tmp_path / "ok.mid")
    assert check_midi_constraints(path, spec, 4)["key"] is True
    mid = mido.MidiFile(str(path))
    chords = [(t, parse_chord_marker(m.text)) for t, m in _absolute(mid.tracks[0]) if m.type == "marker"
              and parse_chord_marker(m.text) is not None]
    assert chords, "the file carries its harmony as chord markers"
    home = spec.palette.home_key
    done = False
    for track in mid.tracks[1:]:
        t = 0
        for msg in track:
            t += msg.time
            if not done and msg.type == "note_on" and msg.channel != 9 and msg.velocity > 0:
                pcs = [c for ct, c in chords if ct <= t][-1]
                msg.note = next(p for p in range(msg.note, msg.note + 12) if not home.contains(p) and p % 12 not in pcs)
                done = True
    bad = tmp_path / "bad.mid"
    mid.save(str(bad))
    assert check_midi_constraints(bad, spec, 4)["key"] is False


def test_check_bar_refuses_a_note_outside_the_policy(specs) -> None:
    perf = compose(specs[0], bars=2, seed=3)
    bar = perf.bars[0]
    name = next(p.name for p in perf.parts if p.role == "harmony" and bar.notes[p.name])
    n = bar.notes[name][0]
    chord = bar.chords[0][1]
    wrong = next(p for p in range(n.pitch, n.pitch + 12) if not bar.key.contains(p) and p % 12 not in chord.pcs)
    bar.notes[name] = [Note(n.start, wrong, n.duration, n.velocity)]
    with pytest.raises(RuleViolation):
        check_bar(bar, perf.parts)


def test_sections_return_note_for_note(specs) -> None:
    """A A' B A': the consequent opens like the antecedent and comes back whole after the contrast."""
    for spec in specs:
        perf = compose(spec, bars=4 * spec.palette.phrase_bars, seed=4)
        p = spec.palette.phrase_bars
        bars = [_bar_content(b) for b in perf.bars]
        assert [b.section for b in perf.bars[::p]] == ["A", "A'", "B", "A'"]
        assert bars[p: p + p // 2] == bars[: p // 2]  # A' begins as A did
        assert bars[3 * p: 4 * p] == bars[p: 2 * p]  # A' returns note for note, every layer
        assert bars[2 * p: 3 * p] != bars[p: 2 * p]
        assert [c for b in perf.bars[3 * p: 4 * p] for c in b.chords] == [c for b in perf.bars[p: 2 * p] for c in b.chords]


def test_the_melody_stays_on_top_and_a_thick_texture_has_a_bass(specs) -> None:
    for spec in specs:
        for seed in (0, 1):
            perf = compose(spec, bars=16, seed=seed)
            mel = next(p.name for p in perf.parts if p.role == "melody")
            others = [p.name for p in perf.parts if p.name != mel and not p.is_drums]
            below = total = 0
            for n in perf.notes(mel):
                total += 1
                sounding = [o.pitch for name in others for o in perf.notes(name) if o.start <= n.start < o.end]
                below += bool(sounding) and max(sounding) > n.pitch
            assert total and below == 0
            for bar in perf.bars:
                playing = [p for p in perf.parts if not p.is_drums and bar.notes[p.name]]
                if len(playing) >= 3:
                    assert any(p.role == "bass" for p in playing), (spec.name, bar.index)


def test_every_layer_a_state_lists_plays_in_it(specs) -> None:
    """Victory lists the horns although its intensity (0.6) is below their entry (0.7): they play."""
    game = specs[0]
    victory = game.model_copy(update={"initial_state": "victory"})
    perf = compose(victory, bars=8, seed=2)
    listed = next(s for s in game.states if s.name == "victory").layers
    for name in listed:
        assert perf.notes(name), name


def test_the_home_key_and_its_mode_are_heard_at_the_specs_own_mood(specs) -> None:
    for spec in specs:
        home = spec.palette.home_key
        for seed in (0, 1):
            perf = compose(spec, bars=16, seed=seed)
            assert sum(b.key == home for b in perf.bars) / len(perf.bars) >= 0.6
            colour = home.scale_pc(CHARACTERISTIC_DEGREE[home.mode])
            assert any(n.pitch % 12 == colour for p in perf.parts if not p.is_drums for n in perf.notes(p.name))


def test_dark_excited_music_is_more_chromatic_and_dissonant_than_joyful_music_at_equal_arousal() -> None:
    spec = default_spec()

    def colour(valence: float) -> tuple[float, float]:
        chromatic, dissonant = [], []
        for seed in range(4):
            perf = compose(spec, bars=16, seed=seed, affect=Affect(valence, 0.8, 0.7))
            chords = [(b.key, c) for b in perf.bars for _, c in b.chords]
            chromatic.append(np.mean([c.is_chromatic(k) for k, c in chords]))
            dissonant.append(np.mean([c.quality in ("dim", "aug") for _, c in chords]))
        return float(np.mean(chromatic)), float(np.mean(dissonant))

    angry, joyful = colour(-0.8), colour(0.8)
    assert angry[0] > joyful[0] and angry[1] > joyful[1], (angry, joyful)


def test_chords_keep_their_letters() -> None:
    """♭VI of C major is A♭–C–E♭ on the letter A: a line moving by degree takes A♭ while it sounds."""
    c = Key.parse("C major")
    flat_six = c.chromatic_chord(5, "maj", -1, "bVI")
    assert flat_six.tones == (8, 0, 3) and flat_six.degree == 5
    assert flat_six.alterations(c) == {5: 8, 2: 3}
    assert c.chord(4).alterations(c) == {}
    v_of_v = c.chromatic_chord(1, "dom7", 0, "V7/V")
    assert v_of_v.tones == (2, 6, 9, 0) and v_of_v.name() == "D7" and v_of_v.alterations(c) == {3: 6}


def _absolute(track):
    t = 0
    for m in track:
        t += m.time
        yield t, m


def test_every_state_of_the_game_composes_inside_its_rules(specs) -> None:
    """Each state (its theme on its own layer, its key, its layers) under the policy and every range:
    a chord's alteration that would push a line past its layer's range is not made."""
    game = specs[0]
    for state in game.states:
        start = game.model_copy(update={"initial_state": state.name})
        for seed in range(4):
            perf = compose(start, bars=24, seed=seed)  # check_bar runs on every bar; a violation raises
            assert len(perf.bars) == 24


def test_the_neapolitan_stands_on_the_lowered_second() -> None:
    from segue.compose.harmony import Colour, colour_progression

    c_minor = Key.parse("C minor")
    rng = np.random.default_rng(0)
    dark = Colour(0.0, 0.0, 0.0, 1.0, 0.0, 0.0)  # only the dark devices
    neapolitans = []
    for _ in range(40):
        chords = colour_progression(rng, c_minor, [0, 3, 4, 0], dark, policy="harmonic", cadence="authentic",
                                    protected=[set()] * 4, strong=[set()] * 4)
        neapolitans += [ch for ch in chords if ch.label == "bII6"]
    assert neapolitans, "a dark colour before the dominant reaches for the Neapolitan"
    assert all(ch.tones == (1, 5, 8) and ch.bass == 5 for ch in neapolitans)  # D♭–F–A♭ over F


def test_notes_are_spelled_by_their_chord_and_key() -> None:
    from segue.music.spelling import spell

    c = Key.parse("C major")
    assert spell(68, c, c.chromatic_chord(5, "maj", -1, "bVI"))[:2] == ("A", -1)  # A♭ in ♭VI
    assert spell(68, c, c.chromatic_chord(2, "maj", 0, "III"))[:2] == ("G", 1)  # G♯ in V/vi
    assert spell(61, Key.parse("C phrygian"))[:2] == ("D", -1)
    assert spell(71, Key.parse("F lydian"))[:2] == ("B", 0)
    assert spell(60, Key.parse("C# major"))[:2] == ("B", 1) or spell(60, Key.parse("Db major"))[:2] == ("C", 0)


def test_musicxml_spells_chromatic_chords_on_their_letters(tmp_path) -> None:
    """The exported score writes each note on the letter its chord gives it, and sounds as the MIDI does."""
    from music21 import converter

    from segue.export import write_musicxml
    from segue.music.spelling import spell

    spec = default_spec()
    perf = compose(spec, bars=8, seed=3, affect=Affect(-0.8, 0.8, 0.7))
    chromatic = [(b, c) for b in perf.bars for _, c in b.chords if c.is_chromatic(b.key)]
    assert chromatic
    path = write_musicxml(perf, tmp_path / "piece.musicxml")
    score = converter.parse(str(path))
    checked = 0
    drums = {p.name for p in perf.parts if p.is_drums}
    for bar, chord in chromatic:
        for off, ch in bar.chords:
            if ch is not chord:
                continue
            for name, notes in bar.notes.items():
                for n in notes:
                    if name not in drums and n.start - bar.start == off and n.pitch % 12 in chord.pcs and not bar.key.contains(n.pitch):
                        letter, alter, _ = spell(n.pitch, bar.key, chord)
                        found = [p for el in score.recurse().notes for p in el.pitches
                                 if abs(float(el.getOffsetInHierarchy(score)) * 480 - n.start) < 1 and p.midi == n.pitch]
                        assert found and all(p.step == letter and int(p.alter) == alter for p in found), (chord, n)
                        checked += 1
    assert checked > 0


def test_the_colour_idiom_is_counted_from_fitted_chords() -> None:
    """The learner counts an applied dominant before the chord it leans into, and sevenths per degree."""
    from segue.evaluate.musicianship import KeySig, Score, Track
    from segue.style.colour import count_colour, load_colour

    beat = 480
    chords = [(60, 64, 67), (62, 66, 69, 72), (55, 59, 62), (60, 64, 67)]  # I, V7/V, V, I in C major
    notes = [(p, i * beat, beat) for i, ch in enumerate(chords) for p in ch]
    c = KeySig.parse("C major")
    score = Score([Track("pad", notes, "harmony")], 480, 4, 4, [(0, c)], c, 4 * beat)
    counts = count_colour([score])["major"]
    assert counts["applied_dominant"][4] == 1 and counts["changes_to"][4] == 1
    assert sum(counts["applied_dominant"]) == 1 and counts["applied_leading"] == [0] * 7
    shipped = load_colour()
    assert all(len(v) == 7 and all(0 < x < 1 for x in v) for f in shipped.values() for v in f.values())


def test_the_musicianship_targets_hold_on_a_sample() -> None:
    """Issue #11's bar on a small sample (2 seeds × the example specs × 32 bars; `segue eval` runs 10):
    every target met, and tense/angry more chromatic and dissonant than joyful."""
    from segue.evaluation_run import musicianship_eval

    result = musicianship_eval(seeds=2, emotion_seeds=3)
    missed = [(row["label"], row["ours"], row["target"]) for row in result["table"] if row["met"] is False]
    assert missed == []
    assert sum(row["met"] is True for row in result["table"]) >= 13
    assert all(result["emotion_checks"].values()), result["emotion_checks"]


def test_a_long_session_remembers_only_what_can_return(specs) -> None:
    from segue.compose.form import CYCLE_PHRASES
    from segue.pipeline import make_conductor

    perf_bars = 6 * CYCLE_PHRASES * specs[0].palette.phrase_bars
    c = make_conductor(specs[0], seed=1)
    c.perform(perf_bars)
    comp = c.deck.composer
    assert set(comp._materials) <= {"A", "A'", "B5", "C5", "C5'"}
    assert len(comp._bar_store) <= 5 * specs[0].palette.phrase_bars
