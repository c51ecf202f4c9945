"""The error tree: bases, attributes, messages without secrets, pickling."""

from __future__ import annotations

import inspect
import pickle
from typing import Any

import pytest

import lexigram.contracts.web as web
from lexigram.contracts.web import (
    REDACTED,
    ClientClosedError,
    HTTPBlockedAddressError,
    HTTPBodyTooLargeError,
    HTTPBulkheadFullError,
    HTTPCircuitOpenError,
    HTTPClientError,
    HTTPConnectionError,
    HTTPDecodeError,
    HTTPEventStreamError,
    HTTPInterceptorError,
    HTTPRateLimitedError,
    HTTPRedirectError,
    HTTPRejectedError,
    HttpResponse,
    HTTPRetryExhaustedError,
    HTTPStatusError,
    HTTPStreamDisconnectedError,
    HTTPStreamError,
    HTTPStreamLimitError,
    HTTPTimeoutError,
    HTTPUsageError,
    InvalidHeaderError,
    InvalidURLError,
    TimeoutPhase,
    redact_url,
)

SECRET_URL = "https://alice:hunter2@api.example.com/v1/x?api_key=sk-123&page=2"
REDACTED_URL = f"https://{REDACTED}@api.example.com/v1/x?api_key={REDACTED}&page=2"
SECRETS = ("hunter2", "sk-123", "alice")

_RESPONSE = HttpResponse(503, url=SECRET_URL, method="GET", body=b"down")

# One instance of every error class, built with every attribute it has.
EXAMPLES: dict[type[HTTPClientError], dict[str, Any]] = {
    HTTPClientError: {"method": "GET", "url": SECRET_URL},
    HTTPStatusError: {"response": _RESPONSE},
    HTTPConnectionError: {"method": "GET", "url": SECRET_URL},
    HTTPStreamDisconnectedError: {
        "received": b"data: partial",
        "bytes_received": 4096,
        "method": "GET",
        "url": SECRET_URL,
    },
    HTTPTimeoutError: {
        "phase": TimeoutPhase.CONNECT,
        "timeout": 2.5,
        "method": "GET",
        "url": SECRET_URL,
    },
    HTTPCircuitOpenError: {
        "breaker": "http-default",
        "key": "https://api.example.com",
        "retry_after": 12.0,
        "method": "GET",
        "url": SECRET_URL,
    },
    HTTPRetryExhaustedError: {
        "attempts": 3,
        "last_error": HTTPTimeoutError(phase="read", url=SECRET_URL, method="GET"),
        "method": "GET",
        "url": SECRET_URL,
    },
    HTTPRejectedError: {"reason": "shed", "method": "GET", "url": SECRET_URL},
    HTTPBulkheadFullError: {"reason": "no slot", "method": "GET", "url": SECRET_URL},
    HTTPRateLimitedError: {"retry_after": 0.5, "method": "GET", "url": SECRET_URL},
    HTTPInterceptorError: {
        "interceptor": "SigningInterceptor",
        "phase": "response",
        "method": "GET",
        "url": SECRET_URL,
    },
    HTTPDecodeError: {
        "what": "NDJSON line",
        "line": 7,
        "position": 3,
        "detail": "Expecting value",
        "method": "GET",
        "url": SECRET_URL,
    },
    HTTPStreamError: {"method": "GET", "url": SECRET_URL},
    HTTPStreamLimitError: {
        "limit_name": "max_line_bytes",
        "limit": 1024,
        "method": "GET",
        "url": SECRET_URL,
    },
    HTTPEventStreamError: {
        "status": 205,
        "content_type": "text/event-stream",
        "method": "GET",
        "url": SECRET_URL,
    },
    HTTPBodyTooLargeError: {"limit": 10_000, "method": "GET", "url": SECRET_URL},
    HTTPUsageError: {"method": "GET", "url": SECRET_URL},
    InvalidURLError: {"url": SECRET_URL},
    InvalidHeaderError: {"header": "X-Bad"},
    ClientClosedError: {"method": "GET", "url": SECRET_URL},
    HTTPRedirectError: {
        "reason": "server redirected to an invalid URL",
        "location": SECRET_URL,
        "max_redirects": 20,
        "method": "GET",
        "url": SECRET_URL,
    },
    HTTPBlockedAddressError: {
        "host": "internal.example",
        "address": "10.0.0.7",
        "method": "GET",
        "url": SECRET_URL,
    },
}


def _error_classes() -> set[type[HTTPClientError]]:
    return {
        obj
        for obj in vars(web).values()
        if inspect.isclass(obj) and issubclass(obj, HTTPClientError)
    }


def test_examples_cover_every_exported_error_class() -> None:
    assert set(EXAMPLES) == _error_classes()


