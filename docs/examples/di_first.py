"""The DI guide's first example: a module that wires the HTTP client and a service using it.

``BillingClient`` depends on ``HTTPClientProtocol``; the container builds it from the client
that ``HTTPModule`` registers, and the application closes that client when it stops.

Run it: ``uv run --frozen docs/examples/di_first.py``.
"""

import asyncio

from _partner import partner_api  # a stand-in partner API on 127.0.0.1
from billing import BillingClient  # docs/examples/billing.py

from lexigram import Application
from lexigram.contracts.web import HTTPClientProtocol
from lexigram.di import Container, Key, provide
from lexigram.di.module import Module, module
from lexigram.http import HTTPClientConfig, HTTPModule

PARTNER_URL = Key[str]("partner_url")  # a named key: a value without a type of its own


async def billing_client(container: Container) -> BillingClient:
    """A factory: the container passes itself; sync or async both work."""
    http = await container.resolve(HTTPClientProtocol)
    partner = await container.resolve(PARTNER_URL)
    return BillingClient(http, token="demo-token", base_url=f"{partner}/v1")


@module(
    imports=[HTTPModule.configure(HTTPClientConfig())],
    providers=[provide(BillingClient, billing_client)],
    exports=[BillingClient],
)
class AppModule(Module):
    pass


async def main(partner: str) -> None:
    async with Application.boot(
        modules=[AppModule], providers=[provide(PARTNER_URL, partner)]
    ) as app:
        billing = await app.container.resolve(BillingClient)  # typed BillingClient
        # Ok(Invoice(id='inv_1', amount_cents=4200))
        print(await billing.fetch_invoice("inv_1"))


async def run() -> None:
    # In production `partner` is "https://api.partner.example.com".
    async with partner_api() as partner:
        await main(partner)


if __name__ == "__main__":
    asyncio.run(run())
