"""``Headers``: case-insensitive, validated, optionally read-only."""

from __future__ import annotations

import pickle
from collections.abc import MutableMapping

import pytest

from lexigram.contracts.web import REDACTED, Headers, InvalidHeaderError


def test_is_a_mutable_mapping() -> None:
    assert isinstance(Headers(), MutableMapping)


def test_case_insensitive_lookup_keeps_original_case() -> None:
    headers = Headers({"Content-Type": "application/json"})
    assert headers["content-type"] == "application/json"
    assert headers["CONTENT-TYPE"] == "application/json"
    assert "content-TYPE" in headers
    assert list(headers) == ["Content-Type"]


def test_setting_in_other_case_replaces_in_place() -> None:
    headers = Headers([("A", "1"), ("B", "2")])
    headers["a"] = "3"
    assert list(headers.items()) == [("a", "3"), ("B", "2")]
    assert len(headers) == 2


def test_preserves_insertion_order() -> None:
    headers = Headers()
    for name in ("Zeta", "Alpha", "Mid"):
        headers[name] = "v"
    assert list(headers) == ["Zeta", "Alpha", "Mid"]


def test_constructor_accepts_mapping_pairs_none_and_headers() -> None:
    assert dict(Headers({"A": "1"})) == {"A": "1"}
    assert dict(Headers([("A", "1")])) == {"A": "1"}
    assert dict(Headers(None)) == {}
    original = Headers({"A": "1"})
    assert dict(Headers(original)) == {"A": "1"}


def test_repeated_names_in_pairs_are_combined_under_the_first_spelling() -> None:
    headers = Headers([("Accept", "a"), ("ACCEPT", "b")])
    assert list(headers.items()) == [("Accept", "a, b")]


def test_add() -> None:
    headers = Headers()
    headers.add("Via", "1.1 a")
    headers.add("via", "1.1 b")
    assert headers["VIA"] == "1.1 a, 1.1 b"


def test_delete_case_insensitive() -> None:
    headers = Headers({"X-One": "1"})
    del headers["x-one"]
    assert "X-One" not in headers
    with pytest.raises(KeyError):
        del headers["x-one"]


def test_get_and_setdefault() -> None:
    headers = Headers({"X-A": "1"})
    assert headers.get("x-a") == "1"
    assert headers.get("missing") is None
    assert headers.setdefault("x-a", "2") == "1"
    assert headers.setdefault("X-B", "2") == "2"
    assert headers["x-b"] == "2"


def test_contains_non_string_is_false() -> None:
    key: object = 1
    assert key not in Headers({"A": "1"})


@pytest.mark.parametrize("value", ["a\rb", "a\nb", "a\r\nX-Evil: 1", "a\x00b"])
def test_value_with_cr_lf_nul_is_rejected_naming_the_header(value: str) -> None:
    headers = Headers()
    with pytest.raises(InvalidHeaderError) as info:
        headers["X-Custom"] = value
    assert info.value.header == "X-Custom"
    assert "X-Custom" in str(info.value)
    assert "X-Custom" not in headers


def test_rejected_value_is_never_echoed() -> None:
    with pytest.raises(InvalidHeaderError) as info:
        Headers({"Authorization": "Bearer sk-secret\r\n"})
    assert "sk-secret" not in str(info.value)
    assert "sk-secret" not in repr(info.value)
    assert info.value.header == "Authorization"


@pytest.mark.parametrize("name", ["", "X Space", "X:Colon", "X\r\nY", "X\x00", "Ünicode", "a(b)"])
def test_invalid_names_are_rejected(name: str) -> None:
    with pytest.raises(InvalidHeaderError):
        Headers()[name] = "v"


def test_invalid_name_shows_only_the_valid_prefix() -> None:
    # People pass whole "Name: value" lines by mistake; the value part must not leak.
    with pytest.raises(InvalidHeaderError) as info:
        Headers()["Authorization: Bearer sk-secret"] = "x"
    assert info.value.header == "Authorization"
    assert "sk-secret" not in str(info.value)


def test_validation_applies_to_constructor_update_and_add() -> None:
    with pytest.raises(InvalidHeaderError):
        Headers({"X": "a\nb"})
    with pytest.raises(InvalidHeaderError):
        Headers([("X", "a\nb")])
    headers = Headers()
    with pytest.raises(InvalidHeaderError):
        headers.update({"X": "a\nb"})
    with pytest.raises(InvalidHeaderError):
        headers.add("X", "a\rb")


def test_token_characters_are_allowed() -> None:
    headers = Headers()
    headers["X-Weird!#$%&'*+.^_`|~09az"] = "ok"
    assert len(headers) == 1


def test_readonly_refuses_every_mutation() -> None:
    headers = Headers({"A": "1"}, readonly=True)
    assert headers.readonly
    with pytest.raises(TypeError):
        headers["B"] = "2"
    with pytest.raises(TypeError):
        del headers["A"]
    with pytest.raises(TypeError):
        headers.update({"B": "2"})
    with pytest.raises(TypeError):
        headers.pop("A")
    with pytest.raises(TypeError):
        headers.setdefault("C", "3")
    with pytest.raises(TypeError):
        headers.add("A", "2")
    assert dict(headers) == {"A": "1"}


def test_copy_is_mutable_and_independent() -> None:
    frozen = Headers({"A": "1"}, readonly=True)
    copy = frozen.copy()
    assert not copy.readonly
    copy["B"] = "2"
    assert "B" not in frozen


def test_as_readonly() -> None:
    headers = Headers({"A": "1"})
    frozen = headers.as_readonly()
    assert frozen.readonly
    assert frozen.as_readonly() is frozen
    headers["B"] = "2"
    assert "B" not in frozen


def test_equality_is_case_insensitive_and_order_insensitive() -> None:
    headers = Headers({"Content-Type": "text/plain", "X-A": "1"})
    assert headers == {"content-type": "text/plain", "x-a": "1"}
    assert headers == Headers({"X-A": "1", "CONTENT-TYPE": "text/plain"})
    assert headers != {"content-type": "text/html", "x-a": "1"}
    assert headers != {"content-type": "text/plain"}
    assert headers != [("Content-Type", "text/plain"), ("X-A", "1")]


def test_equality_is_case_sensitive_for_values() -> None:
    assert Headers({"A": "x"}) != {"a": "X"}


def test_repr_redacts_sensitive_values() -> None:
    headers = Headers({"Authorization": "Bearer sk-live", "Cookie": "s=1", "Accept": "*/*"})
    text = repr(headers)
    assert "sk-live" not in text
    assert "s=1" not in text
    assert REDACTED in text
    assert "*/*" in text


def test_lower_items() -> None:
    assert Headers({"X-A": "1"}).lower_items() == [("x-a", "1")]


def test_pickle_keeps_items_and_readonly() -> None:
    headers = Headers([("X-A", "1"), ("X-B", "2")], readonly=True)
    restored = pickle.loads(pickle.dumps(headers))
    assert list(restored.items()) == [("X-A", "1"), ("X-B", "2")]
    assert restored.readonly


def test_slotted() -> None:
    assert not hasattr(Headers(), "__dict__")
