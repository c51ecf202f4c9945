"""Micro-benchmark: ``await container.resolve(T)`` for a built singleton vs. the floor.

The floor is what any async lookup costs in CPython: a dict lookup plus awaiting a trivial
coroutine. Run with ``uv run python benchmarks/bench_di.py``; prints nanoseconds per call
(best of several rounds, loop overhead included in every figure alike).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from lexigram.di import Container

N = 200_000
ROUNDS = 9


class Service:
    pass


async def _best(bodies: dict[str, Callable[[int], Awaitable[None]]]) -> dict[str, float]:
    """Best time per call of each body, in ns; rounds interleave the bodies to share noise."""
    best = dict.fromkeys(bodies, float("inf"))
    for _ in range(ROUNDS):
        for name, body in bodies.items():
            start = time.perf_counter()
            await body(N)
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: seconds / N * 1e9 for name, seconds in best.items()}


async def main() -> None:
    container = Container()
    container.singleton(Service, factory=lambda _: Service())
    await container.resolve(Service)  # built once; from here on resolve() is the fast path
    table: dict[object, object] = {Service: Service()}

    async def trivial() -> None:
        return None

    async def lookup(key: object) -> object:
        return table[key]

    async def empty(n: int) -> None:
        for _ in range(n):
            pass

    async def dict_then_await(n: int) -> None:
        for _ in range(n):
            table[Service]
            await trivial()

    async def awaited_lookup(n: int) -> None:
        for _ in range(n):
            await lookup(Service)

    async def resolve(n: int) -> None:
        for _ in range(n):
            await container.resolve(Service)

    results = await _best(
        {
            "empty loop": empty,
            "dict lookup + await trivial coroutine": dict_then_await,
            "await async def returning dict[key]": awaited_lookup,
            "await container.resolve(T), built singleton": resolve,
        }
    )
    floor = results["dict lookup + await trivial coroutine"]
    for name, ns in results.items():
        print(f"{name:<46} {ns:7.1f} ns/op  ({ns / floor:4.2f}x the floor)")


if __name__ == "__main__":
    asyncio.run(main())