@pytest.mark.parametrize(
    ("cls", "bases"),
    [
        (HTTPClientError, (Exception,)),
        (HTTPStatusError, (HTTPClientError,)),
        (HTTPConnectionError, (HTTPClientError, ConnectionError, OSError)),
        (HTTPStreamDisconnectedError, (HTTPConnectionError, ConnectionError)),
        (HTTPTimeoutError, (HTTPClientError, TimeoutError, OSError)),
        (HTTPCircuitOpenError, (HTTPClientError,)),
        (HTTPRetryExhaustedError, (HTTPClientError,)),
        (HTTPRejectedError, (HTTPClientError,)),
        (HTTPBulkheadFullError, (HTTPRejectedError,)),
        (HTTPRateLimitedError, (HTTPRejectedError,)),
        (HTTPInterceptorError, (HTTPClientError,)),
        (HTTPDecodeError, (HTTPClientError, ValueError)),
        (HTTPStreamError, (HTTPClientError,)),
        (HTTPStreamLimitError, (HTTPStreamError,)),
        (HTTPEventStreamError, (HTTPStreamError,)),
        (HTTPBodyTooLargeError, (HTTPClientError,)),
        (HTTPUsageError, (HTTPClientError,)),
        (InvalidURLError, (HTTPUsageError, ValueError)),
        (InvalidHeaderError, (HTTPUsageError, ValueError)),
        (ClientClosedError, (HTTPUsageError, RuntimeError)),
        (HTTPRedirectError, (HTTPClientError,)),
        (HTTPBlockedAddressError, (HTTPClientError,)),
    ],
)
def test_tree(cls: type[HTTPClientError], bases: tuple[type[BaseException], ...]) -> None:
    for base in bases:
        assert issubclass(cls, base)


def test_builtin_catch_clauses_still_work() -> None:
    with pytest.raises(ConnectionError):
        raise HTTPConnectionError(url="https://h/")
    with pytest.raises(TimeoutError):
        raise HTTPTimeoutError(phase="read")
    with pytest.raises(ValueError, match="could not decode"):
        raise HTTPDecodeError()


@pytest.mark.parametrize("cls", list(EXAMPLES), ids=lambda cls: cls.__name__)
def test_pickle_round_trip_keeps_every_attribute(cls: type[HTTPClientError]) -> None:
    error = cls(**EXAMPLES[cls])
    restored = pickle.loads(pickle.dumps(error))
    assert type(restored) is cls
    assert str(restored) == str(error)
    assert restored.args == error.args
    assert set(vars(restored)) == set(vars(error))
    for name, value in vars(error).items():
        if isinstance(value, HttpResponse):
            # Responses pickle redacted (see test_pickled_errors_carry_redacted_responses).
            copy = getattr(restored, name)
            assert (value.status, redact_url(value.url), value.body) == (
                copy.status,
                copy.url,
                copy.body,
            )
        elif isinstance(value, HTTPClientError):
            assert type(getattr(restored, name)) is type(value)
            assert str(getattr(restored, name)) == str(value)
        else:
            assert getattr(restored, name) == value, name


@pytest.mark.parametrize("cls", list(EXAMPLES), ids=lambda cls: cls.__name__)
def test_str_and_repr_never_show_secrets(cls: type[HTTPClientError]) -> None:
    error = cls(**EXAMPLES[cls])
    for text in (str(error), repr(error)):
        for secret in SECRETS:
            assert secret not in text


@pytest.mark.parametrize("cls", list(EXAMPLES), ids=lambda cls: cls.__name__)
def test_url_is_stored_redacted(cls: type[HTTPClientError]) -> None:
    error = cls(**EXAMPLES[cls])
    assert error.url in (None, REDACTED_URL)


@pytest.mark.parametrize("cls", list(EXAMPLES), ids=lambda cls: cls.__name__)
def test_every_error_has_a_default_message(cls: type[HTTPClientError]) -> None:
    kwargs: dict[str, Any] = {"response": _RESPONSE} if cls is HTTPStatusError else {}
    assert str(cls(**kwargs))


def test_explicit_message_wins() -> None:
    error = HTTPConnectionError("dns failed", method="GET", url="https://h/")
    assert str(error) == "dns failed"
    assert error.message == "dns failed"
    assert error.url == "https://h/"


def test_status_error() -> None:
    response = HttpResponse(404, url="https://h/missing", method="DELETE")
    error = HTTPStatusError(response=response)
    assert error.status == 404
    assert error.response is response
    assert (error.method, error.url) == ("DELETE", "https://h/missing")
    assert str(error) == "HTTP 404 Not Found for DELETE https://h/missing"


def test_status_error_unknown_status() -> None:
    assert str(HTTPStatusError(response=HttpResponse(599, url="https://h/"))) == (
        "HTTP 599 for GET https://h/"
    )


