"""``Ok`` / ``Err``: a two-case result type that ``mypy --strict`` can narrow.

Design notes:

- ``Ok`` and ``Err`` are ``@final`` so that ``Ok[T] | Err[E]`` is a closed union: ``match``
  statements narrow it and ``assert_never`` proves exhaustiveness.
- The "wrong side" accessors (``Ok.error``, ``Err.value``, ``Ok.unwrap_err``, ``Err.unwrap``) are
  typed ``NoReturn``. On the union, mypy joins ``T | Never`` into ``T``, which is what lets
  ``result.value.json`` type-check after an ``if result.is_err(): return ...`` guard without a
  cast, exactly as the documentation's ``BillingClient`` is written.
- Methods that would take a parameter of the covariant type (``unwrap_or``) take ``object`` on the
  side that ignores it, so both classes stay covariant (``Ok[bool]`` is an ``Ok[int]``).
- No ``__bool__``: ``if result:`` would be a bug magnet (is an ``Ok(0)`` false?), so instances are
  always truthy like any object and callers use ``is_ok()``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, Generic, Literal, NoReturn, TypeAlias, TypeVar, final

__all__ = ["Err", "Ok", "Result", "UnwrapError"]

_T = TypeVar("_T")
_E = TypeVar("_E")
_U = TypeVar("_U")
_F = TypeVar("_F")
_T_co = TypeVar("_T_co", covariant=True)
_E_co = TypeVar("_E_co", covariant=True)


class UnwrapError(Exception):
    """Raised when a result is unwrapped on the side it does not hold.

    ``result`` is the ``Ok`` or ``Err`` that was unwrapped. When an ``Err`` holding an exception
    is unwrapped, that exception is the ``__cause__``.
    """

    result: Result[Any, Any]

    def __init__(self, result: Result[Any, Any], message: str) -> None:
        super().__init__(message)
        self.result = result

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.result, str(self)))


def _cause(error: object) -> BaseException | None:
    return error if isinstance(error, BaseException) else None


@final
class Ok(Generic[_T_co]):
    """The success case of a :data:`Result`, holding ``value``."""

    __slots__ = ("_value",)
    __match_args__ = ("value",)

    _value: _T_co

    def __init__(self, value: _T_co) -> None:
        _set_value(self, value)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        # The immutable __setattr__ defeats the default slot-state protocol.
        return (Ok, (self._value,))

    def __repr__(self) -> str:
        return f"Ok({self._value!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Ok):
            return bool(self._value == other._value)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        if isinstance(other, Ok):
            return bool(self._value != other._value)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((Ok, self._value))

    def is_ok(self) -> Literal[True]:
        """Return ``True``: this is the success case."""
        return True

    def is_err(self) -> Literal[False]:
        """Return ``False``: this is not the failure case."""
        return False

    @property
    def value(self) -> _T_co:
        """The success value."""
        return self._value

    @property
    def error(self) -> NoReturn:
        """Always raises :class:`UnwrapError`: an ``Ok`` holds no error."""
        raise UnwrapError(self, f"called .error on {self!r}")

    def ok(self) -> _T_co:
        """Return the success value (``None`` on an ``Err``)."""
        return self._value

    def err(self) -> None:
        """Return ``None`` (the error on an ``Err``)."""

    def unwrap(self) -> _T_co:
        """Return the success value."""
        return self._value

    def unwrap_err(self) -> NoReturn:
        """Always raises :class:`UnwrapError`."""
        raise UnwrapError(self, f"called unwrap_err() on {self!r}")

    def unwrap_or(self, default: object) -> _T_co:
        """Return the success value, ignoring ``default``."""
        return self._value

    def unwrap_or_else(self, fn: Callable[[Any], object]) -> _T_co:
        """Return the success value without calling ``fn``."""
        return self._value

    def expect(self, message: str) -> _T_co:
        """Return the success value (an ``Err`` raises ``UnwrapError(message)``)."""
        return self._value

    def expect_err(self, message: str) -> NoReturn:
        """Always raises ``UnwrapError(message)``."""
        raise UnwrapError(self, f"{message}: {self!r}")

    def map(self, fn: Callable[[_T_co], _U]) -> Ok[_U]:
        """Return ``Ok(fn(value))``."""
        return Ok(fn(self._value))

    def map_err(self, fn: Callable[[Any], object]) -> Ok[_T_co]:
        """Return ``self`` unchanged (``fn`` only applies to an ``Err``)."""
        return self

    def and_then(self, fn: Callable[[_T_co], Result[_U, _F]]) -> Result[_U, _F]:
        """Return ``fn(value)``: chain a step that may itself fail."""
        return fn(self._value)

    def or_else(self, fn: Callable[[Any], object]) -> Ok[_T_co]:
        """Return ``self`` unchanged (``fn`` only applies to an ``Err``)."""
        return self


@final
class Err(Generic[_E_co]):
    """The failure case of a :data:`Result`, holding ``error``."""

    __slots__ = ("_error",)
    __match_args__ = ("error",)

    _error: _E_co

    def __init__(self, error: _E_co) -> None:
        _set_error(self, error)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        return (Err, (self._error,))

    def __repr__(self) -> str:
        return f"Err({self._error!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Err):
            return bool(self._error == other._error)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        if isinstance(other, Err):
            return bool(self._error != other._error)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((Err, self._error))

    def is_ok(self) -> Literal[False]:
        """Return ``False``: this is not the success case."""
        return False

    def is_err(self) -> Literal[True]:
        """Return ``True``: this is the failure case."""
        return True

    @property
    def value(self) -> NoReturn:
        """Always raises :class:`UnwrapError`: an ``Err`` holds no value."""
        raise UnwrapError(self, f"called .value on {self!r}") from _cause(self._error)

    @property
    def error(self) -> _E_co:
        """The error."""
        return self._error

    def ok(self) -> None:
        """Return ``None`` (the value on an ``Ok``)."""

    def err(self) -> _E_co:
        """Return the error (``None`` on an ``Ok``)."""
        return self._error

    def unwrap(self) -> NoReturn:
        """Always raises :class:`UnwrapError`, chained from the error if it is an exception."""
        raise UnwrapError(self, f"called unwrap() on {self!r}") from _cause(self._error)

    def unwrap_err(self) -> _E_co:
        """Return the error."""
        return self._error

    def unwrap_or(self, default: _U) -> _U:
        """Return ``default``."""
        return default

    def unwrap_or_else(self, fn: Callable[[_E_co], _U]) -> _U:
        """Return ``fn(error)``."""
        return fn(self._error)

    def expect(self, message: str) -> NoReturn:
        """Always raises ``UnwrapError(message)``, chained like :meth:`unwrap`."""
        raise UnwrapError(self, f"{message}: {self!r}") from _cause(self._error)

    def expect_err(self, message: str) -> _E_co:
        """Return the error (an ``Ok`` raises ``UnwrapError(message)``)."""
        return self._error

    def map(self, fn: Callable[[Any], object]) -> Err[_E_co]:
        """Return ``self`` unchanged (``fn`` only applies to an ``Ok``)."""
        return self

    def map_err(self, fn: Callable[[_E_co], _F]) -> Err[_F]:
        """Return ``Err(fn(error))``."""
        return Err(fn(self._error))

    def and_then(self, fn: Callable[[Any], object]) -> Err[_E_co]:
        """Return ``self`` unchanged (``fn`` only applies to an ``Ok``)."""
        return self

    def or_else(self, fn: Callable[[_E_co], Result[_U, _F]]) -> Result[_U, _F]:
        """Return ``fn(error)``: recover from the failure, or fail differently."""
        return fn(self._error)


Result: TypeAlias = Ok[_T] | Err[_E]
"""``Ok[T] | Err[E]``: narrow with ``is_ok()`` / ``match``, or read ``.value`` / ``.error``."""


# The slots' own setters: ``__setattr__`` refuses assignments, and these are cheaper than
# ``object.__setattr__`` (a result is built per call).
_set_value: Final[Callable[[Ok[Any], Any], None]] = vars(Ok)["_value"].__set__
_set_error: Final[Callable[[Err[Any], Any], None]] = vars(Err)["_error"].__set__
