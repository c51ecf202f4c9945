"""JSON parsers on the streaming shapes: instructions per document, counted by callgrind.

The candidates for the ``speedups`` extra (orjson, msgspec) against the standard library, on
the two documents ``benchmarks/bench_streaming.py`` and ``_nginx`` stream: one NDJSON line
(~85 B) and one LLM-style SSE event's data (~150 B). Also lexigram's own entry points: the
SSE ``ServerSentEvent.json()`` and the parse behind ``HttpResponse.json``, each with the fast
parser and with the standard library only (``use_fast_json``). Each parser runs in its own
process under ``valgrind --tool=callgrind``, once with 0 and once with N parses after the same
warm-up; the difference divided by N is its cost per document.

Run: ``uv run python benchmarks/bench_json.py [--parses 20000]`` (a few seconds a process).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from json.decoder import JSONDecoder
from pathlib import Path
from typing import Any, Final

_ROOT: Final = Path(__file__).resolve().parent.parent

SHAPES: Final = {
    "ndjson line": (
        '{"id":1234,"object":"chunk","choices":[{"index":0,"delta":{"content":"tok 01234"}}]}'
    ),
    "SSE event data": json.dumps(
        {
            "id": "chatcmpl-9zL1",
            "object": "chat.completion.chunk",
            "created": 1718000000,
            "model": "gpt-4o-mini",
            "choices": [{"index": 0, "delta": {"content": " token17"}}],
        },
        separators=(",", ":"),
    ),
}
PARSERS: Final = (
    "json.loads(str)",
    "json scan_once(str)",
    "orjson.loads(bytes)",
    "orjson.loads(str)",
    "msgspec decode(bytes)",
    "msgspec decode(str)",
    "ServerSentEvent.json() msgspec",
    "ServerSentEvent.json() stdlib",
    "HttpResponse.json msgspec",
    "HttpResponse.json stdlib",
)
_WARMUP: Final = 2000
_TOTALS: Final = re.compile(r"^(?:summary|totals):\s+(\d+)", re.MULTILINE)


def _parser(name: str, text: str) -> Callable[[], Any]:
    """A call parsing ``text`` once with ``name``."""
    data = text.encode()
    if name == "json.loads(str)":
        return lambda: json.loads(text)
    if name == "json scan_once(str)":
        scan = JSONDecoder().scan_once  # type: ignore[attr-defined]
        return lambda: scan(text, 0)
    if name.startswith("orjson"):
        import orjson

        loads = orjson.loads
        return (lambda: loads(data)) if "bytes" in name else (lambda: loads(text))
    if name.startswith("msgspec"):
        from msgspec.json import Decoder

        decode = Decoder().decode
        return (lambda: decode(data)) if "bytes" in name else (lambda: decode(text))
    from lexigram.contracts.web import HttpResponse, ServerSentEvent
    from lexigram.http import use_fast_json

    use_fast_json(name.endswith("msgspec"))
    if name.startswith("ServerSentEvent"):
        event = ServerSentEvent(data=text)
        return event.json
    # A new response each time: HttpResponse caches its parsed body.
    return lambda: HttpResponse(200, body=data).json


def _child(name: str, shape: str, parses: int) -> None:
    parse = _parser(name, SHAPES[shape])
    for _ in range(_WARMUP):
        parse()
    for _ in range(parses):
        parse()


def _count(valgrind: str, name: str, shape: str, parses: int) -> int:
    from benchmarks._callgrind import run_under_callgrind

    return run_under_callgrind(valgrind, __file__, [name, shape, str(parses)], name)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parses", type=int, default=20_000, help="measured parses (20000)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, shape, parses = args.child
        _child(name, shape, int(parses))
        return
    # Imported here, not in the children (whose start-up it would slow down under callgrind).
    if str(_ROOT) not in sys.path:
        sys.path.insert(0, str(_ROOT))
    from benchmarks._callgrind import ensure_valgrind

    valgrind = ensure_valgrind()
    print(f"instructions per document (callgrind), {args.parses} parses after {_WARMUP}")
    for shape, text in SHAPES.items():
        print(f"\n{shape} ({len(text)} B)")
        baseline = 0.0
        for name in PARSERS:
            total = _count(valgrind, name, shape, args.parses)
            per = (total - _count(valgrind, name, shape, 0)) / args.parses
            baseline = baseline or per
            print(f"  {name:<34} {per:>8,.0f}  {per / baseline:.2f}x", flush=True)


if __name__ == "__main__":
    main()
