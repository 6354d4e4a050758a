"""An optional language-model backend: any OpenAI-compatible chat endpoint (llama.cpp, Ollama, vLLM …).

Never required and never called unless configured — by ``--llm URL`` or the ``SEGUE_LLM_URL``
environment variable (with ``SEGUE_LLM_MODEL``, ``SEGUE_LLM_API_KEY``, ``SEGUE_LLM_TIMEOUT``). It
answers the same two questions as the offline lexicon: the affect of each scene, and what a
direction in words asks of the music. Requests use only the standard library (``urllib``), ask
for JSON that follows a strict schema, and time out. Every answer is validated — numbers in
range, every scene answered once, quoted evidence actually present in the scene — and anything
wrong (network, HTTP status, malformed JSON, a missing field) falls back to the lexicon for the
scenes concerned, with a warning. The API key is read from the environment and never written
to any output file.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable

from segue.film.errors import FilmError

Transport = Callable[[str, bytes, dict[str, str], float], bytes]

SCENE_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["scenes"],
    "properties": {"scenes": {"type": "array", "items": {
        "type": "object", "additionalProperties": False,
        "required": ["index", "valence", "arousal", "tension", "why", "evidence"],
        "properties": {
            "index": {"type": "integer"}, "valence": {"type": "number", "minimum": -1, "maximum": 1},
            "arousal": {"type": "number", "minimum": 0, "maximum": 1},
            "tension": {"type": "number", "minimum": 0, "maximum": 1},
            "why": {"type": "string"}, "evidence": {"type": "array", "items": {"type": "string"}}}}}},
}
DIRECTION_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False,
    "required": ["valence", "arousal", "tension", "intensity", "intensity_end", "instruments", "density",
                 "tempo_bpm", "percussion"],
    "properties": {
        "valence": {"type": "number"}, "arousal": {"type": "number"}, "tension": {"type": "number"},
        "intensity": {"type": "number"}, "intensity_end": {"type": ["number", "null"]},
        "instruments": {"type": "array", "items": {"type": "string"}}, "density": {"type": ["number", "null"]},
        "tempo_bpm": {"type": ["number", "null"]}, "percussion": {"type": ["boolean", "null"]}},
}
SYSTEM_SCENES = (
    "You rate the emotional content of film scenes for a film composer. For each scene give valence "
    "(-1 very negative … 1 very positive), arousal (0 calm … 1 frantic) and tension (0 settled … 1 unresolved threat), "
    "a short reason, and 1-3 short quotes copied exactly from the scene text that justify the rating. "
    "Answer only with JSON matching the schema.")
SYSTEM_DIRECTION = (
    "You turn a film director's musical direction into numbers for a composer: valence -1…1, arousal, tension and "
    "intensity 0…1, intensity_end (0…1 if the music should build or fade, else null), instruments (General MIDI "
    "names), density (0 sparse … 1 dense, or null), tempo_bpm (or null), percussion (true/false/null). "
    "Answer only with JSON matching the schema.")


class LLMFailure(Exception):
    """Anything that went wrong talking to the model (caught: the lexicon takes over)."""


def _urllib_transport(url: str, body: bytes, headers: dict[str, str], timeout: float) -> bytes:
    """POST ``body`` and read the reply, all within ``timeout`` seconds in total.

    Why not ``urlopen(timeout=...)``: that bounds each socket operation, so a server that trickles a
    byte a second holds a request for as long as it likes. Here a watchdog closes the connection at
    the deadline, whatever it is doing (connecting, waiting for headers, reading the body).
    """
    import http.client
    import socket
    import threading
    import time
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    conn_cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = conn_cls(parts.hostname or "", parts.port, timeout=timeout)
    expired = threading.Event()

    def cut() -> None:
        expired.set()
        sock = conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    watchdog = threading.Timer(timeout, cut)
    watchdog.daemon = True
    deadline = time.monotonic() + timeout
    watchdog.start()
    try:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        if resp.status >= 400:
            raise LLMFailure(f"HTTP {resp.status} from {url}")
        chunks: list[bytes] = []
        size = 0
        while size < 4_000_000:
            if time.monotonic() > deadline:
                raise TimeoutError
            chunk = resp.read1(65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if expired.is_set():
            raise TimeoutError
        return b"".join(chunks)
    except LLMFailure:
        raise
    except (http.client.HTTPException, TimeoutError, OSError, ValueError) as exc:
        if expired.is_set() or isinstance(exc, TimeoutError):
            raise LLMFailure(f"no complete answer from {url} within {timeout:g} s") from None
        raise LLMFailure(f"cannot reach {url} ({getattr(exc, 'reason', exc)})") from None
    finally:
        watchdog.cancel()
        conn.close()


def _num(x: Any, lo: float, hi: float, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        raise LLMFailure(f"{what} is not a number: {x!r}")
    if not lo - 1e-9 <= x <= hi + 1e-9:
        raise LLMFailure(f"{what} {x} is outside {lo}..{hi}")
    return float(min(max(x, lo), hi))


@dataclass(slots=True)
class LLMBackend:
    """An OpenAI-compatible chat-completions endpoint used for affect and directions."""

    url: str
    model: str = "local"
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 60.0
    batch: int = 10
    max_chars: int = 3000
    transport: Transport | None = None
    max_failures: int = 3
    """Requests that fail in a row before the backend stops asking (the lexicon answers the rest)."""
    failures: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise FilmError(f"LLM endpoint {self.url!r} must start with http:// or https://")
        if not (self.timeout > 0 and math.isfinite(self.timeout)):
            raise FilmError("LLM timeout must be a positive number of seconds")

    @property
    def name(self) -> str:
        return f"llm:{self.model}"

    @property
    def endpoint(self) -> str:
        base = self.url.rstrip("/")
        return base if base.endswith("/chat/completions") else base + "/chat/completions"

    def _ask(self, system: str, user: str, schema: dict[str, Any], schema_name: str) -> Any:
        body = json.dumps({
            "model": self.model, "temperature": 0,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "response_format": {"type": "json_schema",
                                "json_schema": {"name": schema_name, "strict": True, "schema": schema}},
        }).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        if self.gave_up:
            raise LLMFailure(f"not asked: {self.failures} requests failed in a row, so Segue stopped asking")
        try:
            raw = (self.transport or _urllib_transport)(self.endpoint, body, headers, self.timeout)
            data = self._decode(raw)
        except Exception:
            self.failures += 1
            raise
        self.failures = 0
        return data

    @property
    def gave_up(self) -> bool:
        """True after ``max_failures`` failures in a row: a dead or overloaded server is not asked again."""
        return self.failures >= self.max_failures

    @staticmethod
    def _decode(raw: bytes) -> Any:
        try:
            reply = json.loads(raw)
            content = reply["choices"][0]["message"]["content"]
            if isinstance(content, str):
                content = content.strip()
                if content.startswith("```"):
                    content = content.strip("`").removeprefix("json").strip()
                return json.loads(content)
            return content
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise LLMFailure(f"the reply is not the JSON asked for ({exc.__class__.__name__})") from None

    def score_scenes(self, scenes: list[Any], warnings: list[str]) -> dict[int, dict[str, Any]]:
        """Affect per scene index; scenes the model could not score are simply missing (lexicon stays)."""
        out: dict[int, dict[str, Any]] = {}
        for i in range(0, len(scenes), self.batch):
            chunk = scenes[i:i + self.batch]
            texts = {sc.index: (sc.heading + "\n" + sc.text())[: self.max_chars] for sc in chunk}
            user = json.dumps({"scenes": [{"index": k, "text": t} for k, t in texts.items()]}, ensure_ascii=False)
            try:
                data = self._ask(SYSTEM_SCENES, user, SCENE_SCHEMA, "scene_affect")
                got = self._validate_scenes(data, texts)
            except Exception as exc:  # noqa: BLE001 - any failure of an optional backend: the lexicon takes over
                warnings.append(f"{self.name}: scenes {chunk[0].index + 1}-{chunk[-1].index + 1} fell back to the "
                                f"lexicon: {exc}")
                continue
            out.update(got)
        return out

    @staticmethod
    def _validate_scenes(data: Any, texts: dict[int, str]) -> dict[int, dict[str, Any]]:
        if not isinstance(data, dict) or not isinstance(data.get("scenes"), list):
            raise LLMFailure("missing 'scenes' list")
        out: dict[int, dict[str, Any]] = {}
        for item in data["scenes"]:
            if not isinstance(item, dict):
                raise LLMFailure("a scene entry is not an object")
            idx = item.get("index")
            if isinstance(idx, bool) or not isinstance(idx, int) or idx not in texts or idx in out:
                raise LLMFailure(f"unexpected or repeated scene index {idx!r}")
            ev = item.get("evidence", [])
            if not isinstance(ev, list):
                raise LLMFailure("evidence is not a list")
            low = texts[idx].lower()
            quotes = [q for q in ev if isinstance(q, str) and q.strip() and q.strip().lower() in low][:3]
            out[idx] = {"valence": _num(item.get("valence"), -1, 1, "valence"),
                        "arousal": _num(item.get("arousal"), 0, 1, "arousal"),
                        "tension": _num(item.get("tension"), 0, 1, "tension"),
                        "why": str(item.get("why", ""))[:200], "evidence": quotes}
        if set(out) != set(texts):
            raise LLMFailure(f"{len(texts) - len(out)} scene(s) were not answered")
        return out

    def direction(self, text: str, warnings: list[str]) -> Any:
        """A :class:`~segue.film.direction.Direction` from the model, or the lexicon's reading on any failure."""
        from segue.film.direction import Direction, instruments_in, parse_direction

        try:
            d = self._ask(SYSTEM_DIRECTION, text[:2000], DIRECTION_SCHEMA, "music_direction")
            if not isinstance(d, dict):
                raise LLMFailure("the reply is not an object")
            instruments = []
            for name in d.get("instruments") or []:
                found, _ = instruments_in(str(name))
                instruments += [f for f in found if all(f[1] != p for _, p in instruments)]
            end = d.get("intensity_end")
            dens = d.get("density")
            tempo = d.get("tempo_bpm")
            perc = d.get("percussion")
            return Direction(
                text=text, valence=_num(d.get("valence"), -1, 1, "valence"), arousal=_num(d.get("arousal"), 0, 1, "arousal"),
                tension=_num(d.get("tension"), 0, 1, "tension"), intensity=_num(d.get("intensity"), 0, 1, "intensity"),
                intensity_end=None if end is None else _num(end, 0, 1, "intensity_end"), instruments=instruments,
                density=None if dens is None else _num(dens, 0, 1, "density"),
                tempo=None if tempo is None else _num(tempo, 20, 300, "tempo_bpm"),
                percussion=perc if isinstance(perc, bool) else None, words=[], source=self.name)
        except Exception as exc:  # noqa: BLE001 - any failure of an optional backend: the lexicon takes over
            warnings.append(f"{self.name}: direction {text!r} fell back to the lexicon: {exc}")
            return parse_direction(text, strict=False)


def backend_from_env(url: str | None = None, model: str | None = None,
                     env: dict[str, str] | None = None) -> LLMBackend | None:
    """The configured backend (``url`` or ``SEGUE_LLM_URL``), or None when none is configured."""
    env = os.environ if env is None else env
    url = url or env.get("SEGUE_LLM_URL")
    if not url:
        return None
    timeout_text = env.get("SEGUE_LLM_TIMEOUT", "60")
    try:
        timeout = float(timeout_text)
    except ValueError:
        raise FilmError(f"SEGUE_LLM_TIMEOUT must be a number of seconds, got {timeout_text!r}") from None
    return LLMBackend(url=url, model=model or env.get("SEGUE_LLM_MODEL", "local"),
                      api_key=env.get("SEGUE_LLM_API_KEY") or None, timeout=timeout)
