"""Following redirects ourselves, so credentials never reach another origin.

aiohttp's own redirect handling drops only ``Authorization``, ``Cookie`` and
``Proxy-Authorization`` when a redirect leaves the origin; API-key headers (``X-Api-Key``,
``Api-Key``, ``X-Auth-Token``...) would travel on. The transport therefore sends every request
with ``allow_redirects=False`` and, when the answer is a redirect, :func:`follow` takes over:

- 301, 302, 303, 307 and 308 with a ``Location`` are followed, up to ``http.max_redirects``
  hops (default 20, as httpx and Fetch); one more is :class:`HTTPRedirectError`, as is a
  ``Location`` that is not an http(s) URL. A redirect without ``Location`` is the answer.
- 303 (except for HEAD), and 301/302 answering a POST, become a GET without a body; the headers
  that described the body (``Content-Type``, ``Content-Length``, ``Content-Encoding``,
  ``Content-Language``, ``Content-Location``, ``Transfer-Encoding``) are dropped, as Fetch does.
  307 and 308 resend the method and the body.
- On a hop to another origin (scheme, host or port differs, so an https -> http downgrade
  too), every header the redactor treats as sensitive is dropped (the built-in list plus
  ``http.sensitive_headers``), and stays dropped for the rest of the chain. Same-origin hops
  keep them.
- Each intermediate response is released before the next hop; the call's deadline covers the
  whole chain (the transport arms it once, around the first request and every hop).

Cookies from the session's jar are chosen per hop by aiohttp, for the hop's URL.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Final

from yarl import URL

from lexigram.contracts.web import HTTPRedirectError, RequestBody, RequestContext
from lexigram.http._request import _origin
from lexigram.http._sanitize import redact_text

if TYPE_CHECKING:
    import aiohttp

__all__ = ["REDIRECT_STATUSES", "follow"]

REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})
"""Statuses that are followed (when the request allows it and a ``Location`` is present)."""

# Fetch's "request-body-header names", plus the framing headers of a body.
_BODY_HEADERS: Final = frozenset(
    {
        "content-type",
        "content-length",
        "content-encoding",
        "content-language",
        "content-location",
        "transfer-encoding",
    }
)

SendHop = Callable[
    [str, URL, list[tuple[str, str]] | None, bytes | RequestBody | None],
    Coroutine[Any, Any, "aiohttp.ClientResponse"],
]
"""Sends one hop: ``(method, url, headers, body)``, redirects not followed."""


def _target(current: URL, location: str, context: RequestContext) -> URL:
    """The absolute URL ``location`` points to from ``current``; HTTPRedirectError if none."""
    try:
        target = current.join(URL(location))
        # Same rules as a URL given by the caller (scheme, host, port, no control characters).
        _origin(str(target))
    except ValueError as exc:
        problem = str(exc)
    else:
        return target.with_fragment(None)
    # Raised outside the handler: the parser's exception (it may quote the URL) is not kept.
    raise HTTPRedirectError(
        reason=f"server redirected to an invalid URL ({redact_text(problem)})",
        location=location,
        method=context.method,
        url=context.url,
    )


async def follow(
    resp: aiohttp.ClientResponse,
    context: RequestContext,
    send_hop: SendHop,
    *,
    max_redirects: int,
    sensitive_headers: frozenset[str],
) -> aiohttp.ClientResponse:
    """Follow the redirects starting at ``resp`` (a redirect status); return the final response.

    Releases every response but the one returned, also when it raises.
    """
    method = context.method
    body = context.body
    store = context.headers._store
    headers = list(store.values())
    url = resp.url
    hops = 0
    while True:
        status = resp.status
        location = resp.headers.get("Location")
        if status not in REDIRECT_STATUSES or location is None:
            return resp
        resp.release()
        if hops >= max_redirects:
            raise HTTPRedirectError(
                reason=f"too many redirects (more than {max_redirects})",
                max_redirects=max_redirects,
                method=context.method,
                url=context.url,
            )
        hops += 1
        target = _target(url, location, context)
        if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
            method = "GET"
            body = None
            headers = [pair for pair in headers if pair[0].lower() not in _BODY_HEADERS]
        if target.origin() != url.origin():
            headers = [pair for pair in headers if pair[0].lower() not in sensitive_headers]
        url = target
        resp = await send_hop(method, target, headers or None, body)
