"""Originality guard: fingerprints, index, crash safety, checks, guard, robustness and calibration.

The calibration tests re-measure the operating point on the shipped corpus index every run:
planted copies (transposed, rhythm changes, altered notes, embedded in an accompaniment) must
be flagged ≥ 95% of ≥ 200 cases, and pairs of different corpus works flagged ≤ 2% of ≥ 200.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import mido
import numpy as np
import pytest

from segue.music import Meter, Note
from segue.originality import (
    COPY, ORIGINAL, Guard, GuardResult, OriginalityError, ReferenceIndex, add_to_index, check_file, check_notes,
    cli_check, cli_index_add, summarise,
)
from segue.originality.align import align, best_scores, concat, similarity
from segue.originality.benchmark import (DISTORTIONS, add_ornaments, aligner_score, auc, labelled_pairs,
                                         two_notes_changed)
from segue.originality.figures import full_pair_scores
from segue.originality.identity import step_weights
from segue.originality.bars import BarGrid
from segue.originality.calibration import (
    change_rhythm, different_pairs, embed_midi, excerpt, planted_cases, transpose, tunes,
)
from segue.originality.locations import corpus_index_path
from segue.originality.melody import Line, line_fingerprints, skyline, tokenise, tokens
from segue.originality.reading import read_works
from segue.originality.search import shared_guard
from segue.originality.verdict import Thresholds

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module", autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory):
    """No developer's own catalogue may leak into these results; the cache is a fresh folder."""
    base = tmp_path_factory.mktemp("user")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEGUE_INDEX", str(base / "no-catalogue.sqlite"))
        mp.setenv("XDG_CACHE_HOME", str(base / "cache"))
        yield


@pytest.fixture(scope="module")
def corpus() -> ReferenceIndex:
    index = ReferenceIndex.open(corpus_index_path(), readonly=True)
    yield index
    index.close()


@pytest.fixture(scope="module")
def guard(corpus: ReferenceIndex) -> Guard:
    return Guard([ReferenceIndex.open(corpus.path, readonly=True)])


@pytest.fixture(scope="module")
def corpus_tunes(corpus: ReferenceIndex):
    return tunes(corpus)


def _line(pitches, durations, name="tune") -> Line:
    d = np.asarray(durations, dtype=float)
    return Line(name, np.asarray(pitches, dtype=np.int16), np.concatenate(([0.0], np.cumsum(d)[:-1])), d)


