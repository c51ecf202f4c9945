"""Fully annotated usage of the contracts; ``assert_type`` pins what mypy infers."""

from typing import Any, assert_never, assert_type

import pytest

from lexigram.contracts.observability import InMemoryMetricsRecorder, MetricsRecorderProtocol
from lexigram.contracts.web import (
    Headers,
    HTTPClientError,
    HTTPClientProtocol,
    HTTPConnectionError,
    HttpResponse,
    HTTPStatusError,
    HTTPTimeoutError,
    InterceptorProtocol,
    RequestContext,
    TimeoutPhase,
)
from lexigram.result import Err, Ok, Result


def parse_port(text: str) -> Result[int, str]:
    if text.isdigit():
        return Ok(int(text))
    return Err(f"not a port: {text!r}")


def test_value_and_error_types_on_the_union() -> None:
    result = parse_port("8080")
    assert_type(result.is_ok(), bool)
    if result.is_err():
        assert_type(result.error, str)
        pytest.fail("8080 is a port")
    assert_type(result.value, int)
    assert result.value == 8080


def test_match_narrows_and_is_exhaustive() -> None:
    def describe(result: Result[int, str]) -> str:
        match result:
            case Ok(port):
                assert_type(port, int)
                return f"port {port}"
            case Err(message):
                assert_type(message, str)
                return message
            case _:
                assert_never(result)

    assert describe(parse_port("1")) == "port 1"
    assert describe(parse_port("x")) == "not a port: 'x'"


def test_combinators_infer() -> None:
    result = parse_port("80")
    assert_type(result.map(str), Ok[str] | Err[str])
    assert_type(result.map_err(len), Ok[int] | Err[int])
    assert_type(result.unwrap_or(None), int | None)
    assert_type(result.ok(), int | None)
    assert_type(result.unwrap_or_else(len), int)
    assert result.map(str) == Ok("80")


def test_covariance() -> None:
    narrow: Ok[bool] = Ok(True)
    wide: Result[int, Exception] = narrow
    assert wide == Ok(True)


def test_response_json_is_any_attribute() -> None:
    response = HttpResponse(status=200, json={"id": "inv_1"})
    assert_type(response.json, Any)
    assert_type(response.headers, Headers)
    assert_type(response.raise_for_status(), HttpResponse)
    body: dict[str, str] = response.json
    assert body["id"] == "inv_1"


async def test_handling_the_documented_error_cases() -> None:
    class Flaky(HTTPClientProtocol):
        def __init__(self, error: HTTPClientError) -> None:
            self.error = error

        async def request(
            self, method: str, url: str, **kwargs: Any
        ) -> Result[HttpResponse, HTTPClientError]:
            return Err(self.error)

    def classify(error: HTTPClientError) -> str:
        match error:
            case HTTPStatusError(status=status):
                return f"status {status}"
            case HTTPTimeoutError(phase=phase):
                return f"timeout {phase}"
            case HTTPConnectionError():
                return "connection"
            case _:
                return "other"

    errors: list[HTTPClientError] = [
        HTTPStatusError(response=HttpResponse(502)),
        HTTPTimeoutError(phase=TimeoutPhase.CONNECT),
        HTTPConnectionError(),
    ]
    seen = []
    for error in errors:
        result = await Flaky(error).get("https://h/")
        assert_type(result, Ok[HttpResponse] | Err[HTTPClientError])
        seen.append(classify(result.error))
    assert seen == ["status 502", "timeout connect", "connection"]


async def test_typed_interceptor_and_recorder() -> None:
    class Timing(InterceptorProtocol):
        def __init__(self, recorder: MetricsRecorderProtocol) -> None:
            self.recorder = recorder

        async def intercept_response(self, response: HttpResponse) -> HttpResponse:
            self.recorder.histogram("seen", response.elapsed, {"status": str(response.status)})
            return response

    recorder = InMemoryMetricsRecorder()
    interceptor = Timing(recorder)
    context = RequestContext("GET", "https://h/")
    assert await interceptor.intercept_request(context) is context
    await interceptor.intercept_response(HttpResponse(200, elapsed=0.5))
    assert recorder.records == [("histogram", "seen", 0.5, {"status": "200"})]
