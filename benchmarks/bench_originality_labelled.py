"""The originality guard's labelled benchmark: planted copies and different works, per distortion.

Run: ``uv run python benchmarks/bench_originality_labelled.py [--per-kind 300] [--seed 2026]``.

Every case comes from the public-domain corpus the project already ships (music21's Bach chorales,
Ryan's Mammoth Collection, O'Neill's 1850, Aird's Airs; see
:mod:`segue.originality.benchmark`). For each distortion it prints how many planted copies are
flagged (bar ≥ 95%), how many different-work pairs are flagged (bar ≤ 1%), the ROC AUC, and the
number of pairs where the pipeline (keys → candidate gate → alignment, over the whole index) and
the aligner alone on the full pair disagree (bar: 0). Then a line-by-line audit of the gate
(``--audit`` disguised excerpts, each aligned alone against every line of the index): how many
(excerpt, line) pairs the aligner scores above 0 and how many of those the search did not report.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from segue.originality.benchmark import DISTORTIONS, auc, gate_audit, labelled_pairs  # noqa: E402
from segue.originality.calibration import tunes  # noqa: E402
from segue.originality.locations import corpus_index_path  # noqa: E402
from segue.originality.search import Guard  # noqa: E402
from segue.originality.store import ReferenceIndex  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-kind", type=int, default=300, help="planted copies (and as many different pairs) per kind")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--audit", type=int, default=48, help="excerpts audited against every line of the index")
    ap.add_argument("--audit-seed", type=int, default=31, help="which excerpts the audit draws")
    args = ap.parse_args()
    started = time.perf_counter()
    index = ReferenceIndex.open(corpus_index_path(), readonly=True)
    guard = Guard([index])
    pool = tunes(index)
    pairs = labelled_pairs(guard, pool, args.per_kind, seed=args.seed)
    th = guard.thresholds.similar
    print(f"index: {guard.infos[0].works} works, {guard.melodies} lines; {len(pool)} tunes of ≥ 24 notes; "
          f"threshold similar ≥ {th}, copy ≥ {guard.thresholds.copy}\n")
    print("| distortion | planted copies flagged | different works flagged | ROC AUC | pipeline ≠ aligner |")
    print("|---|---|---|---|---|")
    for kind in DISTORTIONS:
        pos = [p.pipeline for p in pairs if p.kind == kind and p.copy]
        neg = [p.pipeline for p in pairs if p.kind == kind and not p.copy]
        differ = sum(abs(p.pipeline - p.aligner) > 1e-9 for p in pairs if p.kind == kind)
        print(f"| {kind} | {np.mean(np.asarray(pos) >= th):.1%} of {len(pos)} | "
              f"{np.mean(np.asarray(neg) >= th):.1%} of {len(neg)} | {auc(pos, neg):.3f} | {differ} |")
    pos = [p.pipeline for p in pairs if p.copy]
    neg = [p.pipeline for p in pairs if not p.copy]
    differ = [p for p in pairs if abs(p.pipeline - p.aligner) > 1e-9]
    print(f"| all | {np.mean(np.asarray(pos) >= th):.1%} of {len(pos)} | {np.mean(np.asarray(neg) >= th):.2%} of "
          f"{len(neg)} | {auc(pos, neg):.3f} | {len(differ)} |")
    for p in differ[:10]:
        print(f"  differs: {p.kind} {'copy' if p.copy else 'other'} {p.query_ident} ~ {p.work_ident}: "
              f"pipeline {p.pipeline:.3f}, aligner {p.aligner:.3f}")
    if args.audit > 0:
        audit = gate_audit(guard, index.melody_rows()[2], pool, args.audit, seed=args.audit_seed)
        print(f"\nline-by-line audit: {audit.queries} disguised excerpts (seed {args.audit_seed}) against all "
              f"{guard.melodies} lines: {audit.scored} (excerpt, line) pairs scored above 0 by the aligner, "
              f"{audit.missed} not reported by the search, {audit.missed_flagged} of them at or above the similar "
              f"threshold (best score among them {audit.worst:.3f})")
    print(f"\n{len(pairs)} pairs, {time.perf_counter() - started:.0f} s")
    guard.close()


if __name__ == "__main__":
    main()
