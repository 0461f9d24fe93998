"""The webhook signature as a receiver checks it: genuine, fresh and first-seen only."""

from __future__ import annotations

import pytest

from tactful.deliver.signature import (
    KEY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    ReplayGuard,
    headers,
    sign,
    verify,
)
from tactful.errors import ConfigError, SignatureRejected

SECRET = b"x" * 32
BODY = b'{"idempotency_key":"tm_1","title":"hi"}'
T = 1_767_225_600


def test_the_signature_is_an_hmac_of_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(SECRET, b"1767225600." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, T, BODY) == f"v1={expected}"


def test_a_genuine_request_gives_its_key_and_header_case_does_not_matter() -> None:
    h = {k.lower(): v for k, v in headers(SECRET, "tm_1", BODY, timestamp=T).items()}
    assert verify(SECRET, h, BODY, now=T + 10) == "tm_1"


@pytest.mark.parametrize(("change", "message"), [
    (lambda h, b: (h, b + b" "), "webhook signature does not match the body"),
    (lambda h, b: ({**h, TIMESTAMP_HEADER: str(T + 1)}, b),
     "webhook signature does not match the body"),
    (lambda h, b: ({**h, TIMESTAMP_HEADER: str(T - 301)}, b),
     "webhook timestamp is 311 s away from now (tolerance 300 s): stale or replayed"),
    (lambda h, b: ({**h, TIMESTAMP_HEADER: "yesterday"}, b),
     "webhook timestamp is not Unix seconds"),
    (lambda h, b: ({k: v for k, v in h.items() if k != SIGNATURE_HEADER}, b),
     "webhook lacks Tactful-Idempotency-Key, Tactful-Timestamp or Tactful-Signature"),
    (lambda h, b: ({**h, KEY_HEADER: "tm_2"}, b),
     "the Tactful-Idempotency-Key header differs from the signed body's key"),
])
def test_a_tampered_stale_or_incomplete_request_is_refused(change, message) -> None:  # type: ignore[no-untyped-def]
    h, b = change(headers(SECRET, "tm_1", BODY, timestamp=T), BODY)
    with pytest.raises(SignatureRejected) as info:
        verify(SECRET, h, b, now=T + 10)
    assert str(info.value) == message
    assert info.value.status_code == 401


def test_a_replay_of_an_accepted_request_is_refused_but_a_new_signing_is_not() -> None:
    guard = ReplayGuard()
    h = headers(SECRET, "tm_1", BODY, timestamp=T)
    assert verify(SECRET, h, BODY, now=T, guard=guard) == "tm_1"
    with pytest.raises(SignatureRejected, match="replayed"):
        verify(SECRET, h, BODY, now=T + 1, guard=guard)
    # a retry by the sender is signed again: it passes the guard, and the key dedups it
    retry = headers(SECRET, "tm_1", BODY, timestamp=T + 5)
    assert verify(SECRET, retry, BODY, now=T + 6, guard=guard) == "tm_1"


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ConfigError, match="at least 32"):
        sign(b"short", T, BODY)
