"""The seam between strategies: a stage takes ``(request, operation, attempt)``.

A pipeline is a chain of stages built once, outermost first. Each strategy's ``bind(next)``
returns its stage holding ``next`` as a bound callable, so a call allocates no closures. Stages
outside the retry run once per call (``attempt`` is 1); stages inside it run once per attempt
with the attempt number the retry passes down; the last one calls ``operation(attempt)``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final, Protocol, TypeAlias, runtime_checkable

from lexigram.contracts.resilience import AttemptOperation
from lexigram.contracts.web import HttpResponse, RequestContext

__all__ = ["Clock", "NextStage", "ResilienceStrategy", "Sleep"]

NextStage: TypeAlias = Callable[[RequestContext, AttemptOperation, int], Awaitable[HttpResponse]]
"""The rest of a pipeline: ``await next(request, operation, attempt)``."""
Clock: TypeAlias = Callable[[], float]
"""A monotonic clock in seconds (``time.monotonic``)."""
Sleep: TypeAlias = Callable[[float], Awaitable[None]]
"""An async sleep in seconds (``asyncio.sleep``)."""


@runtime_checkable
class ResilienceStrategy(Protocol):
    """Anything a :class:`ResiliencePipeline` can compose.

    ``bind(next)`` returns a stage that runs the strategy around ``next``; the pipeline calls it
    once, when it is built, innermost strategy first.
    """

    def bind(self, next: NextStage) -> NextStage:
        """A stage running this strategy around ``next``."""
        ...


def _terminal(
    request: RequestContext, operation: AttemptOperation, attempt: int
) -> Awaitable[HttpResponse]:
    # Not a coroutine function: returning the operation's awaitable saves a frame per attempt.
    return operation(attempt)


_TERMINAL: Final[NextStage] = _terminal
"""The innermost stage: runs the attempt itself."""

_URL_ORIGINS: dict[str, str] = {}
_PREFIX_ORIGINS: dict[str, str] = {}
_MAX_CACHED: Final = 4096


def _origin_of(request: RequestContext) -> str:
    """``request.origin``, cached: parsing a URL costs microseconds, a dict lookup nanoseconds.

    The key of per-host state (breaker circuits, budgets, rate buckets). Cached by URL, then by
    ``scheme://authority`` prefix, so a client calling many paths on few hosts parses each host
    once; both caches are cleared when full rather than grown.
    """
    url = request.url
    try:
        return _URL_ORIGINS[url]
    except KeyError:
        pass
    start = url.find("://")
    end = len(url)
    if start > 0:
        for char in "/?#":
            found = url.find(char, start + 3)
            if 0 <= found < end:
                end = found
    prefix = url[:end]
    origin = _PREFIX_ORIGINS.get(prefix)
    if origin is None:
        origin = RequestContext("GET", prefix).origin
        if len(_PREFIX_ORIGINS) >= _MAX_CACHED:
            _PREFIX_ORIGINS.clear()
        _PREFIX_ORIGINS[prefix] = origin
    if len(_URL_ORIGINS) >= _MAX_CACHED:
        _URL_ORIGINS.clear()
    _URL_ORIGINS[url] = origin
    return origin
