"""make_connector: the keep-alive capping connector only where the cap can bind."""

from __future__ import annotations

from lexigram.http._connector import LimitedConnector, PoolConnector, make_connector


async def test_a_cap_below_the_per_host_limit_gets_the_capping_connector() -> None:
    connector = make_connector(max_keepalive=2, limit_per_host=5, limit=10)
    try:
        assert isinstance(connector, LimitedConnector)
        assert connector._max_keepalive == 2
        assert connector.limit_per_host == 5
    finally:
        await connector.close()


async def test_a_cap_that_cannot_bind_costs_nothing() -> None:
    # A host never has more than limit_per_host connections, idle ones included.
    for cap in (5, 50):
        connector = make_connector(max_keepalive=cap, limit_per_host=5, limit=10)
        try:
            assert type(connector) is PoolConnector
            assert connector.limit_per_host == 5
            assert connector.limit == 10
        finally:
            await connector.close()
