"""The metrics recorder protocol and two small recorders (no-op, in-memory)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, NamedTuple, Protocol, TypeAlias, runtime_checkable

__all__ = [
    "InMemoryMetricsRecorder",
    "MetricKind",
    "MetricRecord",
    "MetricsRecorderProtocol",
    "NoopMetricsRecorder",
]

MetricKind: TypeAlias = Literal["counter", "histogram", "gauge"]
"""The kind of a recorded metric; ``increment`` records a ``"counter"``."""


@runtime_checkable
class MetricsRecorderProtocol(Protocol):
    """Where the HTTP client sends its metrics.

    Synchronous on purpose: recording happens on the request path, and a recorder must only
    buffer or aggregate, never do I/O inline.
    """

    def increment(
        self, name: str, value: float = 1.0, tags: Mapping[str, str] | None = None
    ) -> None:
        """Add ``value`` to the counter ``name``."""
        ...

    def histogram(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        """Record one observation of ``value`` (e.g. a duration in seconds)."""
        ...

    def gauge(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        """Set the gauge ``name`` to ``value``."""
        ...


class NoopMetricsRecorder:
    """A recorder that discards everything."""

    __slots__ = ()

    def increment(
        self, name: str, value: float = 1.0, tags: Mapping[str, str] | None = None
    ) -> None:
        """Discard."""

    def histogram(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        """Discard."""

    def gauge(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        """Discard."""


class MetricRecord(NamedTuple):
    """One recorded call: ``(kind, name, value, tags)``."""

    kind: MetricKind
    name: str
    value: float
    tags: dict[str, str]


class InMemoryMetricsRecorder:
    """A recorder that keeps every call in ``records``, for tests."""

    __slots__ = ("records",)

    records: list[MetricRecord]
    """Every call so far, oldest first."""

    def __init__(self) -> None:
        self.records = []

    def _record(
        self, kind: MetricKind, name: str, value: float, tags: Mapping[str, str] | None
    ) -> None:
        # Copy the tags: callers may reuse and mutate their dict.
        self.records.append(MetricRecord(kind, name, value, dict(tags or {})))

    def increment(
        self, name: str, value: float = 1.0, tags: Mapping[str, str] | None = None
    ) -> None:
        """Record a ``"counter"`` entry."""
        self._record("counter", name, value, tags)

    def histogram(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        """Record a ``"histogram"`` entry."""
        self._record("histogram", name, value, tags)

    def gauge(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        """Record a ``"gauge"`` entry."""
        self._record("gauge", name, value, tags)

    def values(self, name: str, kind: MetricKind | None = None) -> list[float]:
        """The recorded values of ``name`` (optionally of one ``kind``), oldest first."""
        return [
            record.value
            for record in self.records
            if record.name == name and (kind is None or record.kind == kind)
        ]

    def clear(self) -> None:
        """Forget every record."""
        self.records.clear()
