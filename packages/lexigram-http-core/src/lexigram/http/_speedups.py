"""The ``speedups`` extra: msgspec parses JSON for responses, NDJSON and SSE events.

``pip install 'lexigram-http-core[speedups]'`` adds aiohttp's C speedups (Brotli, zstd, aiodns)
and msgspec. When msgspec is importable, importing ``lexigram.http`` installs its decoder as
the fast JSON parser of the contracts (``HttpResponse.json``, ``ServerSentEvent.json()``) and
of ``ndjson()``; lexigram-http-contracts itself stays free of dependencies.

The standard library's ``json`` still defines every result and every error: msgspec parses
first, and whatever it refuses goes to ``json.loads``, which gives the standard answer or
raises the standard error. Where msgspec accepts a document it gives the value ``json.loads``
gives: duplicate keys (the last wins, in the first key's place), integers of any size (orjson,
measured too, turns integers past 64 bits into floats), correctly rounded floats, U+2028. What
it refuses and ``json`` accepts (``NaN``, ``Infinity``, numbers that overflow to ``inf``, lone
surrogate escapes, a UTF-8 BOM or UTF-16/32 bytes, integers past its range) is parsed by
``json``. One difference remains, with nesting: ``json`` nests as deep as the recursion limit
allows from where it is called, msgspec to its own fixed depth; a document nested hundreds of
levels deep, parsed from an already deep call stack, may raise ``RecursionError`` with one and
parse with the other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from lexigram.contracts.web import _json

__all__ = ["fast_json_available", "use_fast_json"]


def _import_fast() -> Callable[[bytes | str], Any] | None:
    try:
        from msgspec.json import Decoder
    except ImportError:
        return None
    decode: Callable[[bytes | str], Any] = Decoder().decode
    return decode


_AVAILABLE: Final = _import_fast()
_json._set_fast(_AVAILABLE)


def fast_json_available() -> bool:
    """Whether the fast JSON parser (msgspec, the ``speedups`` extra) is installed."""
    return _AVAILABLE is not None


def use_fast_json(enabled: bool) -> bool:
    """Parse JSON with msgspec when ``enabled`` (the default when it is installed), else with
    the standard library's ``json`` only. Returns the previous setting.

    Both give the same values and the same errors; the switch exists for tests and for
    measuring. It applies to every client, and to responses and streams parsed afterwards.
    Raises :class:`ImportError` with an install hint when ``enabled`` and msgspec is not
    installed.
    """
    if not isinstance(enabled, bool):
        raise TypeError(f"enabled must be a bool, not {type(enabled).__name__}")
    if enabled and _AVAILABLE is None:
        raise ImportError(
            "the fast JSON parser needs msgspec: pip install 'lexigram-http-core[speedups]'"
        )
    previous = _json._set_fast(_AVAILABLE if enabled else None)
    return previous is not None
