"""The JSON parser behind ``HttpResponse.json``, ``ServerSentEvent.json()`` and ``ndjson()``.

The standard library's ``json`` defines every result and every error. This package imports
nothing else: lexigram-http-core, when imported, installs a fast decoder here (msgspec, from its
``speedups`` extra; see ``lexigram.http.use_fast_json``). That decoder parses first; whatever
it refuses goes to ``json.loads``, which then gives the standard answer or raises the standard
error, so the fast path only ever changes the speed (the tests run both paths on the same
inputs).
"""

from __future__ import annotations

import json as _jsonlib
from collections.abc import Callable
from json.decoder import JSONDecoder
from typing import Any, Final

__all__: list[str] = []

_Decode = Callable[[bytes | str], Any]

_stdlib_loads: Final = _jsonlib.loads
# The C scanner behind json.loads, without its per-call type checks and its two whitespace
# regex runs: about half the cost of json.loads on a compact document. Anything it does not
# accept outright goes through json.loads, which gives the exact answer or error.
_scan_once: Final[Callable[[str, int], tuple[Any, int]]] = JSONDecoder().scan_once  # type: ignore[attr-defined]


# The fast decoder in use (None: the standard library only). Read at each call, so a switch
# applies to the responses and streams that parse afterwards.
_fast: _Decode | None = None


def _set_fast(decode: _Decode | None) -> _Decode | None:
    """Install ``decode`` as the fast decoder (``None``: the stdlib only); the previous one."""
    global _fast
    previous, _fast = _fast, decode
    return previous


def _loads(data: bytes | str) -> Any:
    """``json.loads(data)``: the same value or the same error, through msgspec when enabled."""
    decode = _fast
    if decode is not None:
        try:
            return decode(data)
        except Exception:  # json.loads below gives the answer or the error
            pass
    return _stdlib_loads(data)


def _loads_text(text: str) -> Any:
    """``json.loads(text)`` for a ``str``: msgspec when enabled, else the C scanner, each
    falling back to ``json.loads`` for anything it does not accept outright."""
    decode = _fast
    if decode is not None:
        try:
            return decode(text)
        except Exception:  # json.loads below gives the answer or the error
            pass
    else:
        try:
            value, end = _scan_once(text, 0)
        except Exception:  # StopIteration, errors: json.loads decides
            pass
        else:
            if end == len(text):
                return value
    return _stdlib_loads(text)
