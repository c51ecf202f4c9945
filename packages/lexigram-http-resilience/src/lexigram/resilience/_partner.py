"""What a partner's rate-limit headers say: how long until a spent quota resets.

Read from one response, per unit (``"requests"``, ``"tokens"``, or ``"*"`` for a signal that
does not name its unit):

- OpenAI: ``x-ratelimit-remaining-{requests,tokens}`` with ``x-ratelimit-reset-{…}`` as a Go
  duration (``1s``, ``6m0s``, ``20ms``, ``1h2m3.5s``);
- Anthropic: ``anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-remaining`` with
  ``…-reset`` as an RFC 3339 time;
- IETF (draft-ietf-httpapi-ratelimit-headers): ``RateLimit: "name";r=0;t=30`` (a policy's
  window in ``RateLimit-Policy: "name";q=100;w=60`` when ``t`` is missing), the older
  ``RateLimit: limit=100, remaining=0, reset=30`` and ``RateLimit-Remaining`` /
  ``RateLimit-Reset``;
- a ``429`` (or ``503``) with ``Retry-After`` / ``retry-after-ms``.

A quota counts as spent when its remaining count is 0; unreadable values are ignored (a partner's
odd header must never break a call).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Final

from lexigram.contracts.web import Headers
from lexigram.resilience._retry import parse_retry_after

__all__ = ["exhausted_for", "parse_go_duration"]

_GO_PART: Final = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(h|ms|us|µs|ns|m|s)")
_GO_UNITS: Final = {
    "h": 3600.0,
    "m": 60.0,
    "s": 1.0,
    "ms": 1e-3,
    "us": 1e-6,
    "µs": 1e-6,
    "ns": 1e-9,
}
_UNITS: Final = ("requests", "tokens")
_ANTHROPIC: Final = (
    ("requests", "requests"),
    ("tokens", "tokens"),
    ("input-tokens", "tokens"),
    ("output-tokens", "tokens"),
)
_MAX_RESET: Final = 24 * 3600.0
"""Longest reset believed (a day): a wild value must not block a fleet for a year."""


def parse_go_duration(text: str) -> float | None:
    """Seconds in a Go duration such as ``6m0s`` or ``20ms`` (OpenAI's reset headers).

    A bare number counts as seconds; ``None`` when unreadable.
    """
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        pass
    else:
        return value if math.isfinite(value) and value >= 0 else None
    total, position = 0.0, 0
    for match in _GO_PART.finditer(text):
        if match.start() != position:
            return None
        total += float(match.group(1)) * _GO_UNITS[match.group(2)]
        position = match.end()
    return total if position == len(text) else None


def _count(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _rfc3339(value: str, wall_clock: Callable[[], float]) -> float | None:
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, moment.timestamp() - wall_clock())


def _merge(found: dict[str, float], unit: str, seconds: float | None) -> None:
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return
    seconds = min(seconds, _MAX_RESET)
    if seconds > found.get(unit, -1.0):
        found[unit] = seconds


def _ietf_params(item: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for part in item.split(";")[1:]:
        name, _, value = part.partition("=")
        params[name.strip().lower()] = value.strip().strip('"')
    return params


def _ietf(headers: Headers | Mapping[str, str], found: dict[str, float]) -> None:
    field = headers.get("ratelimit")
    if field is not None:
        if ";" in field:  # structured: "name";r=0;t=30, one item per policy
            windows: dict[str, float] = {}
            policy = headers.get("ratelimit-policy")
            if policy is not None:
                for item in policy.split(","):
                    name = item.split(";")[0].strip().strip('"')
                    width = _count(_ietf_params(item).get("w"))
                    if width is not None:
                        windows[name] = width
            for item in field.split(","):
                params = _ietf_params(item)
                if _count(params.get("r")) != 0:
                    continue
                reset = _count(params.get("t"))
                if reset is None:
                    reset = windows.get(item.split(";")[0].strip().strip('"'))
                _merge(found, "*", reset)
        else:  # older drafts: limit=100, remaining=0, reset=30
            pairs = {
                name.strip().lower(): value.strip()
                for name, _, value in (part.partition("=") for part in field.split(","))
            }
            if _count(pairs.get("remaining")) == 0:
                _merge(found, "*", _count(pairs.get("reset")))
    if _count(headers.get("ratelimit-remaining")) == 0:
        _merge(found, "*", _count(headers.get("ratelimit-reset")))


def exhausted_for(
    status: int,
    headers: Headers | Mapping[str, str],
    wall_clock: Callable[[], float] = time.time,
) -> dict[str, float]:
    """Seconds until each spent quota resets, by unit (``requests``, ``tokens`` or ``*``).

    Empty when the response says nothing is spent. ``wall_clock`` reads absolute times
    (Anthropic's resets, HTTP dates). Pass a case-insensitive :class:`Headers` (responses have
    one), or a mapping with lower-case names.
    """
    found: dict[str, float] = {}
    for unit in _UNITS:
        if _count(headers.get(f"x-ratelimit-remaining-{unit}")) == 0:
            reset = headers.get(f"x-ratelimit-reset-{unit}")
            _merge(found, unit, None if reset is None else parse_go_duration(reset))
    for name, unit in _ANTHROPIC:
        if _count(headers.get(f"anthropic-ratelimit-{name}-remaining")) == 0:
            reset = headers.get(f"anthropic-ratelimit-{name}-reset")
            _merge(found, unit, None if reset is None else _rfc3339(reset, wall_clock))
    _ietf(headers, found)
    if status in (429, 503):
        _merge(found, "*", parse_retry_after(headers, wall_clock))
    return found
