"""The client guide's first example: the client from the container, one GET, its Result.

Run it: ``uv run --frozen docs/examples/client_first_call.py``.
"""

import asyncio

from _partner import partner_api  # a stand-in partner API on 127.0.0.1

from lexigram import Application
from lexigram.contracts.web import HTTPClientProtocol, HTTPStatusError
from lexigram.di.module import Module, module
from lexigram.http import HTTPClientConfig, HTTPModule
from lexigram.result import Err, Ok


@module(imports=[HTTPModule.configure(HTTPClientConfig())])
class AppModule(Module):
    pass


async def main(partner: str) -> None:
    async with Application.boot(modules=[AppModule]) as app:
        http = await app.container.resolve(HTTPClientProtocol)
        result = await http.get(f"{partner}/v1/invoices/inv_1")
        match result:
            case Ok(response):
                # 200 {'id': 'inv_1', 'amount_cents': 4200}
                print(response.status, response.json)
            case Err(HTTPStatusError(status=404)):
                print("no such invoice")
            case Err(error):
                print(f"the partner failed: {error}")


async def run() -> None:
    # In production `partner` is "https://api.partner.example.com".
    async with partner_api() as partner:
        await main(partner)


if __name__ == "__main__":
    asyncio.run(run())
