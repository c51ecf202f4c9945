"""The benchmark suite: lexigram-http against raw aiohttp, httpx and tenacity, in one run.

``uv run python benchmarks/run.py`` (3-4 minutes; ``--quick``: under 1 minute;
``--json PATH``: where to write the results, default ``benchmarks/results/latest.json``).

A private nginx (one worker pinned to CPU 1) serves fixed payloads on 127.0.0.1; this process
is pinned to CPU 0, so the client is the bottleneck. Each group runs its variants interleaved
(A B C A B C ...) after a warm-up round; per variant and round it records the client's CPU
time per unit (``getrusage`` user + sys: the stable figure), units per second of wall time,
the time spent in the cyclic garbage collector (``gc.callbacks``), the collections run and
the objects they freed (plus what a ``gc.collect()`` right after the round still finds): the
cyclic garbage the work left behind. Ratios against the group's baseline (raw aiohttp) are
taken within each round, then the median (and min-max) over rounds is printed. The targets
of the issue are checked at the end. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import json
import logging
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Final

# Run as a script (``python benchmarks/run.py``), the helpers are imported as the package
# ``benchmarks`` (a namespace package at the repository root), as mypy sees them.
_ROOT: Final = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from benchmarks import _nginx, _variants  # noqa: E402
from benchmarks._variants import Variant  # noqa: E402

_DEFAULT_JSON: Final = _ROOT / "benchmarks" / "results" / "latest.json"
_CLIENT_CPU: Final = 0
_SERVER_CPU: Final = 1
_MEMORY_LABELS: Final = {
    "lexigram": "HTTPClient stream().ndjson()",
    "httpx": "httpx aiter_lines + json.loads",
    "aiohttp-read": "control: aiohttp resp.read() of the whole body",
}


# -- measuring -------------------------------------------------------------------------------


class _GcProbe:
    """Times the cyclic collector and counts its runs and the objects it freed."""

    __slots__ = ("collected", "runs", "seconds", "started")

    def __init__(self) -> None:
        self.seconds = 0.0
        self.started = 0.0
        self.runs = [0, 0, 0]
        self.collected = 0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self.started
            self.runs[info["generation"]] += 1
            self.collected += info["collected"]


@dataclass(slots=True)
class Sample:
    """One variant, one round."""

    operations: int
    units: int
    wall: float
    cpu: float
    gc_seconds: float
    gc_runs: list[int]
    garbage: int
    served: int | None


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _measure(variant: Variant, n: int, upstream: _nginx.Upstream, count: bool) -> Sample:
    """Run ``n`` operations of ``variant``; ``count``: also ask nginx how many requests it
    served meanwhile (two ``stub_status`` requests outside the measured span)."""
    gc.collect()
    served_before = upstream.requests_served() if count else 0
    probe = _GcProbe()
    gc.callbacks.append(probe)
    cpu = _cpu()
    wall = time.perf_counter()
    try:
        units = await variant.run(n)
        wall = time.perf_counter() - wall
        cpu = _cpu() - cpu
    finally:
        gc.callbacks.remove(probe)
    leftover = gc.collect()  # cyclic garbage made in the round and not collected yet
    served = upstream.requests_served() - served_before - 1 if count else None
    return Sample(
        n, units, wall, cpu, probe.seconds, probe.runs, probe.collected + leftover, served
    )


# -- groups ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Group:
    """Variants doing the same work; the first one is the baseline of the ratios."""

    key: str
    title: str
    unit: str  # what one displayed unit is: "req", "MiB", "line", "event", "call"
    unit_size: int  # units returned by Variant.run per displayed unit (bytes per MiB)
    build: Callable[[], Awaitable[list[Variant]]]
    n: int
    rounds: int
    warmup: int
    count_served: bool = False
    variants: list[str] = field(default_factory=list)
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def _per_unit(sample: Sample, unit_size: int) -> tuple[float, float]:
    """(units per second, CPU microseconds per unit) of a sample."""
    units = sample.units / unit_size
    return units / sample.wall, sample.cpu / units * 1e6


async def _run_group(group: Group, upstream: _nginx.Upstream) -> None:
    variants = await group.build()
    group.variants = [variant.name for variant in variants]
    group.samples = {variant.name: [] for variant in variants}
    try:
        if group.warmup:
            for variant in variants:
                await _measure(variant, group.warmup, upstream, False)
        for index in range(group.rounds):
            _progress(f"  {group.key}: round {index + 1}/{group.rounds}")
            for variant in variants:
                sample = await _measure(variant, group.n, upstream, group.count_served)
                group.samples[variant.name].append(sample)
    finally:
        for variant in variants:
            await variant.close()
    _progress("")


def _progress(text: str) -> None:
    if sys.stderr.isatty():
        sys.stderr.write(f"\r\x1b[K{text}")
        sys.stderr.flush()
    elif text:
        print(text, file=sys.stderr, flush=True)


# -- summaries -------------------------------------------------------------------------------


@dataclass(slots=True)
class Stat:
    """Median and range over rounds."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Stat:
        return cls(statistics.median(values), min(values), max(values))