def _random_tune(rng: np.random.Generator, n: int = 32) -> Line:
    scale = np.array([0, 2, 4, 5, 7, 9, 11])
    walk = np.cumsum(rng.choice([-2, -1, 1, 2, 3, -3], size=n)) + 7
    deg = np.abs((walk + 20) % 40 - 20)  # folded back at 0 and 20: a tune turns at its range, never drones on it
    pitches = 60 + 12 * (deg // 7) + scale[deg % 7]
    return _line(pitches, rng.choice([0.5, 0.5, 1.0, 1.5, 0.25], size=n))


def _write_midi(path: Path, tracks: list[list[tuple[int, float, float]]], drums: bool = False) -> Path:
    mid = mido.MidiFile(ticks_per_beat=480)
    for k, notes in enumerate(tracks):
        track = mido.MidiTrack()
        channel = 9 if drums else k
        events = []
        for p, o, d in notes:
            events += [(round(o * 480), 1, p), (round((o + d) * 480), 0, p)]
        now = 0
        for tick, on, p in sorted(events):
            track.append(mido.Message("note_on" if on else "note_off", note=p, velocity=90 if on else 0,
                                      channel=channel, time=tick - now))
            now = tick
        mid.tracks.append(track)
    mid.save(str(path))
    return path


def _write_musicxml(path: Path, line: Line) -> Path:
    """A two-part score (the tune over a held bass) written by music21."""
    from music21 import metadata, note, stream

    score = stream.Score()
    score.metadata = metadata.Metadata(title="Duet")
    for name, notes in (("Flute", line.triples()), ("Cello", [(43, 4.0 * k, 4.0) for k in range(8)])):
        part = stream.Part()
        part.partName = name
        for p, o, d in notes:
            part.insert(o, note.Note(p, quarterLength=d))
        score.insert(0, part)
    score.write("musicxml", fp=str(path))
    return path


def _notes(line: Line) -> list[Note]:
    return [Note(int(round(o * 480)), int(p), max(1, int(round(d * 480))))
            for p, o, d in zip(line.pitches, line.onsets, line.durations)]


# ---------------------------------------------------------------- fingerprints and alignment


def test_fingerprints_ignore_key_and_tempo_but_not_the_tune():
    rng = np.random.default_rng(3)
    tune = _random_tune(rng)
    moved = Line("x", tune.pitches + 5, tune.onsets * 2 + 3.0, tune.durations * 2)
    assert np.array_equal(line_fingerprints(tune), line_fingerprints(moved))
    other = _random_tune(rng)
    assert not np.array_equal(line_fingerprints(tune), line_fingerprints(other))
    iv, r = tokens(tune)
    assert iv.size == len(tune) - 1 and r.size == len(tune) - 1


def test_batch_tokens_equal_single_line_tokens_and_never_cross_lines():
    rng = np.random.default_rng(4)
    lines = [_random_tune(rng, n) for n in (9, 20, 13)]
    tok = tokenise(lines)
    for k, line in enumerate(lines):
        iv, r = tokens(line)
        assert np.array_equal(tok.intervals[tok.bounds[k]:tok.bounds[k + 1]], iv)
        assert np.array_equal(tok.ratios[tok.bounds[k]:tok.bounds[k + 1]], r)
    h, which, pos = tok.postings()
    assert np.all(pos + 4 <= np.diff(tok.bounds)[which])  # every n-gram lies inside one line


def test_skyline_keeps_the_tune_over_an_accompaniment_in_the_same_part():
    tune = [(72, 0.0, 2.0), (74, 2.0, 1.0), (76, 3.0, 1.0), (72, 4.0, 2.0)]
    chords = [(p, t * 0.5, 0.5) for t in range(12) for p in (48, 52, 55)]
    line = skyline("piano", tune + chords)
    assert line.pitches.tolist() == [72, 74, 76, 72]
    assert line.onsets.tolist() == [0.0, 2.0, 3.0, 4.0]


def test_batched_alignment_equals_single_alignment_and_scores_copies_high():
    rng = np.random.default_rng(5)
    query = _random_tune(rng, 30)
    q_iv, q_r = tokens(query)
    targets = [_random_tune(rng, n) for n in (40, 25, 20)]
    # plant 20 notes of the query (a fifth higher) between two unrelated stretches in the last target
    before, after = targets[2], _random_tune(rng, 20)
    middle = [(p + 7, o - query.onsets[5], d) for p, o, d in query.triples()[5:25]]
    end1 = before.onsets[-1] + before.durations[-1]
    end2 = end1 + middle[-1][1] + middle[-1][2]
    notes = before.triples() + [(p, o + end1, d) for p, o, d in middle] + [(p, o + end2, d) for p, o, d in
                                                                            after.triples()]
    targets[2] = skyline("t", notes)
    parts = [tokens(x) for x in targets]
    t_iv, t_r, bounds = concat(parts)
    batch = best_scores(q_iv, q_r, t_iv, t_r, bounds)
    single = [align(q_iv, q_r, iv, r) for iv, r in parts]
    assert batch.tolist() == [0 if a is None else a.raw for a in single]
    scores = similarity(batch, q_iv.size, np.diff(bounds))
    assert scores[2] == max(scores) and scores[2] > 0.6 and max(scores[:2]) < 0.5
    exact = align(q_iv, q_r, q_iv, q_r)
    assert exact is not None and exact.raw == 2 * q_iv.size and (exact.q_from, exact.q_to) == (0, q_iv.size - 1)


def test_bar_grid_reads_pickups_and_meter_changes():
    grid = BarGrid.from_measures([(0.0, 1.0, 0), (1.0, 4.0, 1), (5.0, 4.0, 2)], 4, 4)
    assert (grid.at(0.0).bar, grid.at(0.0).beat) == (0, 4.0)  # the pickup is on beat 4 of bar 0
    assert (grid.at(5.5).bar, grid.at(5.5).beat) == (2, 1.5)
    changes = BarGrid.from_meter_changes([(0.0, 4, 4), (8.0, 3, 4), (14.0, 6, 8)])
    assert str(changes.at(9.0)) == "bar 3 beat 2"
    assert str(changes.at(14.0 + 1.5)) == "bar 5 beat 2"  # 6/8 beats in dotted quarters


# ---------------------------------------------------------------- the index


def _catalogue(folder: Path, count: int, seed: int = 9) -> list[Line]:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    tunes_ = [_random_tune(rng, 40) for _ in range(count)]
    for k, tune in enumerate(tunes_):
        _write_midi(folder / f"tune{k:03d}.mid", [tune.triples()])
    return tunes_


def test_add_to_index_reads_every_format_skips_unchanged_and_replaces_changed(tmp_path: Path):
    folder = tmp_path / "catalogue"
    lines = _catalogue(folder, 3)
    (folder / "book.abc").write_text(textwrap.dedent("""\
        X:1
        T:First Tune
        M:4/4
        L:1/8
        K:G
        GABc dedB|dedB dedB|c2ec B2dB|c2A2 A2BA|GABc dedB|dedB dedB|c2ec B2dB|A2F2 G4:|
        X:2
        T:Second Tune
        M:6/8
        L:1/8
        K:D
        A|dfe dcB|AFA d2e|fga gfe|fdc d2A|dfe dcB|AFA d2e|fga gfe|d3 d2:|
        """))
    (folder / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06garbage")
    _write_musicxml(folder / "duet.musicxml", lines[2])
    index_path = tmp_path / "mine.sqlite"
    first = add_to_index(folder, index_path)
    assert first.works_added == 6 and len(first.skipped) == 1 and "broken.mid" in first.skipped[0]
    with ReferenceIndex.open(index_path) as index:
        assert index.verify() == []
        titles = {w.title for w in index.works().values()}
        assert {"First Tune", "Second Tune", "Duet"} <= titles
        duet = next(w for w in index.works().values() if w.title == "Duet")
        names = [line.name for _, line in index.lines(
            [m for m, in index._conn.execute("SELECT id FROM melody WHERE work = ?", (duet.id,))]).values()]
        assert names[:2] == ["Flute", "Cello"]
    again = add_to_index(folder, index_path)
    assert again.files_unchanged == 5 and again.works_added == 0
    _write_midi(folder / "tune000.mid", [lines[1].triples()])  # a file changed on disk
    third = add_to_index(folder, index_path)
    assert third.files_replaced == 1 and third.total_works == 6
    with ReferenceIndex.open(index_path) as index:
        assert index.verify() == []
    # the catalogue is found by a check, without the corpus
    report = check_file(folder / "tune002.mid", index_path, corpus=False)
    copies = {Path(m.ident).name for m in report.matches if m.verdict == COPY}
    assert report.verdict == COPY and copies == {"tune002.mid", "duet.musicxml"}  # the duet's flute plays it too
    text = cli_index_add(folder, index_path)
    assert "4 files already indexed" in text or "already indexed" in text


def _child(code: str, env_extra: dict[str, str] | None = None) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), **(env_extra or {}))
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def _wait_for(proc: subprocess.Popen, word: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if word in line:
            return
        if proc.poll() is not None:
            raise AssertionError(f"child ended early: {proc.stderr.read()}")
    raise AssertionError(f"child never printed {word!r}")


def test_index_add_killed_before_commit_leaves_the_index_whole_and_resumable(tmp_path: Path):
    folder = tmp_path / "catalogue"
    _catalogue(folder, 6)
    index_path = tmp_path / "crash.sqlite"
    # the child pauses inside the transaction of the third file (all its rows written, not committed)
    code = textwrap.dedent(f"""
        import time
        from segue.originality import store, add_to_index
        original = store._Transaction.__exit__
        commits = [0]
        def pausing_exit(self, kind, *rest):
            if kind is None:
                commits[0] += 1
                if commits[0] == 4:  # schema, file 1, file 2 committed; file 3 is written but open
                    print("inside the transaction", flush=True)
                    time.sleep(120)
            return original(self, kind, *rest)
        store._Transaction.__exit__ = pausing_exit
        add_to_index({str(folder)!r}, {str(index_path)!r})
    """)
    proc = _child(code)
    try:
        _wait_for(proc, "inside the transaction")
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
    with ReferenceIndex.open(index_path) as index:
        assert index.verify() == []
        assert index.info().works == 2  # the interrupted file left no trace
    report = add_to_index(folder, index_path)
    assert report.files_unchanged == 2 and report.works_added == 4
    with ReferenceIndex.open(index_path) as index:
        assert index.verify() == [] and index.info().works == 6


def test_index_killed_in_the_middle_of_a_big_write_keeps_only_committed_batches(tmp_path: Path):
    index_path = tmp_path / "big.sqlite"
    code = textwrap.dedent(f"""
        import numpy as np
        from segue.originality.melody import Line
        from segue.originality.store import ReferenceIndex
        from segue.originality.reading import Work
        rng = np.random.default_rng(2)
        pitches = (60 + np.cumsum(rng.integers(-3, 4, size=(60000, 32)), axis=1) % 24).astype(np.int16)
        durs = rng.choice([0.5, 1.0, 1.5], size=(60000, 32))
        onsets = np.cumsum(durs, axis=1) - durs
        works = [Work(f"s/{{k}}", "s", "s", "s", [Line("m", pitches[k], onsets[k], durs[k])], digest="0")
                 for k in range(60000)]
        index = ReferenceIndex.open({str(index_path)!r}, create=True)
        index.add_works(works[:1000])
        print("first batch committed", flush=True)
        index.add_works(works[1000:])
        print("second batch committed", flush=True)
    """)
    proc = _child(code)
    try:
        _wait_for(proc, "first batch committed", timeout=60)
        wal = Path(str(index_path) + "-wal")
        before = wal.stat().st_size if wal.exists() else 0
        deadline = time.monotonic() + 60
        # kill once the second batch has written several MB of pages into the log: mid-insert, uncommitted
        while (wal.stat().st_size if wal.exists() else 0) < before + 8_000_000 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert proc.poll() is None, "the second batch finished before the kill; make it bigger"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
    with ReferenceIndex.open(index_path) as index:
        assert index.verify() == []
        info = index.info()
        assert (info.works, info.melodies) == (1000, 1000)


def test_an_index_file_of_another_kind_is_refused_clearly(tmp_path: Path):
    bogus = tmp_path / "notes.sqlite"
    bogus.write_text("this is not a database, it is a shopping list\n" * 20)
    with pytest.raises(OriginalityError, match="not a Segue reference index"):
        ReferenceIndex.open(bogus)
    with pytest.raises(OriginalityError, match="no such index"):
        ReferenceIndex.open(tmp_path / "missing.sqlite")


# ---------------------------------------------------------------- the shipped corpus index


def test_shipped_corpus_index_is_whole_and_covers_the_default_collections(corpus: ReferenceIndex):
    from segue.style.corpus import DEFAULT_COLLECTIONS

    info = corpus.info()
    assert info.works > 4000 and info.melodies >= info.works
    collections = {w.collection for w in corpus.works().values()}
    assert collections == {c.folder for c in DEFAULT_COLLECTIONS}
    assert corpus.verify() == []
    packed = Path(str(corpus_index_path()))
    assert packed.stat().st_size > 0


def test_sql_lookup_and_in_memory_guard_both_put_the_source_first(corpus: ReferenceIndex, guard: Guard,
                                                                    corpus_tunes):
    tune = corpus_tunes[321]
    query = transpose(tune.line, np.random.default_rng(3))
    sql = corpus.candidates(line_fingerprints(query).tolist(), limit=3)
    cand, votes = guard.candidates_for(query)
    sql_work = corpus.lines([sql[0][0]])[sql[0][0]][0]
    assert sql_work == tune.work and int(guard._mel_work[cand[0]]) == tune.work
    assert votes[0] > votes[-1] and sql[0][1] > 0


# ---------------------------------------------------------------- checking files and notes


def test_check_file_finds_a_planted_tune_with_its_passage_and_speaks_json(tmp_path: Path, guard: Guard,
                                                                           corpus_tunes):
    tune = next(t for t in corpus_tunes if t.ident.startswith("ryansMammoth/") and len(t.line) > 60)
    rng = np.random.default_rng(1)
    path = embed_midi(transpose(excerpt(tune, rng), rng), tmp_path / "planted.mid", rng)
    report = check_file(path, guard)
    assert report.flagged and report.matches[0].ident == tune.ident
    passage = report.matches[0].passages[0]
    assert passage.notes >= 16 and passage.query_from.bar == 1
    assert passage.reference_to.bar >= passage.reference_from.bar
    data = json.loads(report.to_json())
    assert data["verdict"] in ("similar", "copy") and data["matches"][0]["passages"][0]["notes"] == passage.notes
    assert tune.title in report.text() and "bar" in report.text()


def test_cli_check_exit_status_and_json(tmp_path: Path):
    rng = np.random.default_rng(8)
    original = _write_midi(tmp_path / "mine.mid", [_random_tune(rng, 48).triples()])
    text, status = cli_check(original)
    assert status == 0 and "ORIGINAL" in text
    out, status = cli_check(original, as_json=True)
    assert status == 0 and json.loads(out)["verdict"] == ORIGINAL
    with ReferenceIndex.open(corpus_index_path(), readonly=True) as corpus:
        tune = next(t for t in tunes(corpus) if t.ident.startswith("oneills1850/"))
    copied = _write_midi(tmp_path / "copied.mid", [transpose(tune.line, rng).triples()])
    text, status = cli_check(copied)
    assert status == 1 and tune.title in text


def test_check_notes_reports_bars_in_the_given_meter(guard: Guard, corpus_tunes):
    tune = next(t for t in corpus_tunes if t.ident.startswith("bach/"))
    report = check_notes(_notes(tune.line), meter=Meter(3, 4), index=guard)
    assert report.verdict == COPY and report.matches[0].ident == tune.ident
    with pytest.raises(OriginalityError, match="too few notes"):
        check_notes(_notes(tune.line)[:5], index=guard)


# ---------------------------------------------------------------- robustness


@pytest.mark.parametrize("name,content,message", [
    ("empty.mid", b"", "empty"),
    ("noise.mid", bytes(range(256)) * 4, "not a readable MIDI file"),
    ("truncated.mid", None, "not a readable MIDI file"),
    ("garbage.abc", b"\x00\x01\x02 this is not abc \xff\xfe", "not a readable abc file"),
    ("words.abc", b"Dear diary, today I wrote no music at all.\n", "no music|no tune|not a readable"),
    ("garbage.musicxml", b"<score-partwise><part id='P1'><measure", "not a readable"),
    ("notes.txt", b"C D E F G", "not a music file"),
])
def test_bad_files_give_a_clear_error_not_a_traceback(tmp_path: Path, name: str, content: bytes | None,
                                                      message: str):
    path = tmp_path / name
    if content is None:
        good = _write_midi(tmp_path / "good.mid", [_random_tune(np.random.default_rng(2)).triples()])
        content = good.read_bytes()[:40]
    path.write_bytes(content)
    with pytest.raises(OriginalityError, match=message) as caught:
        cli_check(path)
    assert str(path) in str(caught.value)


def test_drums_only_silence_and_missing_files_are_explained(tmp_path: Path):
    drums = _write_midi(tmp_path / "drums.mid", [[(36, i * 0.5, 0.25) for i in range(32)]], drums=True)
    with pytest.raises(OriginalityError, match="only drums"):
        check_file(drums)
    silent = tmp_path / "silent.mid"
    mido.MidiFile(tracks=[mido.MidiTrack()]).save(str(silent))
    with pytest.raises(OriginalityError, match="no notes"):
        check_file(silent)
    with pytest.raises(OriginalityError, match="no such file"):
        check_file(tmp_path / "nowhere.mid")
    with pytest.raises(OriginalityError, match="no such folder"):
        add_to_index(tmp_path / "nowhere", tmp_path / "i.sqlite")
    with pytest.raises(OriginalityError, match="no music files"):
        add_to_index(tmp_path / "empty-dir" if (tmp_path / "empty-dir").mkdir() is None else tmp_path,
                     tmp_path / "i.sqlite")


def test_read_works_gives_every_track_and_the_skyline(tmp_path: Path):
    rng = np.random.default_rng(6)
    tune, bass = _random_tune(rng, 24), _random_tune(rng, 24)
    low = [(p - 24, o, d) for p, o, d in bass.triples()]
    (work,) = read_works(_write_midi(tmp_path / "legato.mid", [tune.triples(), low]))
    # the skyline of a legato tune over a bass is the tune itself: kept once
    assert [line.name for line in work.lines] == ["track 1, channel 1", "track 2, channel 2"]
    assert work.lines[0].pitches.tolist() == tune.pitches.tolist()
    gappy = [n for k, n in enumerate(tune.triples()) if k % 4 != 3]  # rests where the bass shows through
    (work,) = read_works(_write_midi(tmp_path / "rests.mid", [gappy, low]))
    assert [line.name for line in work.lines][2] == "skyline of all parts"
    assert len(work.lines[2]) > len(gappy) and set(work.lines[2].pitches.tolist()) & {p for p, _, _ in low}


# ---------------------------------------------------------------- the guard in generation


def test_guard_phrase_passes_new_music_flags_copies_and_summarises(guard: Guard, corpus_tunes):
    rng = np.random.default_rng(12)
    phrases = [_notes(_random_tune(rng, 40)) for _ in range(5)]
    fresh = [guard.guard_phrase(p) for p in phrases]
    assert all(r.passed for r in fresh)
    tune = corpus_tunes[100]
    copied = guard.guard_phrase(_notes(change_rhythm(transpose(excerpt(tune, rng), rng), rng)))
    assert copied.flagged and copied.nearest_ident == tune.ident and copied.passage is not None
    assert copied.passage["phrase_ticks"][1] > copied.passage["phrase_ticks"][0]
    short = guard.guard_phrase(_notes(tune.line)[:3])
    assert short.passed and short.score == 0.0
    summary = summarise(fresh, rejected=[copied])
    assert summary["phrases_checked"] == 5 and summary["phrases_flagged"] == 0
    assert summary["phrases_regenerated"] == 1 and summary["verdict"] == ORIGINAL
    assert summary["rejected"][0]["nearest"]["ident"] == tune.ident
    assert summary["indexes"] and json.dumps(summary)
    assert summarise([guard.guard_phrase(p) for p in phrases], rejected=[copied]) == summary  # no timings inside
    assert isinstance(copied, GuardResult) and copied.to_dict()["verdict"] in ("similar", "copy")


def test_module_guard_phrase_uses_the_shipped_corpus():
    from segue.originality import guard_phrase

    with ReferenceIndex.open(corpus_index_path(), readonly=True) as corpus:
        tune = tunes(corpus)[7]
    result = guard_phrase(_notes(tune.line))
    assert result.flagged and result.nearest_ident == tune.ident
    assert shared_guard() is shared_guard()  # loaded once per process


def test_thresholds_are_ordered():
    with pytest.raises(ValueError):
        Thresholds(similar=0.9, copy=0.8)
    th = Thresholds()
    assert th.verdict(0.0) == ORIGINAL and th.verdict(1.0) == COPY


# ---------------------------------------------------------------- the labelled benchmark: the bar


def test_labelled_benchmark_flags_every_disguise_and_the_pipeline_equals_the_aligner(guard: Guard, corpus_tunes):
    """A reduced run of benchmarks/bench_originality_labelled.py (the full one is in docs/originality.md)."""
    pairs = labelled_pairs(guard, corpus_tunes, per_kind=24, seed=77)
    th = guard.thresholds.similar
    by_kind = {k: np.mean([p.pipeline >= th for p in pairs if p.kind == k and p.copy]) for k in DISTORTIONS}
    others = np.mean([p.pipeline >= th for p in pairs if not p.copy])
    aucs = {k: auc([p.pipeline for p in pairs if p.kind == k and p.copy],
                   [p.pipeline for p in pairs if p.kind == k and not p.copy]) for k in DISTORTIONS}
    print(f"flagged by kind {by_kind}; different works flagged {others:.3f}; AUC {aucs}")
    assert set(by_kind) == set(DISTORTIONS) and len(pairs) == 2 * 24 * len(DISTORTIONS)
    assert np.mean([p.pipeline >= th for p in pairs if p.copy]) >= 0.95
    assert min(by_kind.values()) >= 0.9, by_kind  # 24 cases per kind: one or two misses allowed here
    assert others <= 0.02 and min(aucs.values()) >= 0.95
    # no gate losses: the score the search reports for a work is what the aligner gives the full pair
    differ = [(p.kind, p.copy, p.pipeline, p.aligner) for p in pairs if abs(p.pipeline - p.aligner) > 1e-9]
    assert differ == []


def test_a_line_sharing_no_five_note_figure_scores_zero_however_many_fragments_it_shares():
    """The aligner's floor: matched steps count only inside a key both lines have, so a line the
    index cannot propose (no shared key) scores exactly 0 — the gate cannot lose it."""
    rng = np.random.default_rng(8)
    q = _random_tune(rng, 31)
    q_iv, q_r = tokens(q)
    # the tune's steps three at a time, a foreign leap (an octave and a half) after each: no 4-step figure survives
    steps = np.concatenate([np.append(q_iv[k:k + 3], 18 if k % 2 else -18) for k in range(0, q_iv.size, 3)])
    fragments = _line(60 + np.concatenate(([0], np.cumsum(steps))), np.full(steps.size + 1, 0.5), "fragments")
    assert not set(line_fingerprints(q).tolist()) & set(line_fingerprints(fragments).tolist())
    t_iv, t_r = tokens(fragments)
    unmasked = best_scores(q_iv, q_r, t_iv, t_r, np.array([0, t_iv.size]), step_weights(q.pitches))
    assert similarity(unmasked, q_iv.size, t_iv.size)[0] > 0.5  # stock fragments strung along: what the floor is for
    copy = transpose(q, np.random.default_rng(1))
    scores = full_pair_scores(q, [fragments, copy])
    assert scores[0] == 0.0 and scores[1] > 0.9


def test_the_gate_loses_no_benchmark_pair_the_aligner_scores_above_zero(guard: Guard, corpus_tunes):
    """A sample of the labelled benchmark's pairs (another seed than the reduced run above): wherever
    the aligner alone gives the full pair a score above 0, the pipeline reports that same score."""
    pairs = labelled_pairs(guard, corpus_tunes, per_kind=6, seed=2027)
    scored = [p for p in pairs if p.aligner > 0]
    assert len(scored) >= len(DISTORTIONS) * 5  # the planted copies at least
    assert [(p.kind, p.copy, p.query_ident, p.work_ident, p.pipeline, p.aligner) for p in scored
            if abs(p.pipeline - p.aligner) > 1e-9] == []
    assert all(p.pipeline == 0 for p in pairs if p.aligner == 0)


def test_identity_weights_discount_drones_alternations_scales_and_arpeggios():
    drone = step_weights(np.full(16, 48))
    timpani = step_weights(np.array([43, 36] * 8))  # a pedal swinging between two pitches
    scale = step_weights(np.arange(60, 72))
    arpeggio = step_weights(np.array([60, 64, 67, 72, 67, 64, 60, 64, 67, 72]))
    tune = step_weights(np.array([67, 64, 65, 67, 72, 71, 69, 67, 69, 65, 62, 64, 60]))
    assert drone.max() == 0.0 and timpani.max() == 0.0
    assert scale.max() <= 0.5 and arpeggio.max() <= 0.5
    assert tune.min() == 1.0
    # a drone against a work that drones too: nothing to flag, however long
    droning = _line([48] * 64, [1.0] * 64)
    assert aligner_score([droning], [_line([43] * 80, [0.5] * 80)]) == 0.0
    assert aligner_score([droning], [droning]) == 0.0


# ---------------------------------------------------------------- checking everything we write

_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]


