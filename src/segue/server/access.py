"""One access model for every door (issue 15): the live WebSocket, OSC, and the studio's REST and sockets.

* **Origin.** A browser sends ``Origin`` with every WebSocket handshake and cross-site POST; other
  programs (games, Max, curl) send none. A request *with* an Origin is accepted only from the page's
  own host (same origin as ``Host``), from a loopback page (``http://localhost:…``,
  ``http://127.0.0.1:…``) or from an origin given with ``--allow-origin``; anything else is refused, so
  a web page on the internet cannot drive or observe the music through the visitor's browser.
* **Tokens** are at least :data:`~segue.limits.MIN_TOKEN_CHARS` characters and compared in constant time.
* **State-changing REST** needs ``Content-Type: application/json`` (a cross-site "simple" request
  cannot send it without a preflight we never grant) and passes the Origin check.
* **OSC** with a token: a sender must first send ``/segue/hello <token>``; until then its datagrams are
  dropped without a reply. Without a token no reply to a sender is larger than its request, and
  subscriptions lapse after :data:`~segue.limits.SUBSCRIPTION_TTL_S` unless renewed.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from segue.limits import MIN_TOKEN_CHARS

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


class AccessError(ValueError):
    """A refused setting (a short token)."""


def check_token(token: str | None, what: str = "token") -> str | None:
    """``token`` if usable (None: no authentication), else :class:`AccessError` saying why."""
    if token is None:
        return None
    if not isinstance(token, str) or len(token) < MIN_TOKEN_CHARS:
        raise AccessError(f"{what} must be at least {MIN_TOKEN_CHARS} characters long")
    try:
        token.encode("utf-8")
    except UnicodeEncodeError:
        raise AccessError(f"{what} must be valid text (no lone surrogates)") from None
    return token


def same_token(given: object, token: str) -> bool:
    """Constant-time comparison; never raises (a lone surrogate or a non-string is simply wrong)."""
    if not isinstance(given, str):
        return False
    try:
        return hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8"))
    except UnicodeEncodeError:
        return False


def is_loopback(host: str) -> bool:
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def check_listener(host: str, token: str | None, what: str) -> str | None:
    """One rule for every door: a usable token (or none), and none only on loopback; AccessError otherwise."""
    check_token(token)
    if token is None and not is_loopback(host):
        raise AccessError(f"listening {what}on {host} (beyond loopback) needs a token")
    return token


def origin_allowed(origin: str | None, host_header: str | None = None, allowed: frozenset[str] = frozenset()) -> bool:
    """Whether a request carrying ``origin`` may proceed (None: not from a browser → yes)."""
    if origin is None:
        return True
    origin = origin.strip()
    if origin in allowed:
        return True
    try:
        parts = urlsplit(origin)
        hostname = parts.hostname
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not hostname:
        return False  # "null" (a sandboxed or file:// page) and anything odd
    if is_loopback(hostname):
        return True
    return host_header is not None and parts.netloc.lower() == host_header.strip().lower()
