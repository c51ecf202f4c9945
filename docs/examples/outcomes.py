"""Which outcomes are ``Err`` and which are raised, and one function that handles both.

The verbs return a ``Result`` for what a single exchange can end with: a response (``Ok`` below
400, ``Err(HTTPStatusError)`` from 400), a connection failure or a timeout (``Err``). What is a
decision of the resilience layer is raised: ``HTTPRetryExhaustedError`` when the retries are
used up (it carries the last response or error), ``HTTPCircuitOpenError``, ``HTTPRejectedError``.

Run it: ``uv run --frozen docs/examples/outcomes.py``.
"""

import asyncio

from _partner import partner_api  # a stand-in partner API on 127.0.0.1

from lexigram.contracts.web import (
    HTTPCircuitOpenError,
    HTTPClientProtocol,
    HTTPRetryExhaustedError,
    HTTPStatusError,
)
from lexigram.http import HTTPClient, HTTPClientConfig, RetryConfig
from lexigram.result import Err, Ok


async def invoice_status(http: HTTPClientProtocol, url: str) -> str:
    """Every outcome of one call, as a line of text."""
    try:
        result = await http.get(url)
    except HTTPRetryExhaustedError as exhausted:  # raised: the retries are used up
        last = exhausted.last_response  # None when the last attempt got no answer
        status = last.status if last is not None else exhausted.last_error
        return f"gave up after {exhausted.attempts} attempts: {status}"
    except HTTPCircuitOpenError as open_circuit:  # raised: the breaker refuses to call
        return f"not called, circuit {open_circuit.breaker!r} is open"
    match result:
        case Ok(response):
            return f"ok: {response.json}"
        case Err(HTTPStatusError(status=status)):
            return f"the partner answered {status}"
        case Err(error):  # HTTPConnectionError or HTTPTimeoutError
            return f"no answer: {error}"


async def main(partner: str) -> None:
    once = HTTPClientConfig(retry=RetryConfig(max_attempts=1))
    async with HTTPClient(once) as http:
        # One 503 and no retry: Err(HTTPStatusError), returned.
        result = await http.get(f"{partner}/v1/unavailable")
        assert isinstance(result, Err)
        assert isinstance(result.error, HTTPStatusError)
        # the partner answered 503
        print(await invoice_status(http, f"{partner}/v1/unavailable"))
        # ok: {'id': 'inv_1', 'amount_cents': 4200}
        print(await invoice_status(http, f"{partner}/v1/invoices/inv_1"))

    # 3 attempts (the default), a short back-off for the example: 503, 503, 503, then raised.
    retried = HTTPClientConfig(retry=RetryConfig(max_attempts=3, backoff_base=0.01))
    async with HTTPClient(retried) as http:
        # gave up after 3 attempts: 503
        print(await invoice_status(http, f"{partner}/v1/unavailable"))


async def run() -> None:
    # In production `partner` is "https://api.partner.example.com".
    async with partner_api() as partner:
        await main(partner)


if __name__ == "__main__":
    asyncio.run(run())
