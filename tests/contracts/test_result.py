"""``lexigram.result``: Ok / Err behaviour."""

from __future__ import annotations

import pickle

import pytest

from lexigram.result import Err, Ok, Result, UnwrapError


def _half(n: int) -> Result[int, str]:
    return Ok(n // 2) if n % 2 == 0 else Err(f"{n} is odd")


def test_is_ok_and_is_err() -> None:
    assert Ok(1).is_ok() is True
    assert Ok(1).is_err() is False
    assert Err("x").is_ok() is False
    assert Err("x").is_err() is True


def test_value_and_error_on_the_right_side() -> None:
    assert Ok(3).value == 3
    assert Err("boom").error == "boom"


def test_value_on_err_raises_unwrap_error_carrying_the_result() -> None:
    err: Err[str] = Err("boom")
    with pytest.raises(UnwrapError) as info:
        _ = err.value
    assert info.value.result is err
    assert "boom" in str(info.value)


def test_error_on_ok_raises_unwrap_error() -> None:
    ok = Ok(3)
    with pytest.raises(UnwrapError) as info:
        _ = ok.error
    assert info.value.result is ok


def test_ok_and_err_accessors() -> None:
    # Through the union, as callers use them (on a bare Ok, err() is statically None).
    assert _half(2).ok() == 1
    assert _half(2).err() is None
    assert _half(3).ok() is None
    assert _half(3).err() == "3 is odd"


def test_unwrap() -> None:
    assert Ok(1).unwrap() == 1
    with pytest.raises(UnwrapError):
        Err("e").unwrap()


def test_unwrap_err() -> None:
    assert Err("e").unwrap_err() == "e"
    with pytest.raises(UnwrapError):
        Ok(1).unwrap_err()


def test_unwrap_on_err_chains_from_an_exception_error() -> None:
    cause = ValueError("bad")
    with pytest.raises(UnwrapError) as info:
        Err(cause).unwrap()
    assert info.value.__cause__ is cause


def test_unwrap_on_err_with_a_non_exception_has_no_cause() -> None:
    with pytest.raises(UnwrapError) as info:
        Err("plain").unwrap()
    assert info.value.__cause__ is None


def test_value_on_err_chains_from_an_exception_error() -> None:
    cause = KeyError("k")
    with pytest.raises(UnwrapError) as info:
        _ = Err(cause).value
    assert info.value.__cause__ is cause


def test_unwrap_or_and_unwrap_or_else() -> None:
    assert Ok(1).unwrap_or(0) == 1
    assert Err("e").unwrap_or(0) == 0
    assert Ok(1).unwrap_or_else(len) == 1
    assert Err("abc").unwrap_or_else(len) == 3


def test_unwrap_or_else_does_not_call_fn_on_ok() -> None:
    calls: list[object] = []
    Ok(1).unwrap_or_else(calls.append)
    assert calls == []


def test_expect_and_expect_err() -> None:
    assert Ok(1).expect("needed") == 1
    assert Err("e").expect_err("needed") == "e"
    with pytest.raises(UnwrapError, match="needed the value"):
        Err("e").expect("needed the value")
    with pytest.raises(UnwrapError, match="needed the error"):
        Ok(1).expect_err("needed the error")


def test_expect_chains_from_an_exception_error() -> None:
    cause = OSError("down")
    with pytest.raises(UnwrapError) as info:
        Err(cause).expect("needed")
    assert info.value.__cause__ is cause


def test_map_and_map_err() -> None:
    assert Ok(2).map(lambda n: n * 10) == Ok(20)
    assert Err("e").map(lambda n: n * 10) == Err("e")
    assert Err("e").map_err(str.upper) == Err("E")
    assert Ok(2).map_err(str.upper) == Ok(2)


def test_and_then_chains_fallible_steps() -> None:
    assert Ok(8).and_then(_half).and_then(_half) == Ok(2)
    assert Ok(6).and_then(_half).and_then(_half) == Err("3 is odd")
    assert Err("first").and_then(_half) == Err("first")


def test_or_else_recovers() -> None:
    def recover(error: str) -> Result[int, str]:
        return Ok(0) if error == "soft" else Err(f"hard: {error}")

    assert Err("soft").or_else(recover) == Ok(0)
    assert Err("x").or_else(recover) == Err("hard: x")
    assert Ok(5).or_else(recover) == Ok(5)


def test_equality() -> None:
    assert Ok(1) == Ok(1)
    assert Ok(1) != Ok(2)
    assert Err(1) == Err(1)
    assert Ok(1) != Err(1)
    assert Err(1) != Ok(1)
    assert Ok(1) != 1


def test_hash_is_consistent_with_equality() -> None:
    assert hash(Ok(1)) == hash(Ok(1))
    assert len({Ok(1), Ok(1), Err(1)}) == 2


def test_repr() -> None:
    assert repr(Ok(1)) == "Ok(1)"
    assert repr(Err("x")) == "Err('x')"


def test_no_truthiness_override() -> None:
    # Deliberately no __bool__ / __len__: an Err must not silently be "falsy".
    assert not hasattr(Ok, "__bool__")
    assert not hasattr(Err, "__bool__")
    assert not hasattr(Ok, "__len__")
    assert bool(Err("e")) is True


def test_immutable_and_slotted() -> None:
    ok = Ok(1)
    with pytest.raises(AttributeError):
        ok._value = 2
    assert not hasattr(ok, "__dict__")


def test_pattern_matching() -> None:
    def describe(result: Result[int, str]) -> str:
        match result:
            case Ok(value):
                return f"ok {value + 1}"
            case Err(error):
                return f"err {error.upper()}"

    assert describe(Ok(1)) == "ok 2"
    assert describe(Err("x")) == "err X"


def test_pattern_matching_with_keyword() -> None:
    match Ok(5):
        case Ok(value=5):
            matched = True
        case _:
            matched = False
    assert matched


def test_pickle_round_trip() -> None:
    assert pickle.loads(pickle.dumps(Ok([1, 2]))) == Ok([1, 2])
    assert pickle.loads(pickle.dumps(Err("e"))) == Err("e")
    error = pickle.loads(pickle.dumps(UnwrapError(Err("e"), "msg")))
    assert error.result == Err("e")
    assert str(error) == "msg"


def test_result_alias_is_subscriptable_at_runtime() -> None:
    alias = Result[int, str]
    assert {arg.__origin__ for arg in alias.__args__} == {Ok, Err}
