"""``InterceptorChain``: interceptors composed first-is-outermost."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from lexigram.contracts.web import (
    HTTPInterceptorError,
    HttpResponse,
    InterceptorProtocol,
    RequestContext,
)

__all__ = ["InterceptorChain"]

# The pass-through defaults of InterceptorProtocol, which a subclass may leave as they are.
_PASS_REQUEST: Final = InterceptorProtocol.intercept_request
_PASS_RESPONSE: Final = InterceptorProtocol.intercept_response


class InterceptorChain:
    """An ordered list of interceptors that is itself an interceptor.

    Requests go through the interceptors in order, responses in reverse order, so the first
    one is the outermost (as aiohttp's middlewares). An interceptor that raises, or returns
    something other than a ``RequestContext`` / ``HttpResponse``, surfaces as
    :class:`HTTPInterceptorError` naming its class and the phase, chained from the cause.
    """

    __slots__ = ("_interceptors", "_requesting", "_reversed")

    _interceptors: tuple[InterceptorProtocol, ...]
    _requesting: tuple[InterceptorProtocol, ...]
    _reversed: tuple[InterceptorProtocol, ...]

    def __init__(self, interceptors: Iterable[InterceptorProtocol] = ()) -> None:
        self._set(tuple(interceptors))

    def _set(self, interceptors: tuple[InterceptorProtocol, ...]) -> None:
        # Tuples, replaced on add(): a call in flight keeps iterating the snapshot it started
        # with, and the reverse order is computed once instead of per response. A hook left
        # to InterceptorProtocol's pass-through default is skipped (no coroutine to run).
        self._interceptors = interceptors
        self._requesting = tuple(
            interceptor
            for interceptor in interceptors
            if type(interceptor).intercept_request is not _PASS_REQUEST
        )
        self._reversed = tuple(
            interceptor
            for interceptor in interceptors[::-1]
            if type(interceptor).intercept_response is not _PASS_RESPONSE
        )

    @property
    def interceptors(self) -> tuple[InterceptorProtocol, ...]:
        """The interceptors, outermost first."""
        return self._interceptors

    def add(self, interceptor: InterceptorProtocol) -> None:
        """Append ``interceptor``: it becomes the innermost."""
        self._set((*self._interceptors, interceptor))

    async def intercept_request(self, context: RequestContext) -> RequestContext:
        """Run every interceptor's ``intercept_request``, in order."""
        for interceptor in self._requesting:
            try:
                result = await interceptor.intercept_request(context)
            except HTTPInterceptorError:
                raise  # a nested chain already named the culprit
            except Exception as exc:
                raise _failure(interceptor, "request", context.method, context.url) from exc
            if not isinstance(result, RequestContext):
                raise _failure(
                    interceptor,
                    "request",
                    context.method,
                    context.url,
                    f"returned {type(result).__name__}, not a RequestContext",
                )
            context = result
        return context

    async def intercept_response(self, response: HttpResponse) -> HttpResponse:
        """Run every interceptor's ``intercept_response``, in reverse order."""
        for interceptor in self._reversed:
            try:
                result = await interceptor.intercept_response(response)
            except HTTPInterceptorError:
                raise
            except Exception as exc:
                raise _failure(interceptor, "response", response.method, response.url) from exc
            if not isinstance(result, HttpResponse):
                raise _failure(
                    interceptor,
                    "response",
                    response.method,
                    response.url,
                    f"returned {type(result).__name__}, not an HttpResponse",
                )
            response = result
        return response

    def __repr__(self) -> str:
        names = ", ".join(type(interceptor).__name__ for interceptor in self._interceptors)
        return f"InterceptorChain([{names}])"


def _failure(
    interceptor: object, phase: str, method: str, url: str, detail: str = ""
) -> HTTPInterceptorError:
    name = type(interceptor).__name__
    error = HTTPInterceptorError(interceptor=name, phase=phase, method=method, url=url or None)
    if detail:
        # Rebuilt with the detail appended; the default message already names the target.
        error = HTTPInterceptorError(
            f"{error.message}: {detail}",
            interceptor=name,
            phase=phase,
            method=method,
            url=url or None,
        )
    return error
