"""The documentation's ``CorrelationInterceptor``, verbatim, executed against a context.

Its hooks are unannotated in the seed; ``allow-untyped-defs`` admits that in this file only
(``check_untyped_defs`` still checks the bodies). The tests call it through
``InterceptorProtocol``, as the client does, so the calls are typed.
"""
# mypy: allow-untyped-defs

from lexigram.contracts.web import HttpResponse, InterceptorProtocol, RequestContext


def current_correlation_id() -> str:
    """Stand-in for the application's correlation-id lookup (the seed does not show it)."""
    return "corr-123"


class CorrelationInterceptor(InterceptorProtocol):
    async def intercept_request(self, context):
        context.headers.setdefault("X-Correlation-Id", current_correlation_id())
        return context

    async def intercept_response(self, response):
        return response


async def test_adds_the_correlation_header() -> None:
    interceptor: InterceptorProtocol = CorrelationInterceptor()
    context = RequestContext("GET", "https://api.partner.example.com/v1/invoices/inv_1")
    result = await interceptor.intercept_request(context)
    assert result is context
    assert context.headers["x-correlation-id"] == "corr-123"


async def test_keeps_an_existing_correlation_header() -> None:
    interceptor: InterceptorProtocol = CorrelationInterceptor()
    context = RequestContext("GET", "https://h/")
    context.headers["X-Correlation-Id"] = "upstream"
    await interceptor.intercept_request(context)
    assert context.headers["X-Correlation-Id"] == "upstream"


async def test_passes_responses_through() -> None:
    interceptor: InterceptorProtocol = CorrelationInterceptor()
    response = HttpResponse(200)
    assert await interceptor.intercept_response(response) is response
    assert isinstance(interceptor, InterceptorProtocol)
