"""The index a game imports: one row per finished asset, as JSON and as CSV.

Columns are what interactive-music middleware asks for when it builds a music segment or a looping
clip: the asset's name (``mus_<region>_<state>_<variation>``), the state and region it belongs to, the
variation, the loop region in samples, the tempo and bars, the loudness, and the files (paths relative
to the index). docs/batch.md shows how Godot, FMOD and Wwise take them.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

COLUMNS = ("name", "region", "state", "variation", "seed", "bpm", "meter", "beats_per_bar", "bars", "key",
           "sample_rate", "loop_start", "loop_end", "length_samples", "loudness_lufs", "audio", "midi",
           "musicxml", "stems")


def index_row(row: dict) -> dict:
    """A manifest row → an index row."""
    asset, facts, outputs = row["asset"], row["facts"], row["outputs"]
    name = asset["name"]

    def first(ext: str) -> str:
        return next((p for p in outputs if p.endswith(f"/{name}.{ext}") or p == f"{name}.{ext}"), "")

    audio = next((first(f) for f in asset["formats"] if f in ("wav", "flac")), "")
    out = {"name": name, "region": asset["region"], "state": asset["state"], "variation": asset["variation"],
           "seed": asset["seed"], "audio": audio, "midi": first("mid"), "musicxml": first("musicxml"),
           "stems": [p for p in outputs if "/stems/" in f"/{p}" and not p.endswith(".segue.json")]}
    for k in ("bpm", "meter", "beats_per_bar", "bars", "key", "sample_rate", "loop_start", "loop_end",
              "length_samples", "loudness_lufs"):
        out[k] = facts.get(k)
    return {k: out[k] for k in COLUMNS}


def write_index(rows: list[dict], out_root: Path, job_name: str) -> list[Path]:
    """``index.json`` and ``index.csv`` in ``out_root`` (each written aside and moved into place)."""
    entries = [index_row(r) for r in rows]
    doc = {"job": job_name, "assets": entries, "columns": list(COLUMNS),
           "units": {"loop_start": "samples", "loop_end": "samples", "length_samples": "samples",
                     "bpm": "quarter notes per minute", "loudness_lufs": "LUFS (integrated, mix)"}}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for e in entries:
        w.writerow(["" if e[k] is None else (";".join(e[k]) if isinstance(e[k], list) else e[k]) for k in COLUMNS])
    paths = []
    for name, text in (("index.json", json.dumps(doc, indent=1) + "\n"), ("index.csv", buf.getvalue())):
        path = Path(out_root) / name
        tmp = path.with_name(f".{name}.{os.getpid()}.partial")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
        paths.append(path)
    return paths
