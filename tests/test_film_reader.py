"""Film: the learned reader, spotting and a palette that follows the drama.

The scenes below were written for these tests (they are not among the reader's training or
held-out passages). The long screenplay is built by repeating such scenes with seeded variations
until it runs about 120 pages (two hours by the page-a-minute estimate).
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from segue.film import analyse_script, load_palette, parse_fountain, propose_from_script
from segue.film.reader import ARCHETYPE_NAMES, ReaderModel, default_model, doc, passage_parts
from segue.film.train_reader import HELDOUT_B, TRAINING_B, held_out, load_passages, passage_examples

GRIEF = """INT. FARMHOUSE BEDROOM - NIGHT

The old dog has not left the bed since the funeral. Ruth sits beside it, holding her husband's
watch, and cannot stop crying.

RUTH
(whispering)
You were supposed to grow old with me.

She presses the watch to her lips. The house is silent and empty.
"""
ACTION = """EXT. MOUNTAIN HIGHWAY - NIGHT

The armoured truck rams the patrol car off the road. Gunfire rakes the windshield. Cole swerves,
returns fire, and a tyre EXPLODES.

SMASH CUT TO:

The truck flips. Men crawl from the wreck shooting. Cole kicks the door open and charges.
"""
JOY = """EXT. VILLAGE GREEN - DAY

The summer fair. Children race in sacks, shrieking with laughter. A brass band plays and the
grandparents dance, giggling, until their hats fall off.

PIA
(beaming)
Best day ever!

Everyone cheers as the smallest girl wins the egg-and-spoon race.
"""
QUIET = """INT. {place} KITCHEN - DAY

{a} and {b} sit at the table with coffee.

{a}
Did you sleep at all?

{b}
A little. The rain kept me up. I like the sound of it, though.

{a}
Mum used to say the same. She'd leave the window open just to hear it.

{b}
Shall we walk down to the market later? They have the good bread on Tuesdays.

{a}
Yes. Let's do that. I'll find my coat.

{b}
And an umbrella this time. You always forget the umbrella.

{a}
I do not. Well. Sometimes.
"""
SUSPENSE = """INT. {place} BASEMENT - NIGHT