def _quoting_spec(tune_line: Line, beats: float = 12.0):
    """The fantasy example with its main theme replaced by the first bars of a corpus tune."""
    from segue.spec.load import load_spec_text

    n = int(np.searchsorted(tune_line.onsets, tune_line.onsets[0] + beats))
    spans = np.diff(tune_line.onsets[:n + 1])
    text = " ".join(f"{_NAMES[int(p) % 12]}{int(p) // 12 - 1}:{d:g}" for p, d in zip(tune_line.pitches[:n], spans))
    examples = Path(__file__).resolve().parents[1] / "examples"
    source = (examples / "fantasy_game.yaml").read_text()
    main = 'notes: "D4:1 E4:0.5 F4:0.5 A4:1.5 G4:0.5  F4:1 E4:1 D4:2  A4:1 B4:0.5 C5:0.5 D5:1.5 C5:0.5  A4:3 r:1"'
    assert main in source
    return load_spec_text(source.replace(main, f'notes: "{text}"'), base_dir=examples)


def test_a_theme_quoting_a_known_tune_is_warned_about_and_costs_no_regenerations(corpus_tunes):
    from segue import pipeline

    tune = next(t for t in corpus_tunes if t.ident.startswith("ryansMammoth/42dHighland"))
    heard: list[str] = []
    perf = pipeline.compose(_quoting_spec(tune.line), bars=8, seed=3, warn=heard.append)
    assert len(heard) == 1 and tune.title in heard[0] and "theme 'main'" in heard[0]
    entry = perf.provenance["originality"]
    theme = next(t for t in entry["themes"] if t["theme"] == "main")
    assert theme["verdict"] != ORIGINAL and theme["nearest"]["ident"] == tune.ident
    assert [t["verdict"] for t in entry["themes"] if t["theme"] != "main"] == [ORIGINAL, ORIGINAL]
    # the flag comes from the theme, stated verbatim: writing the next bar again cannot mend it
    assert entry["phrases_regenerated"] == 0 and entry["phrases_flagged"] >= 1
    lead = next(x for x in entry["layers"] if x["layer"] == "lead")
    assert lead["verdict"] != ORIGINAL and entry["verdict"] != ORIGINAL
    assert {x["layer"] for x in entry["layers"]} >= {"lead", "bass", "(whole file)"}


