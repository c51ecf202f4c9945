"""``OpenTelemetryObserver``: spans and metrics per the stable HTTP client semantic conventions.

Only ``opentelemetry-api`` (and the semantic-convention constants) are imported: the SDK, the
exporters and the propagator are the application's choice. With no SDK configured the API's
providers are proxies, and every attempt is skipped before anything is built.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Final

import opentelemetry.metrics._internal as _metrics_state
from opentelemetry import context as otel_context
from opentelemetry import metrics, propagate, trace
from opentelemetry.context import (
    _SUPPRESS_HTTP_INSTRUMENTATION_KEY,
    _SUPPRESS_INSTRUMENTATION_KEY,
)
from opentelemetry.environment_variables import (
    OTEL_PYTHON_METER_PROVIDER,
    OTEL_PYTHON_TRACER_PROVIDER,
)
from opentelemetry.metrics import CallbackOptions, Meter, MeterProvider, Observation
from opentelemetry.metrics._internal import _ProxyMeterProvider
from opentelemetry.propagators.textmap import Setter
from opentelemetry.semconv._incubating.attributes.http_attributes import HTTP_CONNECTION_STATE
from opentelemetry.semconv._incubating.metrics.http_metrics import (
    HTTP_CLIENT_ACTIVE_REQUESTS,
    HTTP_CLIENT_CONNECTION_DURATION,
    HTTP_CLIENT_OPEN_CONNECTIONS,
    HTTP_CLIENT_REQUEST_BODY_SIZE,
    HTTP_CLIENT_RESPONSE_BODY_SIZE,
)
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.semconv.attributes.exception_attributes import (
    EXCEPTION_MESSAGE,
    EXCEPTION_TYPE,
)
from opentelemetry.semconv.attributes.http_attributes import (
    HTTP_REQUEST_METHOD,
    HTTP_REQUEST_METHOD_ORIGINAL,
    HTTP_REQUEST_RESEND_COUNT,
    HTTP_RESPONSE_STATUS_CODE,
)
from opentelemetry.semconv.attributes.network_attributes import (
    NETWORK_PEER_ADDRESS,
    NETWORK_PROTOCOL_VERSION,
)
from opentelemetry.semconv.attributes.server_attributes import SERVER_ADDRESS, SERVER_PORT
from opentelemetry.semconv.attributes.url_attributes import URL_FULL, URL_SCHEME
from opentelemetry.semconv.metrics.http_metrics import HTTP_CLIENT_REQUEST_DURATION
from opentelemetry.trace import SpanKind, Status, StatusCode, TracerProvider
from opentelemetry.util.types import AttributeValue

from lexigram.contracts.observability import (
    AttemptObservationProtocol,
    ConnectionOrigin,
    ConnectionState,
)
from lexigram.contracts.web import Headers, HttpResponse, RequestContext
from lexigram.observability._target import (
    CIRCUIT_CODES,
    CONNECTION_BUCKETS,
    DURATION_BUCKETS,
    OTHER,
    error_type,
    full_url,
    method_of,
    safe_message,
    target_of,
    timeout_phase,
)

if TYPE_CHECKING:
    from contextvars import Token

    from opentelemetry.context import Context
    from opentelemetry.trace import Span

__all__ = ["OpenTelemetryObserver"]


_SCOPE: Final = "lexigram.observability"
_VERSION: Final = "0.1.0"

# This client's own instruments (no convention names them).
_RETRIES: Final = "lexigram.http.client.retries"
_RETRY_REFUSALS: Final = "lexigram.http.client.retry_refusals"
_CIRCUIT_STATE: Final = "lexigram.http.client.circuit.state"
_CIRCUIT_TRANSITIONS: Final = "lexigram.http.client.circuit.transitions"
_STREAM_TTFB: Final = "lexigram.http.client.stream.time_to_first_byte"
_STREAM_DURATION: Final = "lexigram.http.client.stream.duration"
_POOL_WAIT: Final = "lexigram.http.client.pool.wait_time"
# Attribute sets of the pool metrics kept for reuse (origins x states; cleared when full).
_POOL_POINTS_MAX: Final = 1024
_TIMEOUT_PHASE: Final = "lexigram.http.timeout.phase"
_STREAMING: Final = "lexigram.http.streaming"


_PROTOCOL_VERSION: Final = "1.1"


class _HeadersSetter(Setter[Headers]):
    def set(self, carrier: Headers, key: str, value: str) -> None:
        carrier[key] = value


_SETTER: Final = _HeadersSetter()


class OpenTelemetryObserver:
    """Traces and measures every attempt through the OpenTelemetry API.

    - one ``CLIENT`` span per attempt, named after the method (``GET``; ``HTTP`` for a method
      the conventions do not know), with ``http.request.method``, ``server.address``,
      ``server.port``, ``url.full`` (redacted), ``url.scheme``, ``http.response.status_code``,
      ``network.protocol.version``, ``http.request.resend_count`` on resends, ``error.type``
      (the status code for 4xx/5xx, else the exception's class); a failure is also recorded as
      an ``exception`` event whose message is redacted (and without a stack trace, which could
      quote a backend's message). A verb's span ends when its body has been read; a stream's
      span ends when the stream is closed (its body read to the end, abandoned, or broken);
    - ``traceparent`` / ``tracestate`` (whatever the global propagator writes) are added to
      each attempt's request headers;
    - while an attempt is on the wire, OpenTelemetry's HTTP-instrumentation suppression key is
      set, so ``opentelemetry-instrumentation-aiohttp-client`` records nothing twice; and when
      a caller has set that key (or the general suppression key), this observer stays silent;
    - metrics: ``http.client.request.duration`` (s, the conventions' advisory buckets; up to
      the response headers for a stream), ``lexigram.http.client.retries``,
      ``.retry_refusals``, ``.circuit.state``, ``.circuit.transitions``,
      ``.stream.time_to_first_byte``, ``.stream.duration``; from the connection pool (the
      transport an ``HTTPClient`` builds): ``http.client.open_connections`` (with
      ``http.connection.state`` ``active`` / ``idle``, ``server.address``, ``server.port``,
      ``url.scheme``, ``network.peer.address``), ``http.client.connection.duration`` (s) and
      ``lexigram.http.client.pool.wait_time`` (s, requests that queued for a free
      connection); with ``detailed_metrics=True``
      also ``http.client.active_requests`` and ``http.client.request.body.size`` /
      ``http.client.response.body.size`` (verbs), which the conventions make opt-in.

    ``tracer_provider`` / ``meter_provider`` default to the global ones; ``tracing=False`` or
    ``metrics=False`` turns either part off. With no SDK configured (the API's proxy providers)
    an attempt costs two checks and records nothing.
    """

    __slots__ = (
        "_active",
        "_body_in",
        "_body_out",
        "_circuit_state",
        "_clock",
        "_connection_duration",
        "_connections",
        "_detailed",
        "_duration",
        "_idle_check",
        "_meter_provider",
        "_metrics",
        "_open_connections",
        "_pool_points",
        "_pool_wait",
        "_refusals",
        "_retries",
        "_stream_duration",
        "_stream_ttfb",
        "_tracer",
        "_tracer_provider",
        "_tracing",
        "_transitions",
    )

    def __init__(
        self,
        *,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        tracing: bool = True,
        metrics: bool = True,
        detailed_metrics: bool = False,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._tracer_provider = tracer_provider
        self._meter_provider = meter_provider
        self._tracing = tracing
        self._metrics = metrics
        self._detailed = detailed_metrics
        self._clock = clock
        # With the global providers, no provider named in the environment and the API's
        # module state where this version keeps it, "no SDK yet" is two attribute reads.
        self._idle_check = (
            tracer_provider is None
            and meter_provider is None
            and OTEL_PYTHON_TRACER_PROVIDER not in os.environ
            and OTEL_PYTHON_METER_PROVIDER not in os.environ
            and hasattr(trace, "_TRACER_PROVIDER")
            and hasattr(_metrics_state, "_METER_PROVIDER")
        )
        self._tracer = trace.get_tracer(_SCOPE, _VERSION, tracer_provider)
        meter = _meter(meter_provider)
        self._duration = meter.create_histogram(
            HTTP_CLIENT_REQUEST_DURATION,
            unit="s",
            description="Duration of HTTP client requests.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self._active = meter.create_up_down_counter(
            HTTP_CLIENT_ACTIVE_REQUESTS,
            unit="{request}",
            description="Number of active HTTP requests.",
        )
        self._body_out = meter.create_histogram(
            HTTP_CLIENT_REQUEST_BODY_SIZE, unit="By", description="Size of HTTP request bodies."
        )
        self._body_in = meter.create_histogram(
            HTTP_CLIENT_RESPONSE_BODY_SIZE,
            unit="By",
            description="Size of HTTP response bodies.",
        )
        self._retries = meter.create_counter(
            _RETRIES, unit="{retry}", description="Retries scheduled, by reason."
        )
        self._refusals = meter.create_counter(
            _RETRY_REFUSALS,
            unit="{refusal}",
            description="Retryable outcomes not retried: budget refused or retries exhausted.",
        )
        self._circuit_state = meter.create_gauge(
            _CIRCUIT_STATE,
            unit="1",
            description="Circuit state: 0 closed, 1 open, 2 half-open, 3 isolated.",
        )
        self._transitions = meter.create_counter(
            _CIRCUIT_TRANSITIONS, unit="{transition}", description="Circuit state changes."
        )
        self._stream_ttfb = meter.create_histogram(
            _STREAM_TTFB,
            unit="s",
            description="From sending a stream's request to its first body bytes.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self._stream_duration = meter.create_histogram(
            _STREAM_DURATION,
            unit="s",
            description="From sending a stream's request to the stream's end.",
            explicit_bucket_boundaries_advisory=(*DURATION_BUCKETS, 30.0, 60.0, 120.0, 300.0),
        )
        self._pool_points: dict[
            tuple[ConnectionOrigin, ConnectionState | None], dict[str, AttributeValue]
        ] = {}
        # Counted here, read by the SDK when it collects: a state change costs a dict update.
        self._connections: dict[tuple[ConnectionOrigin, ConnectionState], int] = {}
        self._open_connections = meter.create_observable_up_down_counter(
            HTTP_CLIENT_OPEN_CONNECTIONS,
            callbacks=[self._observe_connections],
            unit="{connection}",
            description="Number of outbound HTTP connections that are currently active or idle.",
        )
        self._connection_duration = meter.create_histogram(
            HTTP_CLIENT_CONNECTION_DURATION,
            unit="s",
            description="The duration of the successfully established outbound HTTP connections.",
            explicit_bucket_boundaries_advisory=CONNECTION_BUCKETS,
        )
        self._pool_wait = meter.create_histogram(
            _POOL_WAIT,
            unit="s",
            description="Time a request waited for a free connection of the pool.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )

    def _live(self) -> tuple[bool, bool]:
        """Whether spans and metrics would be recorded at all (an SDK is configured)."""
        if (
            self._idle_check
            and trace._TRACER_PROVIDER is None
            and _metrics_state._METER_PROVIDER is None
        ):
            return False, False
        tracing = self._tracing and (
            self._tracer_provider is not None
            or not isinstance(trace.get_tracer_provider(), _IDLE_TRACER_PROVIDERS)
        )
        measuring = self._metrics and (
            self._meter_provider is not None
            or not isinstance(metrics.get_meter_provider(), _IDLE_METER_PROVIDERS)
        )
        return tracing, measuring

    def attempt_started(
        self, context: RequestContext, streaming: bool
    ) -> AttemptObservationProtocol | None:
        """Start the attempt's span, inject the trace context, count it active."""
        tracing, measuring = self._live()
        if not (tracing or measuring):
            return None
        current = otel_context.get_current()
        if otel_context.get_value(
            _SUPPRESS_HTTP_INSTRUMENTATION_KEY, current
        ) or otel_context.get_value(_SUPPRESS_INSTRUMENTATION_KEY, current):
            return None
        method = context.method
        known = method_of(method)
        target = target_of(context.url)
        base: dict[str, AttributeValue] = {HTTP_REQUEST_METHOD: known, URL_SCHEME: target.scheme}
        if target.host:
            base[SERVER_ADDRESS] = target.host
        if target.port is not None:
            base[SERVER_PORT] = target.port
        span: Span | None = None
        if tracing:
            attributes = dict(base)
            attributes[URL_FULL] = full_url(context)
            if known == OTHER:
                attributes[HTTP_REQUEST_METHOD_ORIGINAL] = method
            if context.attempt > 1:
                attributes[HTTP_REQUEST_RESEND_COUNT] = context.attempt - 1
            if streaming:
                attributes[_STREAMING] = True
            span = self._tracer.start_span(
                "HTTP" if known == OTHER else known,
                context=current,
                kind=SpanKind.CLIENT,
                attributes=attributes,
            )
            current = trace.set_span_in_context(span, current)
            propagate.inject(context.headers, context=current, setter=_SETTER)
        token = otel_context.attach(
            otel_context.set_value(_SUPPRESS_HTTP_INSTRUMENTATION_KEY, True, current)
        )
        detailed = measuring and self._detailed
        if detailed:
            self._active.add(1, base)
            body = context.body
            # a streamed upload (RequestBody) knows its size, or None until sent
            size = None if body is None else len(body) if isinstance(body, bytes) else body.length
            if size is not None:
                self._body_out.record(size, base)
        return _Attempt(self, span, token, base, streaming, measuring, detailed)

    def retry_scheduled(
        self, context: RequestContext, attempt: int, delay: float, reason: str
    ) -> None:
        """Count the retry (``method``, host, ``reason``)."""
        if self._metrics:
            attributes = self._call_attributes(context)
            attributes["lexigram.http.retry.reason"] = reason
            self._retries.add(1, attributes)

    def retry_refused(self, context: RequestContext, attempt: int, reason: str) -> None:
        """Count the refusal (``budget`` or ``exhausted``)."""
        if self._metrics:
            attributes = self._call_attributes(context)
            attributes["lexigram.http.retry.refusal"] = reason
            self._refusals.add(1, attributes)

    def breaker_transition(self, breaker: str, key: str, previous: str, current: str) -> None:
        """Set the circuit's state gauge and count the transition."""
        if self._metrics:
            attributes: dict[str, AttributeValue] = {
                "lexigram.circuit.breaker": breaker,
                "lexigram.circuit.key": key,
            }
            self._circuit_state.set(CIRCUIT_CODES.get(current, -1), attributes)
            attributes["lexigram.circuit.state"] = current
            self._transitions.add(1, attributes)

    def connection_state(
        self,
        origin: ConnectionOrigin,
        previous: ConnectionState | None,
        current: ConnectionState | None,
    ) -> None:
        """Move one connection between the ``active`` / ``idle`` series of open connections."""
        if self._metrics and self._measuring():
            counts = self._connections
            if previous is not None:
                key = (origin, previous)
                counts[key] = counts.get(key, 0) - 1
            if current is not None:
                key = (origin, current)
                counts[key] = counts.get(key, 0) + 1

    def _observe_connections(self, options: CallbackOptions) -> Iterable[Observation]:
        """The open connections by origin and state (called by the SDK when it collects)."""
        return [
            Observation(count, self._pool_attributes(origin, state))
            for (origin, state), count in list(self._connections.items())
        ]

    def connection_closed(self, origin: ConnectionOrigin, duration: float) -> None:
        """Record how long the connection was open."""
        if self._metrics and self._measuring():
            self._connection_duration.record(duration, self._pool_attributes(origin, None))

    def pool_wait(self, origin: ConnectionOrigin, seconds: float) -> None:
        """Record the time a request queued for a free connection."""
        if self._metrics and self._measuring():
            self._pool_wait.record(seconds, self._pool_attributes(origin, None))

    def wants_pool_events(self) -> bool:
        """Whether the pool should be watched: metrics on and an SDK's meter provider set."""
        return self._metrics and self._measuring()

    def _measuring(self) -> bool:
        """Whether an SDK's meter provider is there (two attribute reads when it is not)."""
        if self._idle_check and _metrics_state._METER_PROVIDER is None:
            return False
        return self._meter_provider is not None or not isinstance(
            metrics.get_meter_provider(), _IDLE_METER_PROVIDERS
        )

    def _pool_attributes(
        self, origin: ConnectionOrigin, state: ConnectionState | None
    ) -> dict[str, AttributeValue]:
        """The attributes of a pool metric point, made once per origin and state."""
        key = (origin, state)
        found = self._pool_points.get(key)
        if found is None:
            found = {
                SERVER_ADDRESS: origin.host,
                SERVER_PORT: origin.port,
                URL_SCHEME: origin.scheme,
            }
            if origin.peer_address is not None:
                found[NETWORK_PEER_ADDRESS] = origin.peer_address
            if state is not None:
                found[HTTP_CONNECTION_STATE] = state
            if len(self._pool_points) >= _POOL_POINTS_MAX:
                self._pool_points.clear()
            self._pool_points[key] = found
        return found

    def _call_attributes(self, context: RequestContext) -> dict[str, AttributeValue]:
        target = target_of(context.url)
        attributes: dict[str, AttributeValue] = {HTTP_REQUEST_METHOD: method_of(context.method)}
        if target.host:
            attributes[SERVER_ADDRESS] = target.host
        if target.port is not None:
            attributes[SERVER_PORT] = target.port
        return attributes

    def __repr__(self) -> str:
        return f"OpenTelemetryObserver(tracing={self._tracing}, metrics={self._metrics})"


def _meter(provider: MeterProvider | None) -> Meter:
    return metrics.get_meter(_SCOPE, _VERSION, provider)


# The API's own providers: what the globals are until an SDK's provider is set (the meter
# proxy has no public name).
_IDLE_METER_PROVIDERS: Final = (_ProxyMeterProvider, metrics.NoOpMeterProvider)
_IDLE_TRACER_PROVIDERS: Final = (trace.ProxyTracerProvider, trace.NoOpTracerProvider)


class _Attempt:
    """One observed attempt: its span (if tracing), its metric attributes, its timing."""

    __slots__ = (
        "_base",
        "_detached",
        "_detailed",
        "_ended",
        "_measuring",
        "_observer",
        "_span",
        "_started",
        "_status",
        "_streaming",
        "_token",
    )

    def __init__(
        self,
        observer: OpenTelemetryObserver,
        span: Span | None,
        token: Token[Context],
        base: dict[str, AttributeValue],
        streaming: bool,
        measuring: bool,
        detailed: bool,
    ) -> None:
        self._observer = observer
        self._detailed = detailed
        self._span = span
        self._token = token
        self._base = base
        self._streaming = streaming
        self._measuring = measuring
        self._started = observer._clock()
        self._status: int | None = None
        self._detached = False
        self._ended = False

    def _detach(self) -> None:
        # The suppression key and the span are current only while the attempt is on the
        # wire (in the task that sends it); a stream's body is read by the caller's code.
        if not self._detached:
            self._detached = True
            otel_context.detach(self._token)

    def response(self, response: HttpResponse) -> None:
        """Record the status (and, for a verb, the body size); a stream's duration ends here."""
        self._detach()
        status = response.status
        self._status = status
        span = self._span
        if span is not None:
            if status >= 400:
                span.set_attributes(
                    {
                        HTTP_RESPONSE_STATUS_CODE: status,
                        NETWORK_PROTOCOL_VERSION: _PROTOCOL_VERSION,
                        ERROR_TYPE: str(status),
                    }
                )
                span.set_status(Status(StatusCode.ERROR))
            else:
                span.set_attributes(
                    {
                        HTTP_RESPONSE_STATUS_CODE: status,
                        NETWORK_PROTOCOL_VERSION: _PROTOCOL_VERSION,
                    }
                )
        if self._measuring:
            observer = self._observer
            attributes = self._metric_attributes(None)
            observer._duration.record(observer._clock() - self._started, attributes)
            if self._detailed and not self._streaming:
                observer._body_in.record(len(response.body), self._base)

    def first_byte(self) -> None:
        """Record the stream's time to first byte."""
        if self._measuring:
            observer = self._observer
            observer._stream_ttfb.record(observer._clock() - self._started, self._base)

    def end(self, error: BaseException | None = None) -> None:
        """End the span (with ``error``, if any) and the attempt's active count."""
        if self._ended:
            return
        self._ended = True
        self._detach()
        observer = self._observer
        span = self._span
        if error is not None and span is not None:
            kind = error_type(error)
            phase = timeout_phase(error)
            if phase is None:
                span.set_attribute(ERROR_TYPE, kind)
            else:
                span.set_attributes({ERROR_TYPE: kind, _TIMEOUT_PHASE: phase})
            span.add_event(
                "exception", {EXCEPTION_TYPE: kind, EXCEPTION_MESSAGE: safe_message(error)}
            )
            span.set_status(Status(StatusCode.ERROR))
        if self._measuring:
            now = observer._clock()
            if self._status is None:
                # No response: the duration ends with the failure.
                observer._duration.record(now - self._started, self._metric_attributes(error))
            elif self._streaming:
                observer._stream_duration.record(now - self._started, self._base)
            if self._detailed:
                observer._active.add(-1, self._base)
        if span is not None:
            span.end()

    def _metric_attributes(self, error: BaseException | None) -> dict[str, AttributeValue]:
        attributes = dict(self._base)
        status = self._status
        if status is not None:
            attributes[HTTP_RESPONSE_STATUS_CODE] = status
            attributes[NETWORK_PROTOCOL_VERSION] = _PROTOCOL_VERSION
            if status >= 400:
                attributes[ERROR_TYPE] = str(status)
        elif error is not None:
            attributes[ERROR_TYPE] = error_type(error)
        return attributes