def test_stream_disconnected_counts_bytes_and_hides_them() -> None:
    error = HTTPStreamDisconnectedError(received=b"token=abc")
    assert error.received == b"token=abc"
    assert error.bytes_received == 9
    assert "abc" not in str(error)
    assert "9 bytes" in str(error)


def test_timeout_phase_is_a_str_enum_and_coerced() -> None:
    error = HTTPTimeoutError(phase="pool", timeout=1.0)
    assert error.phase is TimeoutPhase.POOL
    assert str(error.phase) == "pool"
    assert str(error) == "pool timeout after 1s"
    assert {phase.value for phase in TimeoutPhase} == {
        "connect",
        "pool",
        "read",
        "deadline",
        "idle",
    }
    with pytest.raises(ValueError, match="nope"):
        HTTPTimeoutError(phase="nope")


def test_circuit_open_error_message() -> None:
    error = HTTPCircuitOpenError(breaker="http-default", key="https://h", retry_after=5.0)
    assert str(error) == "circuit breaker 'http-default' is open for https://h; retry after 5s"


def test_retry_exhausted_takes_target_from_last_outcome() -> None:
    response = HttpResponse(503, url="https://h/x", method="GET")
    error = HTTPRetryExhaustedError(attempts=3, last_response=response)
    assert (error.method, error.url) == ("GET", "https://h/x")
    assert error.last_response is response
    assert str(error) == "gave up after 3 attempts for GET https://h/x: last response was HTTP 503"

    cause = HTTPConnectionError(method="PUT", url="https://h/y")
    error = HTTPRetryExhaustedError(attempts=2, last_error=cause)
    assert (error.method, error.url, error.last_error) == ("PUT", "https://h/y", cause)
    assert str(cause) in str(error)


def test_rejected_reasons() -> None:
    assert HTTPBulkheadFullError().reason == "bulkhead full"
    assert HTTPRateLimitedError().reason == "rate limited"
    assert HTTPRateLimitedError(retry_after=2.0).retry_after == 2.0
    assert HTTPRejectedError(reason="overloaded").reason == "overloaded"


def test_interceptor_error_chains() -> None:
    cause = RuntimeError("boom")

    def failing_hook() -> None:
        try:
            raise cause
        except RuntimeError as exc:
            raise HTTPInterceptorError(interceptor="Signer", phase="request") from exc

    with pytest.raises(HTTPInterceptorError) as info:
        failing_hook()
    error = info.value
    assert error.__cause__ is cause
    assert error.interceptor == "Signer"
    assert error.phase == "request"
    assert "Signer" in str(error)


def test_decode_error_message() -> None:
    error = HTTPDecodeError(what="NDJSON line", line=3, position=10, detail="Expecting value")
    assert str(error) == "could not decode NDJSON line at line 3 at position 10: Expecting value"


def test_stream_limit_error() -> None:
    error = HTTPStreamLimitError(limit_name="max_event_bytes", limit=65536)
    assert (error.limit_name, error.limit) == ("max_event_bytes", 65536)
    assert isinstance(error, HTTPStreamError)
    assert "65536" in str(error)


def test_invalid_header_error_names_header() -> None:
    error = InvalidHeaderError(header="X-Bad")
    assert error.header == "X-Bad"
    assert "X-Bad" in str(error)


def test_errors_are_keyword_friendly() -> None:
    # Every parameter after ``message`` is keyword-only: positional misuse fails loudly.
    for cls in EXAMPLES:
        signature = inspect.signature(cls)
        for name, parameter in signature.parameters.items():
            if name != "message":
                assert parameter.kind is inspect.Parameter.KEYWORD_ONLY, (cls, name)


def test_pickled_errors_carry_redacted_responses() -> None:
    response = HttpResponse(
        503,
        url=SECRET_URL,
        method="GET",
        headers=[("Set-Cookie", "session=sess-secret"), ("Retry-After", "3")],
        body=b"down",
    )
    for error in (
        HTTPStatusError(response=response),
        HTTPRetryExhaustedError(attempts=3, last_response=response),
        HTTPRetryExhaustedError(attempts=3, last_error=HTTPStatusError(response=response)),
    ):
        data = pickle.dumps(error)
        for secret in (*SECRETS, "sess-secret"):
            assert secret.encode() not in data, (type(error).__name__, secret)
        restored = pickle.loads(data)
        copy = getattr(restored, "response", None) or restored.last_response
        if copy is None:
            copy = restored.last_error.response
        assert copy.url == REDACTED_URL
        assert copy.headers["Set-Cookie"] == REDACTED
        assert (copy.status, copy.headers["Retry-After"], copy.body) == (503, "3", b"down")
    # The live error keeps the real response: only the pickled form is redacted.
    assert HTTPStatusError(response=response).response is response
