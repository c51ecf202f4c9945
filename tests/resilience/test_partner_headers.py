"""Partner rate-limit headers: when a spent quota resets, per unit."""

from __future__ import annotations

import pytest

from lexigram.contracts.web import Headers
from lexigram.resilience import exhausted_for, parse_go_duration

NOW = 1_700_000_000.0  # 2023-11-14T22:13:20Z


def wall() -> float:
    return NOW


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("6m0s", 360.0),
        ("1s", 1.0),
        ("20ms", 0.02),
        ("1h2m3.5s", 3723.5),
        ("0.5", 0.5),
        ("7", 7.0),
        ("250us", 0.00025),
    ],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "soon", "6m0", "-1s", "1x", "s", "inf"])
def test_unreadable_go_durations(text: str) -> None:
    assert parse_go_duration(text) is None


def test_openai_headers_per_unit() -> None:
    headers = Headers(
        {
            "x-ratelimit-limit-requests": "60",
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": "6m0s",
            "x-ratelimit-remaining-tokens": "150",
            "x-ratelimit-reset-tokens": "20ms",
        }
    )
    assert exhausted_for(200, headers, wall) == {"requests": 360.0}
    headers = Headers({"X-RateLimit-Remaining-Tokens": "0", "X-RateLimit-Reset-Tokens": "1m30s"})
    assert exhausted_for(200, headers, wall) == {"tokens": 90.0}


def test_anthropic_headers_are_rfc3339_times() -> None:
    headers = Headers(
        {
            "anthropic-ratelimit-requests-remaining": "12",
            "anthropic-ratelimit-requests-reset": "2023-11-14T22:14:00Z",
            "anthropic-ratelimit-input-tokens-remaining": "0",
            "anthropic-ratelimit-input-tokens-reset": "2023-11-14T22:13:50Z",
            "anthropic-ratelimit-output-tokens-remaining": "0",
            "anthropic-ratelimit-output-tokens-reset": "2023-11-14T23:13:20+01:00",
        }
    )
    # The later of the two token resets wins; the requests quota is not spent.
    assert exhausted_for(200, headers, wall) == {"tokens": 30.0}


def test_ietf_structured_fields() -> None:
    headers = Headers({"RateLimit": '"default";r=0;t=30, "daily";r=500;t=3600'})
    assert exhausted_for(200, headers, wall) == {"*": 30.0}
    # No t: the policy's window says how long.
    headers = Headers(
        {"RateLimit": '"burst";r=0', "RateLimit-Policy": '"burst";q=100;w=60, "day";q=1000;w=86400'}
    )
    assert exhausted_for(200, headers, wall) == {"*": 60.0}


def test_ietf_older_drafts() -> None:
    assert exhausted_for(200, Headers({"RateLimit": "limit=10, remaining=0, reset=7"}), wall) == {
        "*": 7.0
    }
    headers = Headers({"RateLimit-Remaining": "0", "RateLimit-Reset": "4"})
    assert exhausted_for(200, headers, wall) == {"*": 4.0}


def test_a_429_retry_after_holds_every_unit() -> None:
    assert exhausted_for(429, Headers({"Retry-After": "12"}), wall) == {"*": 12.0}
    assert exhausted_for(429, Headers({"retry-after-ms": "1500"}), wall) == {"*": 1.5}
    date = "Tue, 14 Nov 2023 22:13:30 GMT"
    assert exhausted_for(429, Headers({"Retry-After": date}), wall) == {"*": 10.0}
    # Retry-After on a success says nothing about a quota.
    assert exhausted_for(200, Headers({"Retry-After": "12"}), wall) == {}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-ratelimit-remaining-requests": "3", "x-ratelimit-reset-requests": "1s"},
        {"x-ratelimit-remaining-requests": "zero", "x-ratelimit-reset-requests": "1s"},
        {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "whenever"},
        {"anthropic-ratelimit-requests-remaining": "0", "anthropic-ratelimit-requests-reset": "x"},
        {"anthropic-ratelimit-requests-remaining": "0",
         "anthropic-ratelimit-requests-reset": "2023-11-14T22:14:00"},  # no zone: unreadable
        {"RateLimit": '"default";r=5;t=30'},
        {"RateLimit": "garbage"},
    ],
)  # fmt: skip
def test_nothing_spent_or_unreadable_says_nothing(headers: dict[str, str]) -> None:
    assert exhausted_for(200, Headers(headers), wall) == {}


def test_a_wild_reset_is_capped_at_a_day() -> None:
    headers = Headers(
        {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "9999h"}
    )
    assert exhausted_for(200, headers, wall) == {"requests": 86400.0}
