"""The shape of the seed's protocol snippet: any object with the seven methods satisfies it.

(The seed annotates the methods ``-> HttpResponse``; the design, and the seed's own examples,
return ``Result[HttpResponse, HTTPClientError]``.)
"""

from typing import Any

from lexigram.contracts.web import HTTPClientError, HTTPClientProtocol, HttpResponse
from lexigram.result import Ok, Result


class StructuralClient:
    """Implements the protocol without inheriting from it."""

    async def get(self, url: str, **kwargs: Any) -> Result[HttpResponse, HTTPClientError]:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> Result[HttpResponse, HTTPClientError]:
        return await self.request("POST", url, **kwargs)

    async def put(self, url: str, **kwargs: Any) -> Result[HttpResponse, HTTPClientError]:
        return await self.request("PUT", url, **kwargs)

    async def delete(self, url: str, **kwargs: Any) -> Result[HttpResponse, HTTPClientError]:
        return await self.request("DELETE", url, **kwargs)

    async def patch(self, url: str, **kwargs: Any) -> Result[HttpResponse, HTTPClientError]:
        return await self.request("PATCH", url, **kwargs)

    async def head(self, url: str, **kwargs: Any) -> Result[HttpResponse, HTTPClientError]:
        return await self.request("HEAD", url, **kwargs)

    async def request(
        self, method: str, url: str, **kwargs: Any
    ) -> Result[HttpResponse, HTTPClientError]:
        return Ok(HttpResponse(status=200, url=url, method=method))


def test_structural_client_satisfies_the_protocol() -> None:
    client: HTTPClientProtocol = StructuralClient()  # checked statically by mypy
    assert isinstance(client, HTTPClientProtocol)  # and at runtime


def test_an_object_missing_a_verb_does_not() -> None:
    class MissingHead:
        async def get(self, url: str, **kwargs: Any) -> Result[HttpResponse, HTTPClientError]:
            return Ok(HttpResponse(200))

        post = put = delete = patch = request = get

    assert not isinstance(MissingHead(), HTTPClientProtocol)


async def test_structural_client_answers() -> None:
    client: HTTPClientProtocol = StructuralClient()
    result = await client.patch("https://h/x")
    assert result.is_ok()
    assert result.value.method == "PATCH"
