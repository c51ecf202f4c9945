"""Instructions per request, counted by callgrind: a figure the machine's load cannot move.

``benchmarks/run.py`` reports CPU time per request, which on a shared 2-core VM drifts by
10-15 % between rounds. Here each variant of the small-JSON group runs in its own process under
``valgrind --tool=callgrind``, which counts the instructions the client process executes
(interpreter, aiohttp, C extensions, kernel entry points excluded). Each variant runs twice,
with 0 and with N measured requests after the same warm-up, and the difference divided by N is
its cost per request, start-up and teardown cancelled out.

The requests of a child are one steady stream (``_stream``): ``concurrency`` workers start
once, the warm-up's 200 calls and the N measured ones follow without a pause, and a full
collection runs during the warm-up; so the figure is the steady state's, the workers' ramp-up
and final drain cancelling out. The children import from cached bytecode and share one hash
seed (``_callgrind``; ``--hash-seed`` picks another). Repeat runs agree to within about
0.3 % at both concurrencies; different seeds to within about 0.5 %.

The NDJSON group reads a ~1 MB NDJSON body (about 12k objects) once after a warm-up read and
reports instructions per object: ``ndjson()`` with msgspec (the ``speedups`` extra), ``ndjson()``
with the standard library only (``use_fast_json(False)``), httpx ``aiter_lines()`` +
``json.loads``. The targets of issue 20 are checked at the end: met or missed.

Run: ``uv run python benchmarks/bench_icount.py [--requests 500] [--concurrency 64 1]
[--variants ...] [--ndjson/--no-ndjson] [--hash-seed 0]`` (about 1 minute per variant and
concurrency, more for httpx and niquests; two processes at a time). valgrind is installed
with apt-get when missing, as nginx is.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import re
import signal
import sys
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Final

# Run as a script, the helpers are imported as the package ``benchmarks`` (as run.py does).
_ROOT: Final = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from benchmarks._callgrind import ensure_valgrind, run_under_callgrind  # noqa: E402
from benchmarks._nginx import NDJSON_SMALL_PATH, SMALL_PATH, Upstream  # noqa: E402
from benchmarks._variants import ndjson_variants, request_variants  # noqa: E402
from lexigram.http import use_fast_json  # noqa: E402

VARIANTS: Final = {
    "aiohttp": "aiohttp ClientSession (raw)",
    "bare": "HTTPClient bare",
    "baseurl": "BaseURLHTTPClient",
    "full": "HTTPClient full stack",
    "aiohttp-retry": "aiohttp + aiohttp-retry",
    "tenacity": "aiohttp + tenacity @retry",
    "niquests": "niquests AsyncSession",
    "httpx": "httpx AsyncClient",
    "pyreqwest": "pyreqwest Client (Rust)",
}
"""Keys of the variants measured (see ``_variants.request_variants``), baseline first."""
NDJSON: Final = {
    "ndjson-fast": ("HTTPClient stream().ndjson()", "ndjson(), msgspec (speedups)"),
    "ndjson-stdlib": ("HTTPClient stream().ndjson()", "ndjson(), stdlib json"),
    "ndjson-httpx": ("httpx aiter_lines", "httpx aiter_lines + json.loads"),
}
"""NDJSON keys: (variant name in ``_variants.ndjson_variants``, label)."""
TARGETS: Final = {"full": 1.10, "bare": 1.05}
"""Issue 20: instructions per request at most this many times raw aiohttp's."""
NDJSON_TARGET: Final = 2.0
"""Issue 20: ``ndjson()`` with the extra at least this many times cheaper than httpx."""
_WARMUP: Final = 200
_COLLECT_AT: Final = 150
"""The call of the warm-up at whose start a full collection runs (see ``_stream``)."""


async def _child(url: str, key: str, requests: int, concurrency: int) -> None:
    """Run one variant's stream of calls (inside callgrind): see :func:`_stream`."""
    base, _, path = url.rpartition("/")
    variants = await request_variants(url, base, "/" + path, concurrency, {key})
    chosen = [variant for variant in variants if variant.name == VARIANTS[key]]
    if len(chosen) != 1 or chosen[0].once is None:
        raise SystemExit(f"no variant {key!r} among {[v.name for v in variants]}")
    await _stream(chosen[0].once, _WARMUP + requests, concurrency)
    for variant in variants:
        await variant.close()


