"""What a route matches on, and how a request differs from it.

- method: exact, case-insensitive; ``None`` matches any method.
- URL, one of: an exact URL (scheme and host case-insensitive, default port ignored, path and
  query as written); a template whose ``{name}`` stands for one path segment and ``{name:path}``
  for the rest of the path (``https://h/v1/{rest:path}`` is a prefix); a compiled regex searched
  in the URL without its query string. A relative URL is joined to the router's ``base_url``.
  A query string in an exact or template URL adds required parameters.
- ``params``: partial; each named parameter must be present with exactly these values (from
  the URL's query and the request's ``params`` together).
- ``headers``: partial, names case-insensitive, values exact.
- ``json``: the body parsed as JSON, partial: objects may hold more keys than expected, at any
  depth; arrays must have the same length. ``content``: the raw body, exactly.

``ANY`` matches any value, at any depth. Differences are described for error messages with
everything secret redacted: URLs through ``redact_url``, sensitive header, parameter and JSON
key values never shown, raw bodies summarised by size.
"""

from __future__ import annotations

import contextlib
import json as _jsonlib
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, TypeAlias
from urllib.parse import parse_qsl, urlsplit

from lexigram.contracts.web import Headers, Redactor, RequestBody, RequestContext, redact_url

__all__ = ["ANY", "MISSING", "Check", "JSONPattern", "Matcher", "RequestView", "param_text"]


def body_bytes(body: bytes | RequestBody | None) -> bytes | None:
    """The request body as bytes (a ``RequestBody`` is read by the router before matching)."""
    return None if isinstance(body, RequestBody) else body


_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_PLACEHOLDER: Final = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::(path))?\}")
_REDACTOR: Final = Redactor()
_MAX_SHOWN: Final = 80
_MAX_JSON_DIFFS: Final = 5

# Weights of a difference when looking for the closest route: a route for the same URL with
# another method is "closer" than one for the same method and another URL.
URL_WEIGHT: Final = 4
METHOD_WEIGHT: Final = 3
DETAIL_WEIGHT: Final = 1


class _AnyValue:
    """The type of :data:`ANY`."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return True

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "ANY"


ANY: Final = _AnyValue()
"""Matches any value: a header or parameter value, a JSON value at any depth. Also equal to
everything, so ``call.json == {"id": ANY}`` works in assertions."""


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Final = _Missing()
"""The "not given" default where ``None`` is a valid value (``json=None`` matches ``null``)."""

JSONPattern: TypeAlias = Any
"""A JSON value in which ``ANY`` may stand for any value."""

Check: TypeAlias = Callable[["RequestView"], str | None]
"""An extra criterion of a matcher: what differs (one line, redacted), ``None`` if nothing."""


def param_text(value: Any) -> str:
    """A parameter value as the client sends it (``True`` -> ``"true"``, ``None`` -> ``""``)."""
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return str(value)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else f"{text[: _MAX_SHOWN - 3]}..."


def split_url(url: str) -> tuple[str, str, str, str]:
    """``(scheme, host[:port], path, query)``, normalised for comparison; user-info dropped."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{netloc}:{port}"
    return scheme, netloc, parts.path or "/", parts.query


def join_url(base_url: str, path: str) -> str:
    """``base_url`` + ``path`` the way ``BaseURLHTTPClient`` joins them (path appended)."""
    parts = urlsplit(base_url)
    prefix = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
    return f"{prefix}/{path.lstrip('/')}" if path else prefix or "/"


def _is_absolute(url: str) -> bool:
    return bool(urlsplit(url).scheme) or url.startswith("//")


class RequestView:
    """A request as matchers see it, computed once per request."""

    __slots__ = (
        "_json",
        "_parsed",
        "bare_url",
        "body",
        "headers",
        "host",
        "method",
        "path",
        "query",
        "scheme",
    )

    def __init__(self, context: RequestContext) -> None:
        self.method = context.method.upper()
        url = context.url
        cut = len(url)
        for mark in ("?", "#"):
            found = url.find(mark)
            if found != -1:
                cut = min(cut, found)
        self.bare_url = url[:cut]
        self.scheme, self.host, self.path, query = split_url(url)
        self.query: list[tuple[str, str]] = [
            *parse_qsl(query, keep_blank_values=True),
            *context.params,
        ]
        self.headers: Headers = context.headers
        self.body = body_bytes(context.body)
        self._json: Any = MISSING
        self._parsed = False

    def values(self, name: str) -> list[str]:
        """Every value of query parameter ``name``, in order."""
        return [value for key, value in self.query if key == name]

    def json(self) -> Any:
        """The body parsed as JSON; ``MISSING`` when there is no body or it is not JSON."""
        if not self._parsed:
            self._parsed = True
            if self.body:
                with contextlib.suppress(ValueError):
                    self._json = _jsonlib.loads(self.body)
        return self._json


