"""Clocks: the one :class:`FakeClock` that resilience strategies, the client and the test
fixtures share (``lexigram.resilience.FakeClock`` and ``lexigram.testing.http.FakeClock`` are
this class).
"""

from lexigram.contracts.clock._fake import FakeClock

__all__ = ["FakeClock"]