async def _stream(once: Callable[[], Awaitable[object]], calls: int, concurrency: int) -> None:
    """``calls`` calls of ``once``, ``concurrency`` in flight, as one stream: the warm-up and
    the measured calls follow each other without a pause, and a full collection runs as call
    ``_COLLECT_AT`` starts.

    The two children of a variant (0 and N measured calls) run the same first ``_WARMUP``
    calls, so their difference is N calls of the steady state: the ramp-up of the workers
    (concurrency coroutines starting at once, and the young-generation collections their
    allocations trigger) and the final drain fall on both sides and cancel out. The full
    collection moves the warm-up's garbage out of the young generations, so that a
    collection of the older ones does not fall inside one variant's measured part (it alone
    adds about 40k instructions per request)."""
    started = 0

    async def worker() -> None:
        nonlocal started
        while started < calls:
            started += 1
            if started == _COLLECT_AT:
                gc.collect()
            await once()

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def _ndjson_child(url: str, key: str, streams: int) -> None:
    """Read the NDJSON body ``streams`` times after one warm-up read (inside callgrind);
    print the objects of one read."""
    name = NDJSON[key][0]
    use_fast_json(key == "ndjson-fast")
    variants = await ndjson_variants(url, decode=True)
    chosen = [variant for variant in variants if variant.name == name]
    if len(chosen) != 1:
        raise SystemExit(f"no variant {name!r} among {[v.name for v in variants]}")
    objects = await chosen[0].run(1)
    gc.collect()
    if streams:
        await chosen[0].run(streams)
    for variant in variants:
        await variant.close()
    print(f"objects={objects}")


def _count(
    valgrind: str, url: str, key: str, requests: int, concurrency: int, hash_seed: int
) -> tuple[int, int]:
    """Instructions of one child process run under callgrind, and the objects of one NDJSON
    read (0 for the request variants)."""
    total, stdout = run_under_callgrind(
        valgrind, __file__, [url, key, str(requests), str(concurrency)], key, hash_seed=hash_seed
    )
    objects = re.search(r"^objects=(\d+)$", stdout, re.MULTILINE)
    return total, int(objects.group(1)) if objects else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="measured requests (500)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[64, 1])
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--ndjson", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument(
        "--hash-seed", type=int, default=0, help="PYTHONHASHSEED of every child (0)"
    )
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        url, key, requests, concurrency = args.child
        if key in NDJSON:
            asyncio.run(_ndjson_child(url, key, int(requests)))
        else:
            asyncio.run(_child(url, key, int(requests), int(concurrency)))
        return
    valgrind = ensure_valgrind()
    # SIGTERM ends the run through the finally block below, so nginx is stopped by its PID.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    upstream = Upstream(cpu=None)
    upstream.start()
    try:
        url = upstream.url(SMALL_PATH)
        ndjson_url = upstream.url(NDJSON_SMALL_PATH)
        jobs = [
            (key, concurrency, requests)
            for concurrency in args.concurrency
            for key in args.variants
            for requests in (0, args.requests)
        ]
        if args.ndjson:
            jobs += [(key, 1, streams) for key in NDJSON for streams in (0, 1)]
        with ThreadPoolExecutor(max_workers=2) as pool:
            totals = list(
                pool.map(
                    lambda job: _count(
                        valgrind,
                        ndjson_url if job[0] in NDJSON else url,
                        job[0],
                        job[2],
                        job[1],
                        args.hash_seed,
                    ),
                    jobs,
                )
            )
    finally:
        upstream.stop()
    counts = dict(zip(jobs, totals, strict=True))
    verdicts: list[str] = []
    if args.variants:
        print(
            f"instructions per request (callgrind), {args.requests} requests after {_WARMUP}"
            f" in one stream, PYTHONHASHSEED={args.hash_seed}"
        )
    for concurrency in args.concurrency if args.variants else ():
        print(f"\nconcurrency {concurrency}")
        per = {
            key: (counts[key, concurrency, args.requests][0] - counts[key, concurrency, 0][0])
            / args.requests
            for key in args.variants
        }
        baseline = per.get("aiohttp")
        for key, value in per.items():
            ratio = "" if baseline is None else f"  {value / baseline:.3f}x"
            print(f"  {VARIANTS[key]:<32} {value:>10,.0f}{ratio}")
            if baseline is not None and key in TARGETS:
                goal = TARGETS[key]
                met = "met" if value / baseline <= goal else "MISSED"
                verdicts.append(
                    f"{VARIANTS[key]} <= {goal:.2f}x raw aiohttp at c={concurrency}: "
                    f"{value / baseline:.3f}x, {met}"
                )
    if args.ndjson:
        print("\nNDJSON, instructions per object (one ~1 MB read after a warm-up read)")
        objects: dict[str, float] = {}
        for key, (_, label) in NDJSON.items():
            total, count = counts[key, 1, 1]
            objects[key] = (total - counts[key, 1, 0][0]) / count
            print(f"  {label:<32} {objects[key]:>10,.0f}")
        for key in ("ndjson-fast", "ndjson-stdlib"):
            speedup = objects["ndjson-httpx"] / objects[key]
            print(f"  {NDJSON[key][1]} vs httpx: {speedup:.2f}x")
        speedup = objects["ndjson-httpx"] / objects["ndjson-fast"]
        met = "met" if speedup >= NDJSON_TARGET else "MISSED"
        verdicts.append(
            f"ndjson() with the extra >= {NDJSON_TARGET:.1f}x httpx: {speedup:.2f}x, {met}"
        )
    if verdicts:
        print("\ntargets (issue 20)")
        for verdict in verdicts:
            print(f"  {verdict}")


if __name__ == "__main__":
    main()
