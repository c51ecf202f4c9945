"""The assertion errors of the mock router.

Both subclass ``AssertionError``: they report a wrong test setup or an unexpected request, not a
network condition, so the client never maps them to a ``Result`` and pytest shows them as test
failures. Messages redact URLs, headers and bodies like every other lexigram error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lexigram.contracts.web import RequestContext
    from lexigram.testing.http._router import Route

__all__ = ["SequenceExhaustedError", "UnmatchedRequestError"]


class UnmatchedRequestError(AssertionError):
    """No route matched a request (the router is strict: nothing reaches the network).

    ``request`` is the snapshot of the request, ``closest`` the route that came nearest (``None``
    when no route is registered) and ``differences`` what differed from it, one line each.
    """

    request: RequestContext
    closest: Route | None
    differences: tuple[str, ...]

    def __init__(
        self,
        message: str,
        *,
        request: RequestContext,
        closest: Route | None,
        differences: tuple[str, ...],
    ) -> None:
        super().__init__(message)
        self.request = request
        self.closest = closest
        self.differences = differences


class SequenceExhaustedError(AssertionError):
    """A route scripted with ``sequence(...)`` was called more times than it has answers.

    ``route`` is the route; ``call_number`` the 1-based number of the call that found it empty.
    """

    route: Route
    call_number: int

    def __init__(self, message: str, *, route: Route, call_number: int) -> None:
        super().__init__(message)
        self.route = route
        self.call_number = call_number
