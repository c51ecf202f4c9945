"""``MockTransport``: the router behind the transport seam of the real client."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from lexigram.contracts.web import (
    ClientClosedError,
    HttpResponse,
    RequestContext,
    StreamingResponseProtocol,
)
from lexigram.testing.http._router import Router

__all__ = ["MockTransport"]


class MockTransport:
    """An ``HTTPTransportProtocol`` answering from a :class:`Router`, never the network.

    Give it to the real client, ``HTTPClient(transport=MockTransport(router))``,
    ``BaseURLHTTPClient(..., transport=...)`` or ``HTTPModule.stub(transport=...)``: request
    building, interceptors, the retry policy or pipeline, the circuit breaker and metrics all
    run unchanged; only the exchange on the wire is scripted. Transports are cheap and many can
    share one router. A closed transport (clients close theirs) raises ``ClientClosedError``.
    """

    __slots__ = ("_closed", "_router")

    def __init__(self, router: Router | None = None) -> None:
        self._router = router if router is not None else Router()
        self._closed = False

    @property
    def router(self) -> Router:
        """The router answering this transport's requests."""
        return self._router

    @property
    def is_closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._closed

    def _check_open(self, context: RequestContext) -> None:
        if self._closed:
            raise ClientClosedError(
                "the mock transport is closed (did another client close it?)",
                method=context.method,
                url=context.url,
            )

    async def send(self, context: RequestContext) -> HttpResponse:
        """Answer from the router with a complete response."""
        self._check_open(context)
        return await self._router.handle(context)

    async def send_stream(self, context: RequestContext) -> StreamingResponseProtocol:
        """Answer from the router with a streaming response (``iter_bytes``, ``aread``)."""
        self._check_open(context)
        return await self._router.handle_stream(context)

    async def aclose(self) -> None:
        """Mark the transport closed; idempotent. The router and its history stay."""
        self._closed = True

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<MockTransport {state} {self._router!r}>"