class _URLPattern:
    """One route's URL: exact, template or regex."""

    __slots__ = ("_host", "_path", "_regex", "_scheme", "_template", "display", "query")

    def __init__(
        self, url: str | re.Pattern[str], base_url: str | None, *, literal: bool = False
    ) -> None:
        self._regex: re.Pattern[str] | None = None
        self._template: re.Pattern[str] | None = None
        self.query: list[tuple[str, str]] = []
        self._scheme = self._host = self._path = ""
        if isinstance(url, re.Pattern):
            self._regex = url
            self.display = f"re:{url.pattern!r}"
            return
        if not _is_absolute(url):
            if base_url is None:
                raise ValueError(
                    f"route URL {redact_url(url)!r} is relative: give an absolute URL "
                    "or build the Router with base_url="
                )
            url = join_url(base_url, url)
        self.display = redact_url(url)
        self._scheme, self._host, self._path, query = split_url(url)
        if "{" in self._host:
            raise ValueError(f"route URL {self.display!r}: templates are allowed in the path only")
        self.query = parse_qsl(query, keep_blank_values=True)
        if not literal and _PLACEHOLDER.search(self._path) is not None:
            self._template = _compile_template(self._path)

    def match(self, view: RequestView) -> dict[str, str] | None:
        """The path parameters if ``view``'s URL matches, else ``None``."""
        if self._regex is not None:
            found = self._regex.search(view.bare_url)
            if found is None:
                return None
            return {name: value for name, value in found.groupdict().items() if value is not None}
        if view.scheme != self._scheme or view.host != self._host:
            return None
        if self._template is None:
            return {} if view.path == self._path else None
        found = self._template.fullmatch(view.path)
        return None if found is None else found.groupdict()


def _compile_template(path: str) -> re.Pattern[str]:
    pieces: list[str] = []
    position = 0
    for placeholder in _PLACEHOLDER.finditer(path):
        pieces.append(re.escape(path[position : placeholder.start()]))
        name = placeholder.group(1)
        pieces.append(f"(?P<{name}>.*)" if placeholder.group(2) else f"(?P<{name}>[^/]+)")
        position = placeholder.end()
    pieces.append(re.escape(path[position:]))
    try:
        return re.compile("".join(pieces))
    except re.error as exc:
        raise ValueError(f"invalid URL template {path!r}: {exc}") from None