def test_dark_ambient_pieces_are_original_in_every_layer():
    """The drone once matched a Bach chorale's timpani part note for note (a COPY at 1.00)."""
    from segue import pipeline
    from segue.spec.load import load_spec

    spec = load_spec(Path(__file__).resolve().parents[1] / "examples" / "dark_ambient.yaml")
    heard: list[str] = []
    for seed in (1, 2):
        entry = pipeline.compose(spec, bars=16, seed=seed, warn=heard.append).provenance["originality"]
        assert entry["verdict"] == ORIGINAL, entry["layers"]
        drone = next(x for x in entry["layers"] if x["layer"] == "drone")
        assert drone["verdict"] == ORIGINAL and drone["notes"] > 0
    assert heard == []


def test_installed_segue_check_exits_0_original_1_similar_or_copy_2_error(tmp_path: Path, corpus_tunes):
    """Through the real console script, as a build script would run it."""
    segue = Path(sys.executable).parent / "segue"
    assert segue.is_file()
    env = {**os.environ, "SEGUE_INDEX": str(tmp_path / "none.sqlite"), "XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"]}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(segue), "check", *args], capture_output=True, text=True, env=env, timeout=120)

    rng = np.random.default_rng(8)
    original = _write_midi(tmp_path / "mine.mid", [_random_tune(rng, 48).triples()])
    done = run(str(original))
    assert done.returncode == 0 and "ORIGINAL" in done.stdout, done.stdout + done.stderr
    tune = next(t for t in corpus_tunes if t.ident.startswith("oneills1850/"))
    copied = _write_midi(tmp_path / "copied.mid", [transpose(tune.line, rng).triples()])
    done = run(str(copied))
    assert done.returncode == 1 and "COPY" in done.stdout and tune.title in done.stdout
    # a disguised copy that lands between the thresholds: similar, and still exit status 1
    similar = None
    for k in range(200):
        piece = two_notes_changed(add_ornaments(excerpt(corpus_tunes[k], rng), rng), rng)
        path = _write_midi(tmp_path / f"similar{k}.mid", [piece.triples()])
        if check_file(path).verdict == "similar":
            similar = path
            break
    assert similar is not None
    done = run(str(similar), "--json")
    assert done.returncode == 1 and json.loads(done.stdout)["verdict"] == "similar"
    done = run(str(tmp_path / "missing.mid"))
    assert done.returncode == 2 and "Traceback" not in done.stderr + done.stdout


def test_a_long_layer_is_aligned_column_by_column_with_exactly_the_same_scores():
    rng = np.random.default_rng(4)
    q = _random_tune(rng, 300)
    targets = [_random_tune(rng, int(n)) for n in rng.integers(10, 60, size=12)]
    targets.append(Line("copied", q.pitches[100:150].copy(), q.onsets[100:150] - q.onsets[100],
                        q.durations[100:150].copy()))
    q_iv, q_r = tokens(q)
    w = step_weights(q.pitches)
    t_iv, t_r, bounds = concat([tokens(x) for x in targets])
    batched = best_scores(q_iv, q_r, t_iv, t_r, bounds, w)  # targets are short: the column-wise pass
    single = [align(q_iv, q_r, *tokens(x), w) for x in targets]
    assert batched.tolist() == [0.0 if a is None else a.raw for a in single]
    assert batched[-1] == batched.max() and batched[-1] > 40
