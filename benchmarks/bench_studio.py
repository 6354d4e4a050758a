"""Ten concurrent studio sessions streaming to real WebSocket clients: does anyone underrun?

Starts ``segue.studio`` (uvicorn) in a child process on a free loopback port, creates N sessions
over REST, and connects one WebSocket client per session (in this process, one asyncio loop).
Each client reads every audio frame for ``--seconds`` and counts

* frames received and sustained frames (header sample = -1: the engine was late, the music
  sustained its last block),
* client underruns: frames that arrived later than a listener with a 200 ms jitter buffer
  (the page's) would have needed them,

and at the end asks each session's status for the engine's own underrun count.

``--flood R``: one session is also flooded by its own client — R controls a second over its WebSocket
(a quarter of them state changes cycling through every state, each one a transition the engine must compose,
a quarter a parameter sweep, the rest status requests), the way a misbehaving game or a stuck slider would. The question is whether one
busy session starves the others (the ProducerPool serves the session with the least audio queued first); the
table then marks that session and the summary compares it with the rest.

    uv run python benchmarks/bench_studio.py --sessions 10 --seconds 20 [--flood 90]
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


async def flood(ws, rate: float, seconds: float, states: list[str], params: list[str]) -> int:
    """Send ``rate`` controls a second for ``seconds``; returns how many were sent."""
    sent, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        k = sent % 4
        if k == 0 and states:
            msg = {"type": "state", "name": states[(sent // 4) % len(states)]}
        elif k == 2 and params:
            msg = {"type": "param", "name": params[0], "value": (sent % 50) / 49}
        else:
            msg = {"type": "status"}
        await ws.send(json.dumps(msg))
        sent += 1
        await asyncio.sleep(max(0.0, start + sent / rate - time.perf_counter()))
    return sent


async def listen(base: str, sid: str, seconds: float, flood_rate: float = 0.0) -> dict:
    frames = sustained = late = 0
    period = None
    first_arrival = None
    audio_s = 0.0
    async with connect(f"ws://{base}/api/sessions/{sid}/ws", max_size=1 << 22) as ws:
        hello = json.loads(await ws.recv())
        rate = hello["audio"]["sample_rate"]
        flooder = None
        if flood_rate > 0:
            controls = hello.get("controls", {})
            states = [c if isinstance(c, str) else c.get("name") for c in controls.get("states", [])]
            params = [c if isinstance(c, str) else c.get("name") for c in controls.get("parameters", [])]
            flooder = asyncio.create_task(flood(ws, flood_rate, seconds, [x for x in states if x],
                                                [x for x in params if x]))
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
        controls_sent = await flooder if flooder is not None else 0
        status = get(f"http://{base}/api/sessions/{sid}")
    return {"controls_sent": controls_sent, "frames": frames, "sustained": sustained, "client_underruns": late, "audio_s": round(audio_s, 2),
            "engine_underruns": status["underruns"], "blocks": status["blocks_played"]}


async def main_async(base: str, sessions: list[str], seconds: float, flood_rate: float) -> list[dict]:
    return await asyncio.gather(*(listen(base, sid, seconds, flood_rate if i == 0 else 0.0)
                                  for i, sid in enumerate(sessions)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--example", default="fantasy_game")
    parser.add_argument("--flood", type=float, default=0.0, metavar="R",
                        help="session 0's client also sends R controls a second (the studio allows 100)")
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
        results = asyncio.run(main_async(base, ids, args.seconds, args.flood))
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
    if args.flood > 0 and len(results) > 1:
        rest = results[1:]
        print(f"flooded session 0: {results[0]['controls_sent']} controls sent, {results[0]['engine_underruns']} engine "
              f"underruns in {results[0]['blocks']} blocks; the other {len(rest)}: "
              f"{sum(r['engine_underruns'] for r in rest)} engine underruns in {sum(r['blocks'] for r in rest)} blocks, "
              f"{sum(r['client_underruns'] for r in rest)} client underruns")


if __name__ == "__main__":
    main()