def _expected_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Route parameters as ``name -> ANY | [values]`` (values as text)."""
    result: dict[str, Any] = {}
    for name, value in (params or {}).items():
        if value is ANY:
            result[name] = ANY
        elif isinstance(value, list | tuple):
            result[name] = [item if item is ANY else param_text(item) for item in value]
        else:
            result[name] = [param_text(value)]
    return result


class Matcher:
    """Everything one route requires of a request."""

    __slots__ = ("checks", "content", "headers", "json", "method", "params", "url")

    def __init__(
        self,
        method: str | None,
        url: str | re.Pattern[str] | None,
        *,
        base_url: str | None,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, Any] | None,
        json: JSONPattern,
        content: bytes | str | None,
        literal_url: bool = False,
        checks: Sequence[Check] = (),
    ) -> None:
        self.method = None if method is None else method.upper()
        self.url = None if url is None else _URLPattern(url, base_url, literal=literal_url)
        self.checks = tuple(checks)
        query: dict[str, Any] = {}
        if self.url is not None:
            for name, value in self.url.query:
                query.setdefault(name, []).append(value)
        query.update(_expected_params(params))
        self.params = query
        self.headers: list[tuple[str, Any]] = list((headers or {}).items())
        self.json = json
        self.content = content.encode() if isinstance(content, str) else content

    def describe(self) -> str:
        """``METHOD url`` plus the names of the other criteria (values left out)."""
        text = f"{self.method or '*'} {self.url.display if self.url is not None else '*'}"
        extras = []
        if self.params:
            extras.append(f"params {', '.join(self.params)}")
        if self.headers:
            extras.append(f"headers {', '.join(name for name, _ in self.headers)}")
        if self.json is not MISSING:
            extras.append("json")
        if self.content is not None:
            extras.append("content")
        return f"{text} (+{'; '.join(extras)})" if extras else text

    def match(self, view: RequestView) -> dict[str, str] | None:
        """The path parameters if ``view`` matches every criterion, else ``None``."""
        if self.method is not None and view.method != self.method:
            return None
        path_params: dict[str, str] = {}
        if self.url is not None:
            found = self.url.match(view)
            if found is None:
                return None
            path_params = found
        if self.differences(view, url=False, method=False):
            return None
        return path_params

    def differences(
        self, view: RequestView, *, url: bool = True, method: bool = True
    ) -> list[tuple[int, str]]:
        """``(weight, description)`` of each criterion ``view`` fails, redacted."""
        found: list[tuple[int, str]] = []
        if method and self.method is not None and view.method != self.method:
            found.append((METHOD_WEIGHT, f"method: expected {self.method}, got {view.method}"))
        if url and self.url is not None and self.url.match(view) is None:
            found.append(
                (
                    URL_WEIGHT,
                    f"url: expected {self.url.display}, got {redact_url(view.bare_url)}",
                )
            )
        for name, expected in self.params.items():
            problem = _param_difference(name, expected, view.values(name))
            if problem is not None:
                found.append((DETAIL_WEIGHT, problem))
        for name, expected in self.headers:
            problem = _header_difference(name, expected, view.headers.get(name))
            if problem is not None:
                found.append((DETAIL_WEIGHT, problem))
        if self.json is not MISSING:
            actual = view.json()
            if actual is MISSING:
                what = "no body" if not view.body else "a body that is not JSON"
                found.append((DETAIL_WEIGHT, f"json: expected a JSON body, got {what}"))
            else:
                diffs: list[str] = []
                _json_differences(self.json, actual, "json", False, diffs)
                found.extend((DETAIL_WEIGHT, diff) for diff in diffs)
        if self.content is not None:
            problem = _content_difference(self.content, view.body or b"")
            if problem is not None:
                found.append((DETAIL_WEIGHT, problem))
        for check in self.checks:
            problem = check(view)
            if problem is not None:
                found.append((DETAIL_WEIGHT, problem))
        return found


def _param_difference(name: str, expected: Any, actual: list[str]) -> str | None:
    if not actual:
        return f"param {name!r}: missing"
    if expected is ANY or expected == actual:
        return None
    if _REDACTOR.is_sensitive_query_param(name):
        return f"param {name!r}: differs (value hidden)"
    shown_expected = expected[0] if len(expected) == 1 else expected
    shown_actual = actual[0] if len(actual) == 1 else actual
    return f"param {name!r}: expected {_shown(shown_expected)}, got {_shown(shown_actual)}"


def _header_difference(name: str, expected: Any, actual: str | None) -> str | None:
    if actual is None:
        return f"header {name!r}: missing"
    if expected is ANY or expected == actual:
        return None
    if _REDACTOR.is_sensitive_header(name):
        return f"header {name!r}: differs (value hidden)"
    return f"header {name!r}: expected {_shown(expected)}, got {_shown(actual)}"


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "a string" if isinstance(value, str) else type(value).__name__


def _json_differences(
    expected: Any, actual: Any, path: str, secret: bool, found: list[str]
) -> None:
    """Append to ``found`` where ``actual`` fails the partial pattern ``expected``."""
    if len(found) >= _MAX_JSON_DIFFS or expected is ANY:
        return
    if isinstance(expected, Mapping):
        if not isinstance(actual, dict):
            found.append(f"{path}: expected an object, got {_json_type(actual)}")
            return
        for key, value in expected.items():
            key = str(key)  # JSON object keys are strings on the wire
            where = f"{path}[{key!r}]"
            if key not in actual:
                found.append(f"{where}: missing")
                continue
            sensitive = secret or _REDACTOR.is_sensitive_query_param(key)
            _json_differences(value, actual[key], where, sensitive, found)
        return
    if isinstance(expected, Sequence) and not isinstance(expected, str | bytes):
        if not isinstance(actual, list):
            found.append(f"{path}: expected an array, got {_json_type(actual)}")
            return
        if len(expected) != len(actual):
            found.append(f"{path}: expected {len(expected)} items, got {len(actual)}")
            return
        for index, (item, other) in enumerate(zip(expected, actual, strict=True)):
            _json_differences(item, other, f"{path}[{index}]", secret, found)
        return
    # True == 1 in Python, not in JSON.
    if isinstance(expected, bool) is isinstance(actual, bool) and expected == actual:
        return
    if secret:
        found.append(f"{path}: differs (value hidden)")
    else:
        found.append(f"{path}: expected {_shown(expected)}, got {_shown(actual)}")


def _content_difference(expected: bytes, actual: bytes) -> str | None:
    if expected == actual:
        return None
    # Sizes and an offset only: raw bodies may carry anything.
    if len(expected) != len(actual):
        return f"content: expected {len(expected)} bytes, got {len(actual)} bytes"
    offset = next(i for i, (a, b) in enumerate(zip(expected, actual, strict=True)) if a != b)
    return f"content: {len(actual)} bytes as expected, but they differ from byte {offset}"


def describe_body(body: bytes | None, headers: Headers) -> str:
    """A secret-free summary of a request body: size, content type, top-level JSON keys."""
    if not body:
        return "none"
    text = f"{len(body)} bytes"
    content_type = headers.get("Content-Type")
    if content_type:
        text += f" ({content_type.split(';')[0].strip()})"
    try:
        parsed = _jsonlib.loads(body)
    except ValueError:
        return text
    if isinstance(parsed, dict):
        keys = sorted(str(key) for key in parsed)
        more = ", ..." if len(keys) > 10 else ""
        return f"{text}, a JSON object with keys {', '.join(keys[:10])}{more}"
    if isinstance(parsed, list):
        return f"{text}, a JSON array of {len(parsed)} items"
    return text
