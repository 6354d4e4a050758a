"""Ten concurrent studio sessions streaming to real WebSocket clients: does anyone underrun?

Starts ``segue.studio`` (uvicorn) in a child process on a free loopback port, creates N sessions
over REST, and connects one WebSocket client per session (in this process, one asyncio loop).
Each client reads every audio frame for ``--seconds`` and counts

* frames received and sustained frames (header sample = -1: the engine was late, the music
  sustained its last block),
* client underruns: frames that arrived later than a listener with a 200 ms jitter buffer
  (the page's) would have needed them,

and at the end asks each session's status for the engine's own underrun count.

    uv run python benchmarks/bench_studio.py --sessions 10 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from websockets.asyncio.client import connect

from segue.studio.sessions import FRAME_HEADER

JITTER_S = 0.2
SERVER = """
import sys
from segue.studio.server import make_server
server, sock = make_server("127.0.0.1", int(sys.argv[1]), examples_dir=sys.argv[2], max_sessions=32)
server.run(sockets=[sock])
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url: str, body: dict) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


async def listen(base: str, sid: str, seconds: float) -> dict:
    frames = sustained = late = 0
    period = None
    first_arrival = None
    audio_s = 0.0
    async with connect(f"ws://{base}/api/sessions/{sid}/ws", max_size=1 << 22) as ws:
        hello = json.loads(await ws.recv())
        rate = hello["audio"]["sample_rate"]
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            msg = await ws.recv()
            if isinstance(msg, str):
                continue
            now = time.perf_counter()
            first, _, count = FRAME_HEADER.unpack_from(msg)
            period = count / rate
            if first_arrival is None:
                first_arrival = now
            elif now > first_arrival + JITTER_S + audio_s:  # this frame was due in the speaker already
                late += 1
                first_arrival = now - audio_s  # the page re-buffers: restart its clock
            audio_s += period
            frames += 1
            sustained += first < 0
        status = get(f"http://{base}/api/sessions/{sid}")
    return {"frames": frames, "sustained": sustained, "client_underruns": late, "audio_s": round(audio_s, 2),
            "engine_underruns": status["underruns"], "blocks": status["blocks_played"]}


async def main_async(base: str, sessions: list[str], seconds: float) -> list[dict]:
    return await asyncio.gather(*(listen(base, sid, seconds) for sid in sessions))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--example", default="fantasy_game")
    args = parser.parse_args()
    port = free_port()
    examples = Path(__file__).resolve().parents[1] / "examples"
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port), str(examples)], env=os.environ.copy())
    base = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                get(f"http://{base}/api/examples")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("the studio did not start")
                time.sleep(0.2)
        t0 = time.perf_counter()
        ids = [post(f"http://{base}/api/sessions", {"example": args.example, "seed": i})["id"]
               for i in range(args.sessions)]
        created = time.perf_counter() - t0
        results = asyncio.run(main_async(base, ids, args.seconds))
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    print(f"{args.sessions} sessions of {args.example!r}, {args.seconds:g} s each, on {os.cpu_count()} cores "
          f"(sessions created in {created:.1f} s)")
    print(f"{'session':>7} {'frames':>6} {'audio s':>7} {'blocks':>6} {'engine underruns':>16} "
          f"{'sustained':>9} {'client underruns':>16}")
    for i, r in enumerate(results):
        print(f"{i:>7} {r['frames']:>6} {r['audio_s']:>7} {r['blocks']:>6} {r['engine_underruns']:>16} "
              f"{r['sustained']:>9} {r['client_underruns']:>16}")
    total = {k: sum(r[k] for r in results) for k in ("frames", "engine_underruns", "sustained", "client_underruns")}
    print(f"total: {total} · frames per session median {statistics.median(r['frames'] for r in results):g}")


if __name__ == "__main__":
    main()
