"""Redacted stand-ins for backend exceptions, so no secret is reachable from our errors.

aiohttp's exceptions embed the request URL, query included, in their text (``ClientResponseError``:
``url='https://h/x?api_key=...'``; ``ConnectionTimeoutError``: ``Connection timeout to host
https://h/x?token=...``) and keep the request headers in attributes (``request_info``). Our
errors are raised with a :class:`RedactedCause` as ``__cause__`` instead: it names the original
exception type and carries its message with URLs and ``name=value`` secrets redacted, and the
original traceback (where it was raised), recursively for that exception's own cause. The
transport raises them outside its ``except`` blocks, so ``__context__`` does not point at the
original either.
"""

from __future__ import annotations

import re
from typing import Any, Final

from lexigram.contracts.web import REDACTED, redact_url
from lexigram.contracts.web._redaction import _DEFAULT_REDACTOR

__all__ = ["RedactedCause", "redact_text", "redacted_cause"]

# A URL inside free text: up to whitespace or a quote (aiohttp quotes URLs with ' or ").
_URL_IN_TEXT: Final = re.compile(r"""[A-Za-z][A-Za-z0-9+.\-]*://[^\s'"<>]*""")
# A name=value pair outside a URL (a request target "/x?token=..." in a parser message).
_PAIR_IN_TEXT: Final = re.compile(r"""(?<=[?&;\s])([A-Za-z0-9_.\-%]+)=([^&;\s'"<>]*)""")
# How deep a cause chain is copied (aiohttp's are one or two deep).
_MAX_DEPTH: Final = 8


def _redact_pair(match: re.Match[str]) -> str:
    name, value = match.group(1), match.group(2)
    if value and _DEFAULT_REDACTOR.is_sensitive_query_param(name):
        return f"{name}={REDACTED}"
    return match.group(0)


def redact_text(text: str) -> str:
    """``text`` with every URL in it redacted and sensitive ``name=value`` pairs hidden."""
    if "=" not in text and "@" not in text:
        return text
    text = _URL_IN_TEXT.sub(lambda match: redact_url(match.group(0)), text)
    return _PAIR_IN_TEXT.sub(_redact_pair, text)


class RedactedCause(Exception):
    """A backend exception as our errors show it: its type's name and its redacted message.

    ``original_type`` is the qualified name of the exception it stands for (for instance
    ``aiohttp.client_exceptions.ClientResponseError``).
    """

    original_type: str

    def __init__(self, original_type: str, message: str) -> None:
        self.original_type = original_type
        super().__init__(f"{original_type}: {message}" if message else original_type)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.original_type, str(self)))


def _rebuild(original_type: str, text: str) -> RedactedCause:
    cause = RedactedCause(original_type, "")
    cause.args = (text,)
    return cause


def redacted_cause(exc: BaseException, _depth: int = 0) -> RedactedCause:
    """The stand-in for ``exc`` (and, recursively, for what caused it)."""
    kind = type(exc)
    name = kind.__qualname__
    if kind.__module__ != "builtins":
        name = f"{kind.__module__}.{name}"
    try:
        message = redact_text(str(exc))
    except Exception:  # a broken __str__ must not hide the real error
        message = ""
    cause = RedactedCause(name, message)
    cause.__traceback__ = exc.__traceback__
    inner = exc.__cause__
    if inner is None and not exc.__suppress_context__:
        inner = exc.__context__
    if inner is not None and _depth < _MAX_DEPTH:
        cause.__cause__ = redacted_cause(inner, _depth + 1)
    return cause
