"""``FakeClock``, re-exported: the one fake clock lives in ``lexigram.contracts.clock``, so
resilience strategies, the client and these fixtures share one class (with ``.time``)."""

from lexigram.contracts.clock import FakeClock

__all__ = ["FakeClock"]