def _summaries(group: Group) -> dict[str, dict[str, Stat]]:
    """Per variant: rate, CPU, the ratios to the baseline (within rounds), GC figures."""
    baseline = group.samples[group.variants[0]]
    result: dict[str, dict[str, Stat]] = {}
    for name in group.variants:
        series: dict[str, list[float]] = {}
        for sample, base in zip(group.samples[name], baseline, strict=True):
            rate, cpu = _per_unit(sample, group.unit_size)
            base_rate, base_cpu = _per_unit(base, group.unit_size)
            units = sample.units / group.unit_size
            figures = {
                "rate": rate,
                "cpu_us": cpu,
                "cpu_ratio": cpu / base_cpu,
                "rate_ratio": rate / base_rate,
                "gc_us": sample.gc_seconds / units * 1e6,
                "gen0_per_1k_units": sample.gc_runs[0] / units * 1000,
                "garbage_per_1k_units": sample.garbage / units * 1000,
            }
            if sample.served is not None:
                figures["requests_per_op"] = sample.served / sample.operations
            for key, value in figures.items():
                series.setdefault(key, []).append(value)
        result[name] = {key: Stat.of(values) for key, values in series.items()}
    return result


def _num(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _cell(stat: Stat, *, ratio: bool = False) -> str:
    if ratio:
        return f"{stat.median:.2f}x [{stat.low:.2f}-{stat.high:.2f}]"
    return f"{_num(stat.median)} [{_num(stat.low)}-{_num(stat.high)}]"


def _table(group: Group, summaries: dict[str, dict[str, Stat]]) -> str:
    base = group.variants[0]
    unit = group.unit
    head = [
        "variant",
        f"{unit}/s",
        f"CPU us/{unit}",
        "CPU vs base",
        f"{unit}/s vs base",
        f"GC us/{unit}",
        f"gen0/1k {unit}",
        f"cyclic/1k {unit}",
    ]
    if group.count_served:
        head.append("requests/call")
    rows = [head]
    for name in group.variants:
        stats = summaries[name]
        row = [
            name,
            _cell(stats["rate"]),
            _cell(stats["cpu_us"]),
            "baseline" if name == base else _cell(stats["cpu_ratio"], ratio=True),
            "baseline" if name == base else _cell(stats["rate_ratio"], ratio=True),
            _num(stats["gc_us"].median),
            _num(stats["gen0_per_1k_units"].median),
            _num(stats["garbage_per_1k_units"].median),
        ]
        if group.count_served:
            row.append(_num(stats["requests_per_op"].median))
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = [
        "  ".join(
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        )
        for row in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


# -- targets ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Target:
    """One promise of the issue, checked against the medians."""

    name: str
    goal: str
    measured: str
    met: bool | None  # None: could not be measured

    @property
    def verdict(self) -> str:
        return "n/a" if self.met is None else ("MET" if self.met else "MISSED")


def _ratio_between(group: Group, name: str, other: str, what: str) -> Stat:
    """Median over rounds of ``name``'s figure / ``other``'s, within each round."""
    values = []
    for sample, base in zip(group.samples[name], group.samples[other], strict=True):
        rate, cpu = _per_unit(sample, group.unit_size)
        base_rate, base_cpu = _per_unit(base, group.unit_size)
        values.append(rate / base_rate if what == "rate" else cpu / base_cpu)
    return Stat.of(values)


def _targets(
    groups: dict[str, Group],
    summaries: dict[str, dict[str, dict[str, Stat]]],
    memory: dict[str, Any] | None,
) -> list[Target]:
    targets: list[Target] = []
    c64 = groups.get("c64")
    if c64 is not None:
        s = summaries["c64"]
        base = c64.variants[0]
        full = s["HTTPClient full stack"]["cpu_ratio"]
        bare = s["HTTPClient bare"]["cpu_ratio"]
        targets.append(
            Target(
                "full stack CPU/request (c=64)",
                "<= 1.10x raw aiohttp",
                _cell(full, ratio=True),
                full.median <= 1.10,
            )
        )
        garbage_full = s["HTTPClient full stack"]["garbage_per_1k_units"].median
        garbage_base = s[base]["garbage_per_1k_units"].median
        targets.append(
            Target(
                "full stack GC: no cyclic garbage per request (c=64)",
                "cyclic objects/1k req <= raw aiohttp's + 1",
                f"{_num(garbage_full)} vs {_num(garbage_base)} per 1k req",
                garbage_full <= garbage_base + 1,
            )
        )
        targets.append(
            Target(
                "bare client CPU/request (c=64)",
                "<= 1.05x raw aiohttp",
                _cell(bare, ratio=True),
                bare.median <= 1.05,
            )
        )
    c64_httpx = groups.get("c64-httpx")
    if c64_httpx is not None:
        for ours in ("HTTPClient full stack", "HTTPClient bare"):
            vs_httpx = _ratio_between(c64_httpx, ours, "httpx AsyncClient", "rate")
            targets.append(
                Target(
                    f"{ours.removeprefix('HTTPClient ')} req/s vs httpx (c=64)",
                    ">= 10x httpx AsyncClient",
                    _cell(vs_httpx, ratio=True),
                    vs_httpx.median >= 10,
                )
            )
    for key, ours, peer, label in (
        ("ndjson", "HTTPClient stream().ndjson()", "httpx aiter_lines", "NDJSON objects/s"),
        ("lines", "HTTPClient stream().lines()", "httpx aiter_lines", "NDJSON lines/s (raw)"),
        ("sse", "HTTPClient stream().sse()", "httpx-sse aconnect_sse", "SSE events/s"),
    ):
        group = groups.get(key)
        if group is None:
            continue
        if ours not in group.samples:
            targets.append(Target(label, f">= 2x {peer}", "stream() not available", None))
            continue
        ratio = _ratio_between(group, ours, peer, "rate")
        targets.append(
            Target(
                f"{label} through stream()",
                f">= 2x {peer}",
                _cell(ratio, ratio=True),
                ratio.median >= 2,
            )
        )
    if memory is not None:
        ours_mem = memory.get("lexigram")
        if ours_mem is None:
            targets.append(
                Target("peak RSS growth, 100 MB NDJSON", "< 20 MB", "stream() not available", None)
            )
        else:
            growth = ours_mem["growth_mb"]
            targets.append(
                Target(
                    "peak RSS growth, 100 MB NDJSON stream()",
                    "< 20 MB",
                    f"{growth:.1f} MB",
                    growth < 20,
                )
            )
    return targets


# -- the memory probe (a fresh interpreter per client) ---------------------------------------


def _status_kib(field: str) -> int:
    """A ``kB`` field of ``/proc/self/status`` (``VmRSS``, ``VmHWM``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(field)


def _maxrss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def _reset_peak_rss() -> bool:
    """Reset the peak RSS to the current RSS (Linux >= 4.0); False where unsupported.

    Without it only growth beyond the peak of the imports would show: ``ru_maxrss`` cannot
    be reset.
    """
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _memory_child(which: str, url: str, warm_url: str) -> None:
    """Run in a fresh interpreter: stream the NDJSON once, print the peak RSS growth."""

    async def main() -> dict[str, Any]:
        # Imports done, loop running, one small request through a client of the kind: what
        # is measured from here on is the stream.
        await _variants.warm(warm_url, which)
        gc.collect()
        exact = _reset_peak_rss()
        before = _status_kib("VmRSS") if exact else _maxrss_kib()
        started = time.perf_counter()
        count = await _variants.memory_probe(url, which)
        seconds = time.perf_counter() - started
        peak = _status_kib("VmHWM") if exact else _maxrss_kib()
        return {
            "objects": count,
            "seconds": seconds,
            "method": "VmHWM after clear_refs" if exact else "ru_maxrss",
            "rss_before_mb": before / 1024,
            "peak_mb": peak / 1024,
            "growth_mb": (peak - before) / 1024,
        }

    print(json.dumps(asyncio.run(main())))


def _memory(upstream: _nginx.Upstream) -> dict[str, Any]:
    """Peak RSS growth of each memory probe, each in a fresh interpreter."""
    results: dict[str, Any] = {}
    for which in _variants.MEMORY_PROBES:
        if which == "lexigram" and not _variants.has_stream():
            print("memory: HTTPClient.stream() not available, skipped", flush=True)
            continue
        _progress(f"  memory: {which}")
        command = [sys.executable, __file__, "--memory-child", which]
        command += [upstream.url(_nginx.NDJSON_PATH), upstream.url(_nginx.SMALL_PATH)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"memory probe ({which}) failed:\n{done.stderr}")
        results[which] = json.loads(done.stdout.strip().splitlines()[-1])
    _progress("")
    return results


# -- the suite -------------------------------------------------------------------------------


def _groups(upstream: _nginx.Upstream, quick: bool) -> list[Group]:
    """The suite. Counts are sized for 3-4 minutes in all (``quick``: under 1): this VM's
    CPU speed drifts by 10-15 % from one second to the next, so many short interleaved rounds
    (medians of within-round ratios) beat a few long ones."""
    small = upstream.url(_nginx.SMALL_PATH)
    base = upstream.url("")

    def requests(concurrency: int, *only: str) -> Callable[[], Awaitable[list[Variant]]]:
        return lambda: _variants.request_variants(small, base, _nginx.SMALL_PATH, concurrency, only)

    ndjson = upstream.url(_nginx.NDJSON_RATE_PATH)
    return [
        Group(
            "c64",
            "small JSON GET, concurrency 64, pool of 64",
            "req",
            1,
            requests(
                64, "aiohttp-timeouts", "bare", "full", "baseurl", "tenacity", "aiohttp-retry"
            ),
            n=1000,
            rounds=4 if quick else 40,
            warmup=640,
        ),
        Group(
            # httpx takes 10-40x as long per request: its own group, fewer rounds.
            "c64-httpx",
            "small JSON GET, concurrency 64, against httpx",
            "req",
            1,
            requests(64, "bare", "full", "httpx", "niquests", "pyreqwest"),
            n=640 if quick else 1000,
            rounds=2 if quick else 6,
            warmup=640,
        ),
        Group(
            "c1",
            "small JSON GET, concurrency 1",
            "req",
            1,
            requests(1, "bare", "full", "baseurl", "tenacity", "aiohttp-retry", "httpx"),
            n=300 if quick else 600,
            rounds=2 if quick else 12,
            warmup=100,
        ),
        Group(
            "body",
            "1 MiB GET, concurrency 4",
            "MiB",
            1 << 20,
            lambda: _variants.body_variants(upstream.url(_nginx.BODY_PATH), 4),
            n=30 if quick else 60,
            rounds=2 if quick else 16,
            warmup=8,
        ),
        Group(
            "retry",
            f"503 endpoint, {_variants.RETRY_ATTEMPTS} attempts per call, no back-off, c=64",
            "call",
            1,
            lambda: _variants.retry_variants(upstream.url(_nginx.ERROR_PATH), 64),
            n=200 if quick else 500,
            rounds=2 if quick else 16,
            warmup=100,
            count_served=True,
        ),
        Group(
            "ndjson",
            "~20 MB NDJSON stream, decoded to objects",
            "line",
            1,
            lambda: _variants.ndjson_variants(ndjson, decode=True),
            n=1,
            rounds=1 if quick else 5,
            warmup=0,
        ),
        Group(
            "lines",
            "~20 MB NDJSON stream, text lines only",
            "line",
            1,
            lambda: _variants.ndjson_variants(ndjson, decode=False),
            n=1,
            rounds=1 if quick else 5,
            warmup=0,
        ),
        Group(
            "sse",
            "~25 MB SSE stream, events",
            "event",
            1,
            lambda: _variants.sse_variants(upstream.url(_nginx.SSE_PATH)),
            n=1,
            rounds=1 if quick else 4,
            warmup=0,
        ),
    ]


def _machine(upstream: _nginx.Upstream) -> dict[str, Any]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions = {
        name: metadata.version(name)
        for name in (
            "aiohttp",
            "aiohttp-retry",
            "httpx",
            "httpx-sse",
            "msgspec",
            "niquests",
            "pyreqwest",
            "tenacity",
            "lexigram-http-core",
        )
    }
    return {
        "cpu_model": model,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "nginx": upstream.version,
        "versions": versions,
        "load_average_start": os.getloadavg(),
    }


def _pin(cpu: int) -> bool:
    try:
        if len(os.sched_getaffinity(0)) < 2:
            return False
        os.sched_setaffinity(0, {cpu})
    except (AttributeError, OSError):
        return False
    return True


async def _suite(groups: list[Group], upstream: _nginx.Upstream) -> None:
    # SIGTERM cancels the run as asyncio.run's own SIGINT handler does: a CancelledError at an
    # await, not an exception raised inside some library callback.
    task = asyncio.current_task()
    if task is not None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    for group in groups:
        print(f"running {group.key}: {group.title} ...", file=sys.stderr, flush=True)
        await _run_group(group, upstream)
        if any(name.startswith("HTTPClient stream") for name in group.variants):
            continue
        if group.key in ("ndjson", "lines", "sse"):
            group.skipped.append("HTTPClient stream(): not available")


_GROUP_KEYS: Final = ("c64", "c64-httpx", "c1", "body", "retry", "ndjson", "lines", "sse")


def _print_report(
    groups: list[Group],
    summaries: dict[str, dict[str, dict[str, Stat]]],
    memory: dict[str, Any] | None,
    targets: list[Target],
) -> None:
    for group in groups:
        rounds = len(group.samples[group.variants[0]])
        base = group.variants[0]
        print(f"\n== {group.title}  [{group.key}: {rounds} rounds x {group.n} per variant]")
        print(f"   median [min-max] over rounds; ratios within each round to '{base}'")
        print(_table(group, summaries[group.key]))
        for skipped in group.skipped:
            print(f"   skipped: {skipped}")
    if memory is not None:
        print("\n== peak RSS growth while streaming ~100 MB of NDJSON (a fresh process each)")
        for which, figures in memory.items():
            print(
                f"{_MEMORY_LABELS[which]:<44} {figures['growth_mb']:7.1f} MB  (RSS"
                f" {figures['rss_before_mb']:.0f} MB, peak {figures['peak_mb']:.0f} MB;"
                f" {figures['objects']:,} lines in {figures['seconds']:.1f} s)"
            )
    print("\n== targets")
    width = max((len(target.name) for target in targets), default=0)
    for target in targets:
        print(
            f"{target.verdict:<7} {target.name:<{width}}  {target.measured}  (goal {target.goal})"
        )


def _document(
    args: argparse.Namespace,
    elapsed: float,
    machine: dict[str, Any],
    upstream: _nginx.Upstream,
    groups: list[Group],
    summaries: dict[str, dict[str, dict[str, Stat]]],
    memory: dict[str, Any] | None,
    targets: list[Target],
) -> dict[str, Any]:
    """Everything measured, every sample included, for the JSON file."""
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "seconds": elapsed,
        "machine": machine,
        "payloads": {
            path: {"what": what, "bytes": upstream.sizes.get(path)}
            for path, what in _nginx.PAYLOADS.items()
        },
        "groups": {
            group.key: {
                "title": group.title,
                "unit": group.unit,
                "per_round": group.n,
                "rounds": group.rounds,
                "baseline": group.variants[0],
                "skipped": group.skipped,
                "variants": {
                    name: {
                        "summary": {k: asdict(v) for k, v in summaries[group.key][name].items()},
                        "samples": [asdict(sample) for sample in group.samples[name]],
                    }
                    for name in group.variants
                },
            }
            for group in groups
        },
        "memory": memory,
        "targets": [asdict(target) | {"verdict": target.verdict} for target in targets],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="benchmarks/run.py", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--quick", action="store_true", help="a ~1-minute smoke run")
    parser.add_argument(
        "--json", type=Path, default=_DEFAULT_JSON, help="results file (default: %(default)s)"
    )
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="GROUP",
        choices=(*_GROUP_KEYS, "memory"),
        help=f"run only these groups: {', '.join(_GROUP_KEYS)}, memory",
    )
    parser.add_argument("--memory-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        _memory_child(*args.memory_child)
        return 0

    # A 503 makes the client log a warning per attempt; logs are not what is measured.
    logging.getLogger("lexigram").setLevel(logging.ERROR)
    # Outside the event loop, SIGTERM ends the run through the finally blocks too.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    started = time.perf_counter()
    pinned = _pin(_CLIENT_CPU)
    upstream = _nginx.Upstream(cpu=_SERVER_CPU if pinned else None)
    try:
        upstream.start()
        groups = _groups(upstream, args.quick)
        if args.only:
            groups = [group for group in groups if group.key in args.only]
        machine = _machine(upstream)
        print(
            f"nginx {upstream.version} on 127.0.0.1:{upstream.port}"
            f" (CPU {_SERVER_CPU if pinned else 'any'}), client on CPU"
            f" {_CLIENT_CPU if pinned else 'any'}; {machine['cpu_model']}, {machine['cpus']}"
            f" CPUs; load average {machine['load_average_start'][0]:.2f}",
            flush=True,
        )
        if not _variants.has_stream():
            print("HTTPClient.stream(): not available, its variants are skipped", flush=True)
        asyncio.run(_suite(groups, upstream))
        memory = None
        if not args.only or "memory" in args.only:
            print("running memory: peak RSS, ~100 MB NDJSON stream ...", file=sys.stderr)
            memory = _memory(upstream)
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("\ninterrupted: nginx stopped, no results written", file=sys.stderr)
        return 130
    finally:
        upstream.stop()
    machine["load_average_end"] = os.getloadavg()

    summaries = {group.key: _summaries(group) for group in groups}
    targets = _targets({group.key: group for group in groups}, summaries, memory)
    _print_report(groups, summaries, memory, targets)
    elapsed = time.perf_counter() - started
    print(
        f"\n{elapsed:.0f} s in all; load average {machine['load_average_end'][0]:.2f} at the end"
        " (figures are only as good as the machine was quiet)"
    )
    document = _document(args, elapsed, machine, upstream, groups, summaries, memory, targets)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(document, indent=2) + "\n")
    print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
