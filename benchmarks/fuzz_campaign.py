"""The long fuzz campaign of issue 15 (the bounded version runs in CI: tests/test_fuzz.py).

    uv run python benchmarks/fuzz_campaign.py                 # ≥ 2,000 spec, ≥ 1,000 MIDI, 50,000 controls
    uv run python benchmarks/fuzz_campaign.py --specs 200 --midi 100 --controls 5000   # a quick look

Every case runs in a forked child with an address-space cap (``--mem-gb``, default 1.5) and a wall-clock
limit (``--timeout``, default 20 s). A case ends as one of:

* ok / user error — accepted, or refused with one of the project's documented user errors
  (what ``segue`` prints as one line with exit status 2);
* **uncaught** — any other exception (a traceback for the user);
* **hang** — still running after the timeout (killed);
* **memory** — MemoryError under the cap (an allocation the limits should have refused);
* **silence** — accepted input that composed no notes (specs) or played an all-zero mix (controls).

Specs are the examples mutated as data (a node replaced by a nasty value, deleted, duplicated or
nested deep) and as text (bytes cut, inserted, repeated). MIDI files are a small valid file and the
campaign's reproductions with bytes flipped, cut, repeated and length fields corrupted, each run
through ``segue render``, ``segue vary`` and ``segue check`` (the command line, so exactly what a
user sees). Controls are random dicts/values fed to one engine that keeps playing, in chunks.
The network phase (``--osc``, ``--ws``, ``--ws-conns``) runs one live session with its OSC and WebSocket
servers on loopback (a token set, so both the authenticated and the unauthenticated paths are hit)
and floods them: OSC datagrams (valid messages mutated byte-wise, random bytes, oversized ones, with
and without the token), WebSocket messages (mutated JSON controls, random text and binary frames,
oversized frames) over a few connections, and connections opened and dropped in a burst, some with a
foreign Origin. It counts as uncaught if a server thread raised, as a hang if a valid request after
the flood gets no answer, and as a silence if the music stopped.
Deterministic for a given ``--seed``. Prints a table; the numbers go in docs/limits.md.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing as mp
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
REPRO = ROOT / "tests" / "data" / "repro"
SPEC_FILES = ("fantasy_game.yaml", "dark_ambient.yaml", "light_orchestral_film.yaml")

OUTCOMES = ("ok", "user error", "uncaught", "hang", "memory", "silence")


# ---------------------------------------------------------------------------------------------- children
def _child(conn, mem_bytes: int, fn, args) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (mem_bytes, mem_bytes))
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        outcome, detail = fn(*args)
    except MemoryError:
        outcome, detail = "memory", "MemoryError"
    except BaseException as exc:  # noqa: BLE001
        outcome, detail = "uncaught", f"{type(exc).__name__}: {str(exc)[:160]}"
    try:
        conn.send((outcome, detail))
    finally:
        os._exit(0)


def run_case(fn, args, timeout: float, mem_bytes: int) -> tuple[str, str, float]:
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    t0 = time.perf_counter()
    p = ctx.Process(target=_child, args=(child, mem_bytes, fn, args))
    p.start()
    child.close()
    got = None
    if parent.poll(timeout):
        try:
            got = parent.recv()
        except EOFError:
            got = None
    dt = time.perf_counter() - t0
    if got is None and p.is_alive():
        p.kill()
        p.join()
        return "hang", f"> {timeout:g} s", dt
    p.join()
    if got is None:
        return "memory" if p.exitcode in (-9, -6) else "uncaught", f"child died (exit {p.exitcode})", dt
    return got[0], got[1], dt


def _user_errors():
    import segue.engine.controls  # noqa: F401
    import segue.spec.issues  # noqa: F401
    from segue.cli import _user_error_types

    return (*_user_error_types(), ValueError, FileNotFoundError)


# ---------------------------------------------------------------------------------------------- specs
NASTY = [None, True, 10**400, -(10**400), 2**64, float("nan"), float("inf"), -1, 0, 128, 10**9, "", "[/x]",
         "[link=file:///etc/passwd]x", "/etc/passwd", "x" * 5000, "melody", "C9 major", "\udcff", [], {},
         ["melody"], {"a": 1}, 1e-320, -0.0, "99/0", "  ", "0:0"]


def _deep(n: int):
    v = 1
    for _ in range(n):
        v = [v]
    return v


def mutate_data(rng: random.Random, data, strings: list[str]):
    if isinstance(data, dict) and data:
        key = rng.choice(list(data))
        out = dict(data)
        op = rng.choices(["descend", "replace", "delete", "nest"], [6, 1, 1, 0.3])[0]
        if op == "descend":
            out[key] = mutate_data(rng, data[key], strings)
        elif op == "replace":
            out[key] = rng.choice(NASTY)
        elif op == "delete":
            del out[key]
        else:
            out[key] = _deep(rng.choice([10, 70, 300, 3000]))
        return out
    if isinstance(data, list) and data:
        i = rng.randrange(len(data))
        out = list(data)
        op = rng.choices(["descend", "replace", "delete", "copy"], [6, 1, 1, 1])[0]
        if op == "descend":
            out[i] = mutate_data(rng, data[i], strings)
        elif op == "replace":
            out[i] = rng.choice(NASTY)
        elif op == "delete":
            del out[i]
        else:
            out.extend([data[i]] * rng.choice([1, 5, 50, 5000]))
        return out
    if rng.random() < 0.5:
        return rng.choice(NASTY)
    if isinstance(data, bool):
        return not data
    if isinstance(data, int):
        return data + rng.randint(-3, 3) if rng.random() < 0.7 else rng.randint(-2, 200)
    if isinstance(data, float):
        return data * rng.uniform(-1.5, 2.5)
    if isinstance(data, str):
        return rng.choice(strings)
    return data


def mutate_text(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 4)):
        pos = rng.randrange(max(len(text), 1))
        op = rng.choice(["cut", "insert", "repeat", "swap"])
        if op == "cut":
            text = text[:pos] + text[pos + rng.randint(1, 40):]
        elif op == "insert":
            text = text[:pos] + rng.choice(["&a ", "*a", "<<: *a", "!!python/object ", "\n  - ", ": ", "[", "{",
                                              "9" * 400, "\t", "- [/x]"]) + text[pos:]
        elif op == "repeat":
            text = text[:pos] + text[pos:pos + 60] * rng.choice([2, 20, 200]) + text[pos:]
        else:
            j = rng.randrange(max(len(text), 1))
            text = text[:pos] + text[j:j + 20] + text[pos + 20:]
    return text


def spec_case(text: str):
    from segue.evaluation_run import examples_dir
    from segue.pipeline import make_conductor
    from segue.spec import load_spec_text

    try:
        spec = load_spec_text(text, "<fuzz>", base_dir=examples_dir())
    except _user_errors() as exc:
        return "user error", type(exc).__name__
    perf = make_conductor(spec, guard=False).perform(4)
    if not any(perf.notes_by_layer().values()):
        return "silence", "accepted spec composed no notes"
    return "ok", ""


def spec_cases(n: int, rng: random.Random):
    from ruamel.yaml import YAML

    y = YAML(typ="safe", pure=True)
    texts = {name: (EXAMPLES / name).read_text() for name in SPEC_FILES}
    datas = {name: y.load(t) for name, t in texts.items()}
    strings: set[str] = set()

    def walk(d):
        if isinstance(d, str):
            strings.add(d)
        elif isinstance(d, dict):
            for k, v in d.items():
                strings.add(str(k))
                walk(v)
        elif isinstance(d, list):
            for v in d:
                walk(v)

    for d in datas.values():
        walk(d)
    pool = sorted(strings)
    for i in range(n):
        name = rng.choice(SPEC_FILES)
        if i % 3 == 2:
            yield mutate_text(rng, texts[name])
        else:
            buf = io.StringIO()
            try:
                y.dump(mutate_data(rng, datas[name], pool), buf)
            except Exception:  # noqa: BLE001  (not representable in YAML)
                buf = io.StringIO("{}")
            yield buf.getvalue()


# ---------------------------------------------------------------------------------------------- MIDI
def base_midi() -> bytes:
    import mido

    mid = mido.MidiFile(ticks_per_beat=480)
    tr = mido.MidiTrack()
    mid.tracks.append(tr)
    tr.append(mido.MetaMessage("set_tempo", tempo=500000))
    tr.append(mido.MetaMessage("time_signature", numerator=4, denominator=4))
    tr.append(mido.MetaMessage("key_signature", key="D"))
    for k, p in enumerate([62, 64, 66, 67, 69, 71, 73, 74, 69, 66, 62, 64, 66, 62]):
        tr.append(mido.Message("note_on", note=p, velocity=80, time=0))
        tr.append(mido.Message("note_off", note=p, velocity=0, time=240 if k % 3 else 480))
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue()


def mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        if not b:
            b = bytearray(b"MThd")
        pos = rng.randrange(len(b))
        op = rng.choice(["flip", "set", "cut", "repeat", "big", "header"])
        if op == "flip":
            b[pos] ^= 1 << rng.randrange(8)
        elif op == "set":
            b[pos] = rng.choice([0, 1, 0x7F, 0x80, 0xFF, 0x2F, 0x51, 0x59])
        elif op == "cut":
            del b[pos:pos + rng.randint(1, 16)]
        elif op == "repeat":
            b[pos:pos] = b[pos:pos + rng.randint(1, 32)] * rng.choice([2, 10, 100])
        elif op == "big":  # a delta time or length of 4 bytes of 0xFF-ish varint
            b[pos:pos] = bytes([0xFF, 0xFF, 0xFF, 0x7F])
        elif op == "header" and len(b) > 14:
            i = rng.choice([8, 9, 10, 11, 12, 13])  # format, tracks, division
            b[i] = rng.randrange(256)
    return bytes(b)


def cli_case(argv: list[str], cwd: str):
    os.chdir(cwd)
    sys.argv = ["segue", *argv]
    from segue.cli import main

    try:
        main()
    except SystemExit as exc:
        code = exc.code
        if code in (0, None):
            return "ok", ""
        if code in (1, 2):  # 1: `check` found a similarity; 2: a user error
            return ("ok" if code == 1 else "user error"), f"exit {code}"
        return "uncaught", f"exit {code}"
    return "ok", ""


# ---------------------------------------------------------------------------------------------- controls
def random_value(rng: random.Random, depth: int = 0):
    r = rng.random()
    if r < 0.35 or depth > 3:
        return rng.choice(NASTY + [rng.uniform(-2, 2), rng.randint(-5, 5), rng.random()])
    if r < 0.5:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if r < 0.6:
        return _deep(rng.choice([50, 500, 5000]))
    return {rng.choice(["type", "name", "value", "x", "time"]): random_value(rng, depth + 1)
            for _ in range(rng.randint(0, 3))}


def random_control(rng: random.Random):
    if rng.random() < 0.1:
        return random_value(rng)
    kind = rng.choice(["param", "state", "stinger", "affect", "marker", "bogus", None])
    c: dict = {} if kind is None else {"type": kind}
    names = ["intensity", "danger", "explore", "tension", "combat", "victory", "hit", "discovery", "nothing"]
    if rng.random() < 0.9:
        c["name"] = rng.choice(names) if rng.random() < 0.8 else random_value(rng)
    for k in ("value", "valence", "arousal", "intensity", "time", "sample"):
        if rng.random() < 0.3:
            c[k] = rng.uniform(-1, 2) if rng.random() < 0.5 else random_value(rng)
    return c


def controls_case(n: int, seed: int):
    import numpy as np

    from segue.engine.engine import Engine
    from segue.evaluation_run import examples_dir
    from segue.pipeline import make_conductor
    from segue.spec import load_spec

    rng = random.Random(seed)
    eng = Engine(make_conductor(load_spec(examples_dir() / "fantasy_game.yaml"), guard=False, keep_bars=False))
    silent_blocks = 0
    for i in range(n):
        reason = eng.submit(random_control(rng))
        if reason is not None and not isinstance(reason, str):
            return "uncaught", f"submit returned {type(reason).__name__}"
        if i % 10 == 9:
            mix, _ = eng.pull(2048)
            if not np.all(np.isfinite(mix)):
                return "uncaught", "non-finite audio"
            silent_blocks = silent_blocks + 1 if float(np.max(np.abs(mix))) == 0.0 else 0
            if silent_blocks > 200:  # ~10 s of digital silence
                return "silence", f"after {i + 1} controls"
            bar = eng.status()["bar"]
            if not 0 <= bar < 100_000:
                return "uncaught", f"status bar {bar}"
    return "ok", f"{eng.rejected} rejected"


# ---------------------------------------------------------------------------------------------- network
TOKEN = "fuzz-campaign-token-0123"


def _osc_datagram(rng: random.Random) -> bytes:
    from pythonosc.osc_message_builder import OscMessageBuilder

    r = rng.random()
    if r < 0.15:
        return rng.randbytes(rng.randint(0, 2000))
    if r < 0.2:
        return b"/segue/" + rng.randbytes(rng.choice([10, 1000, 60000]))
    address = rng.choice(["/segue/param/intensity", "/segue/param/danger", "/segue/state", "/segue/stinger",
                          "/segue/marker", "/segue/affect", "/segue/status", "/segue/hello", "/segue/subscribe",
                          "/segue/unsubscribe", "/segue/nope", "/x"])
    b = OscMessageBuilder(address=address)
    for _ in range(rng.randint(0, 4)):
        v = rng.choice([rng.uniform(-1e9, 1e9), rng.randint(-2**31, 2**31 - 1), "combat", "hit", TOKEN, "",
                        "x" * rng.choice([1, 300, 5000]), float("nan"), float("inf"), b"\x00\xff", True])
        b.add_arg(v)
    data = bytearray(b.build().dgram)
    if rng.random() < 0.5 and data:
        for _ in range(rng.randint(1, 6)):
            op = rng.random()
            i = rng.randrange(len(data))
            if op < 0.5:
                data[i] = rng.randrange(256)
            elif op < 0.75:
                del data[i:i + rng.randint(1, 8)]
            else:
                data[i:i] = rng.randbytes(rng.randint(1, 16))
            if not data:
                break
    return bytes(data)


def _ws_message(rng: random.Random) -> str | bytes:
    import json

    r = rng.random()
    if r < 0.1:
        return rng.randbytes(rng.randint(0, 4000))
    if r < 0.15:
        return "x" * rng.choice([20_000, 100_000])
    c = random_control(rng)
    if rng.random() < 0.2:
        c = rng.choice([{"type": "status"}, {"type": "subscribe", "events": random_value(rng)},
                        {"type": "hello", "token": rng.choice([TOKEN, "short", random_value(rng)])}])
    if isinstance(c, dict) and rng.random() < 0.3:
        c["id"] = random_value(rng)
    try:
        text = json.dumps(c, allow_nan=True)
    except (TypeError, ValueError, RecursionError):
        text = str(c)[:5000]
    if rng.random() < 0.3 and text:
        i = rng.randrange(len(text))
        text = text[:i] + rng.choice(["", "}", "{", "\\u", "\"", "\ud800", "[" * 500, "\x00"]) + text[i + 1:]
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate cannot travel as a text frame: send its bytes, invalid UTF-8
        return text.encode("utf-8", "surrogatepass")
    return text


def network_case(n_osc: int, n_ws: int, n_conns: int, seed: int):
    import json
    import socket
    import threading

    import numpy as np
    from websockets.sync.client import connect

    from segue.engine.live import HeadlessSink, LiveSession
    from segue.evaluation_run import examples_dir
    from segue.server import start_osc, start_ws
    from segue.spec import load_spec

    import logging

    raised: list[str] = []
    threading.excepthook = lambda args: raised.append(
        f"{args.exc_type.__name__}: {args.exc_value} (thread {getattr(args.thread, 'name', '?')}, "
        f"{threading.active_count()} threads)")

    class _Errors(logging.Handler):  # servers log a handler's exception instead of dying: that counts too
        def emit(self, record: logging.LogRecord) -> None:
            if record.name.startswith("websockets.client"):  # the harness's own clients, not the server
                return
            if record.levelno >= logging.ERROR or record.exc_info:
                exc = record.exc_info[1] if record.exc_info else None
                where = f" ({type(exc).__name__}: {str(exc)[:100]})" if exc else ""
                raised.append(f"logged by {record.name}: {record.getMessage()[:100]}{where}")

    logging.getLogger().addHandler(_Errors())
    rng = random.Random(seed)
    session = LiveSession(load_spec(examples_dir() / "fantasy_game.yaml"), block=512, record=True)
    session.start()
    sink = HeadlessSink(session).start()
    osc = start_osc(session, port=0, token=TOKEN)
    ws = start_ws(session, port=0, token=TOKEN, allowed_origins={"http://localhost:9"})
    url = f"ws://127.0.0.1:{ws.port}/"
    try:
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        authed = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        from pythonosc.osc_message_builder import OscMessageBuilder

        hello = OscMessageBuilder(address="/segue/hello")
        hello.add_arg(TOKEN)
        authed.sendto(hello.build().dgram, ("127.0.0.1", osc.port))
        for i in range(n_osc):
            data = _osc_datagram(rng)
            try:
                (authed if i % 2 else udp).sendto(data[:65000], ("127.0.0.1", osc.port))
            except OSError:
                pass
            if i % 200 == 199:
                time.sleep(0.01)  # a flood, but one the kernel's buffer can carry (drops are not findings)
        conns = []
        for k in range(4):
            try:
                conns.append(connect(url + (f"?token={TOKEN}" if k % 2 else ""), open_timeout=5, max_size=2**20))
            except Exception as exc:  # noqa: BLE001
                raised.append(f"connect: {type(exc).__name__}: {exc}")
        sent = 0
        while sent < n_ws and conns:
            c = conns[sent % len(conns)]
            try:
                c.send(_ws_message(rng))
            except Exception:  # noqa: BLE001 - a server closing an abusive connection is its right
                conns.remove(c)
                try:
                    conns.append(connect(url + f"?token={TOKEN}", open_timeout=5, max_size=2**20))
                except Exception as exc:  # noqa: BLE001
                    raised.append(f"reconnect: {type(exc).__name__}: {exc}")
            sent += 1
        for c in conns:
            c.close()
        burst_rng = random.Random(seed + 1)

        async def burst() -> None:  # asyncio clients: the burst must not cost the harness a thread each
            from websockets.asyncio.client import connect as aconnect

            for k in range(n_conns):  # connections opened and dropped, some from a foreign page
                headers = {"Origin": "https://evil.example"} if k % 3 == 0 else None
                try:
                    c = await aconnect(url, open_timeout=5, additional_headers=headers)
                    if burst_rng.random() < 0.5:
                        await c.send(json.dumps({"type": "status"}))
                    await c.close()
                except Exception:  # noqa: BLE001 - refused (origin, limits): expected
                    pass

        import asyncio

        asyncio.run(burst())
        # afterwards: the servers still answer and the music still plays
        with connect(url + f"?token={TOKEN}", open_timeout=5) as c:
            c.send(json.dumps({"type": "status", "id": "final"}))
            reply = c.recv(timeout=10)
        if '"status"' not in str(reply):
            return "hang", f"no status after the flood: {str(reply)[:100]}"
        authed.settimeout(10)
        status = OscMessageBuilder(address="/segue/status")
        authed.sendto(status.build().dgram, ("127.0.0.1", osc.port))
        try:
            authed.recvfrom(65536)
        except socket.timeout:
            return "hang", "no OSC status reply after the flood"
        time.sleep(1.0)
        audio = session.recorded_audio()
        tail = audio[-44100:] if len(audio) else audio
        if not len(tail) or float(np.max(np.abs(tail))) == 0.0:
            return "silence", "the music stopped during the flood"
        if raised:
            return "uncaught", raised[0][:160]
        import resource as _r

        rss = _r.getrusage(_r.RUSAGE_SELF).ru_maxrss / 1024
        return "ok", f"{session.engine.rejected} controls rejected, peak RSS {rss:.0f} MiB"
    finally:
        osc.close()
        ws.close()
        sink.stop()
        session.stop()


# ---------------------------------------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--specs", type=int, default=2000)
    ap.add_argument("--midi", type=int, default=1000, help="MIDI mutants (each through render, vary and check)")
    ap.add_argument("--controls", type=int, default=50_000)
    ap.add_argument("--chunk", type=int, default=5000, help="controls per engine (one child each)")
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--mem-gb", type=float, default=1.5)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--tools", default="render,vary,check")
    ap.add_argument("--findings", default=os.path.join(tempfile.gettempdir(), "segue-fuzz-findings"),
                    help="folder where the input of every finding is saved")
    ap.add_argument("--osc", type=int, default=100_000, help="OSC datagrams in the network phase")
    ap.add_argument("--ws", type=int, default=10_000, help="WebSocket messages in the network phase")
    ap.add_argument("--ws-conns", type=int, default=500, help="WebSocket connections opened and dropped")
    a = ap.parse_args()
    mem = int(a.mem_gb * 2**30)
    rng = random.Random(a.seed)

    # import what the children use once, so every fork starts warm
    import segue.cli  # noqa: F401
    import segue.pipeline  # noqa: F401
    import segue.spec  # noqa: F401
    from segue.engine.engine import Engine  # noqa: F401

    rows: dict[str, dict[str, int]] = {}
    examples: dict[str, list[str]] = {}
    slowest: dict[str, float] = {}

    findings = Path(a.findings)

    def keep(name: str, payload: bytes) -> str:
        """Save a finding's input so it can be replayed (the table alone cannot be acted on)."""
        findings.mkdir(parents=True, exist_ok=True)
        path = findings / name
        path.write_bytes(payload)
        return str(path)

    def record(group: str, outcome: str, detail: str, dt: float, payload: tuple[str, bytes] | None = None) -> None:
        if outcome not in ("ok", "user error") and payload is not None:
            detail = f"{detail} [{keep(*payload)}]"
        row = rows.setdefault(group, {k: 0 for k in ("cases", *OUTCOMES)})
        row["cases"] += 1
        row[outcome] += 1
        slowest[group] = max(slowest.get(group, 0.0), dt)
        if outcome not in ("ok", "user error"):
            examples.setdefault(group, []).append(f"{outcome}: {detail}")

    t_start = time.perf_counter()
    for i, text in enumerate(spec_cases(a.specs, rng)):
        record("spec mutants", *run_case(spec_case, (text,), a.timeout, mem),
               payload=(f"spec-{i}.yaml", text.encode("utf-8", "surrogatepass")))
        if (i + 1) % 250 == 0:
            print(f"  specs {i + 1}/{a.specs}", file=sys.stderr, flush=True)

    seeds = [base_midi()] + [p.read_bytes() for p in sorted(REPRO.glob("*.mid"))]
    tools = [t for t in a.tools.split(",") if t]
    with tempfile.TemporaryDirectory(prefix="segue-fuzz-") as tmp:
        for i in range(a.midi):
            data = mutate_bytes(rng, seeds[0] if rng.random() < 0.6 else rng.choice(seeds))
            path = Path(tmp) / f"m{i}.mid"
            path.write_bytes(data)
            for tool in tools:
                argv = {"render": ["render", str(path), "--out", "r.wav"],
                        "vary": ["vary", str(path), "-n", "2", "--out", "v", "--no-audio"],
                        "check": ["check", str(path)]}[tool]
                record(f"MIDI × {tool}", *run_case(cli_case, (argv, tmp), a.timeout, mem),
                       payload=(f"midi-{i}-{tool}.mid", data))
            path.unlink()
            if (i + 1) % 100 == 0:
                print(f"  midi {i + 1}/{a.midi}", file=sys.stderr, flush=True)

    done = 0
    k = 0
    while done < a.controls:
        n = min(a.chunk, a.controls - done)
        outcome, detail, dt = run_case(controls_case, (n, a.seed * 1000 + k), max(a.timeout, n / 50), mem)
        row = rows.setdefault("engine controls", {k2: 0 for k2 in ("cases", *OUTCOMES)})
        row["cases"] += n
        row["ok" if outcome == "ok" else outcome] += n if outcome == "ok" else 1
        if outcome != "ok":
            examples.setdefault("engine controls", []).append(f"{outcome}: {detail}")
        slowest["engine controls"] = max(slowest.get("engine controls", 0.0), dt)
        done += n
        k += 1

    if a.osc or a.ws or a.ws_conns:
        # address space, not memory: every harness client thread reserves a stack and a malloc arena
        outcome, detail, dt = run_case(network_case, (a.osc, a.ws, a.ws_conns, a.seed), max(600.0, a.timeout),
                                       max(mem, 16 * 2**30))
        for group, n in (("OSC datagrams", a.osc), ("WS messages", a.ws), ("WS connections", a.ws_conns)):
            row = rows.setdefault(group, {k2: 0 for k2 in ("cases", *OUTCOMES)})
            row["cases"] += n
            row["ok" if outcome == "ok" else outcome] += n if outcome == "ok" else 1
            slowest[group] = dt
        if outcome != "ok":
            examples.setdefault("network", []).append(f"{outcome}: {detail}")
        print(f"  network: {outcome} ({detail}), {dt:.0f} s", file=sys.stderr, flush=True)

    print(f"\nfuzz campaign (seed {a.seed}, timeout {a.timeout:g} s, cap {a.mem_gb:g} GB, "
          f"{time.perf_counter() - t_start:.0f} s)\n")
    head = f"| {'input':<18} | {'cases':>7} | {'uncaught':>8} | {'hangs > ' + format(a.timeout, 'g') + ' s':>12} " \
           f"| {'memory':>6} | {'silences':>8} | {'refused':>7} | {'slowest':>8} |"
    print(head)
    print("|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|")
    tot = {k: 0 for k in ("cases", *OUTCOMES)}
    for group, row in rows.items():
        for key in tot:
            tot[key] += row[key]
        print(f"| {group:<18} | {row['cases']:>7,} | {row['uncaught']:>8} | {row['hang']:>12} | {row['memory']:>6} "
              f"| {row['silence']:>8} | {row['user error']:>7,} | {slowest[group]:>7.1f}s |")
    print(f"| {'total':<18} | {tot['cases']:>7,} | {tot['uncaught']:>8} | {tot['hang']:>12} | {tot['memory']:>6} "
          f"| {tot['silence']:>8} | {tot['user error']:>7,} | {'':>8} |")
    for group, ex in examples.items():
        print(f"\n{group}: {len(ex)} finding(s)")
        for line in sorted(set(ex))[:10]:
            print(f"  {line}")
    bad = tot["uncaught"] + tot["hang"] + tot["memory"] + tot["silence"]
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