The bulb flickers. Someone is breathing behind the boiler. {a} grips the torch and listens.
A slow scrape across the concrete. The door at the top of the stairs clicks shut.
"""


def _archetype(text: str) -> tuple[str, list[str]]:
    script = parse_fountain(text)
    sa = analyse_script(script)[0]
    return str(sa.archetype), sa.reasons


def test_the_reader_names_grief_action_and_joy_and_says_which_lines() -> None:
    assert default_model() is not None  # the weights ship with the package
    for text, want in ((GRIEF, "grief"), (ACTION, "violence"), (JOY, "joy")):
        got, reasons = _archetype(text)
        assert got == want, (want, got, reasons)
        assert any(r.startswith("learned reader: " + want) and "line " in r for r in reasons)


def test_the_lexicon_stays_as_the_fallback() -> None:
    script = parse_fountain(GRIEF)
    sa = analyse_script(script, reader="lexicon")[0]
    assert sa.source == "lexicon" and sa.archetype is None and sa.valence < 0
    with pytest.raises(ValueError):
        analyse_script(script, reader="guess")


def test_passages_split_by_passage_and_every_archetype_is_held_out() -> None:
    passages = load_passages()
    held = [a for a, t in passages if held_out(t)]
    assert 0.15 < len(held) / len(passages) < 0.35
    assert set(held) == {a for a, _ in passages}  # every archetype is in the held-out part
    texts = [t for _, t in passages]
    assert len(set(texts)) == len(texts)  # no passage twice (it could land on both sides)
    heading, parts = passage_parts(ACTION)
    assert heading.startswith("EXT.") and ("transition", "SMASH CUT TO:") in parts


def test_the_second_held_out_set_is_apart_from_training_and_covers_every_archetype() -> None:
    second = load_passages(HELDOUT_B)
    counts = {a: sum(x == a for x, _ in second) for a in ARCHETYPE_NAMES}
    assert min(counts.values()) >= 30, counts
    trained = {ex.text for ex in passage_examples(held=False)}
    assert not trained & {t for _, t in second}  # no held-out passage is trained on
    assert not trained & {t for a, t in load_passages() if held_out(t)}
    assert {t for _, t in load_passages(TRAINING_B)} <= trained


def test_the_naive_bayes_vote_counts_and_the_temperature_only_softens() -> None:
    model = default_model()
    assert model is not None and model.bayes_logp is not None and model.bayes_weight > 0
    d = doc(*passage_parts(GRIEF))
    x = model.vector(d.feats)
    with_vote = model.archetype_scores(x, d.lexicon)
    head_only = ReaderModel(model.vocab, model.archetype_w, model.valence_w, model.arousal_w, model.sentence_w,
                            model.classes, model.bayes_counts, model.bayes_alpha, 0.0, model.temperature)
    assert not np.allclose(with_vote, head_only.archetype_scores(x, d.lexicon))
    sharp = ReaderModel(model.vocab, model.archetype_w, model.valence_w, model.arousal_w, model.sentence_w,
                        model.classes, model.bayes_counts, model.bayes_alpha, model.bayes_weight, 1.0)
    p_soft, p_sharp = model.predict(d)[0], sharp.predict(d)[0]
    assert np.argmax(p_soft) == np.argmax(p_sharp) and p_soft.max() < p_sharp.max()


def _feature_length(pages: int = 120, seed: int = 5) -> str:
    rnd = random.Random(seed)
    names = ["ANNA", "TOMAS", "MARA", "JONAS", "LIV", "PETER"]
    places = ["HARBOUR", "CITY", "FARM", "HILL", "RIVER", "STATION"]
    kinds = [QUIET, SUSPENSE, ACTION, GRIEF, JOY, QUIET]
    out = ["Title: A Long Test Film", ""]
    while sum(x.count("\n") + 1 for x in out) < pages * 55:
        a, b = rnd.sample(names, 2)
        out.append(rnd.choice(kinds).format(place=rnd.choice(places), a=a, b=b))
    return "\n".join(out)


def test_a_feature_moves_keys_and_instrument_families_and_spots_dry(tmp_path: Path) -> None:
    path = tmp_path / "feature.fountain"
    path.write_text(_feature_length(), encoding="utf-8")
    pal = load_palette()
    sheet = propose_from_script(path, palette=pal)
    assert sheet.length > 90 * 60 and sheet.analysis == "learned reader"
    playing = [c for c in sheet.cues if c.music]
    assert len({c.key for c in playing}) >= 3
    families = {"percussion" if pal.layer(n).is_percussion else int(pal.layer(n).program) // 8
                for c in playing for n in c.instruments}
    assert len(families) >= 3
    dry = [c for c in sheet.cues if not c.music]
    assert dry and all(c.why[0].startswith("spotted dry") for c in dry)
    by_kind = {c.archetype: c for c in playing}
    brass = {n for n in pal.spec.layers if 56 <= int(n.program) <= 63}
    assert pal.percussion in by_kind["violence"].instruments
    assert any(x.name in by_kind["violence"].instruments for x in brass)
    assert pal.percussion not in by_kind["grief"].instruments
    # the cue sheet round-trips music: false, and editing it back to true scores the span
    from segue.film import load_cue_sheet

    sheet.save(tmp_path / "cues.yaml")
    text = (tmp_path / "cues.yaml").read_text(encoding="utf-8")
    assert "music: false" in text
    again = load_cue_sheet(tmp_path / "cues.yaml")
    assert [c.music for c in again.cues] == [c.music for c in sheet.cues]
    assert again.playing().cues == [c for c in again.cues if c.music]
    # a feature's arc stays readable: cue labels never overlap (staggered, and thinned where they must be)
    from segue.film.report import arc_figure

    fig = arc_figure(sheet)
    fig.canvas.draw()
    ids = {c.id for c in sheet.cues}
    boxes = [t.get_window_extent() for t in fig.axes[0].texts if t.get_text() in ids]
    assert len(boxes) >= 15
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not a.overlaps(b)


def test_a_direction_naming_instruments_gets_them_or_a_warning(tmp_path: Path, capsys) -> None:
    from segue.film import cli_score

    (tmp_path / "s.yaml").write_text("""scenes:
  - {scene: 1, start: "00:00:00:00", end: "00:00:20:00", description: "A battle.", mood: "pounding timpani and horns"}
  - {scene: 2, start: "00:00:25:00", end: "00:00:45:00", description: "She weeps.", mood: "banjo and solo cello"}
""", encoding="utf-8")
    cli_score(tmp_path / "s.yaml", tmp_path / "o", render=False)
    err = capsys.readouterr().err
    sheet = __import__("segue.film", fromlist=["load_cue_sheet"]).load_cue_sheet(tmp_path / "o" / "cues.yaml")
    first, second = sheet.cues[0], sheet.cues[-1]
    assert "drums" in first.instruments and "horn" in first.instruments and "cello" not in first.instruments
    assert "cello" in second.instruments
    assert "'banjo' is not in the palette" in err and "'timpani'" in err
