"""The REST API as a client meets it: keys and scopes, one customer per app key on every
route, problem details, limits, idempotent retries, metrics, and the committed OpenAPI."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tactful.service import feed as feeds
from tactful.service.keys import revoke_key
from tactful.store.store import Store

from .conftest import Api, make_api

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
AT = "2025-03-30T09:30:00Z"


def _decision_of(api: Api, customer_id: str) -> str:
    r = api.client.get(f"/v1/customers/{customer_id}/feed", headers=api.as_(api.admin))
    assert r.status_code == 200, r.text
    return str(r.json()["decision_id"])


ROUTES = [
    ("GET", "/v1/customers/{customer_id}/feed"),
    ("POST", "/v1/customers/{customer_id}/feedback"),
    ("GET", "/v1/customers/{customer_id}/preferences"),
    ("PUT", "/v1/customers/{customer_id}/preferences"),
    ("POST", "/v1/customers/{customer_id}/consents"),
    ("GET", "/v1/customers/{customer_id}/profile"),
    ("GET", "/v1/customers/{customer_id}/export"),
    ("DELETE", "/v1/customers/{customer_id}"),
    ("GET", "/v1/why/{decision_id}"),
    ("POST", "/v1/transactions"),
    ("POST", "/v1/transactions/batch"),
    ("POST", "/v1/events"),
    ("POST", "/v1/events/batch"),
]
"""Every /v1 route; ``test_the_walk_covers_every_route`` fails when the app grows one."""


def _request(api: Api, route: tuple[str, str], customer_id: str) -> tuple[str, Any]:
    """A valid request on ``route`` aimed at ``customer_id``: (url, json body)."""
    base = f"/v1/customers/{customer_id}"
    tx = {"account_id": "ACC-X", "booked_at": AT, "amount_minor": -100, "currency": "EUR"}
    event = {"customer_id": customer_id, "kind": "login", "occurred_at": AT}
    method, path = route
    if path == "/v1/why/{decision_id}":
        return f"/v1/why/{_decision_of(api, customer_id)}", None
    if path.endswith("/feedback"):
        return f"{base}/feedback", {"decision_id": _decision_of(api, customer_id),
                                    "kind": "rating", "rating": 4}
    bodies: dict[tuple[str, str], tuple[str, Any]] = {
        ("GET", "/v1/customers/{customer_id}/feed"): (f"{base}/feed", None),
        ("GET", "/v1/customers/{customer_id}/preferences"): (f"{base}/preferences", None),
        ("PUT", "/v1/customers/{customer_id}/preferences"): (
            f"{base}/preferences", {"channels": ["email"]}),
        ("POST", "/v1/customers/{customer_id}/consents"): (
            f"{base}/consents", {"purpose": "analytics", "action": "grant"}),
        ("GET", "/v1/customers/{customer_id}/profile"): (f"{base}/profile", None),
        ("GET", "/v1/customers/{customer_id}/export"): (f"{base}/export", None),
        ("DELETE", "/v1/customers/{customer_id}"): (base, None),
        ("POST", "/v1/transactions"): ("/v1/transactions", tx),
        ("POST", "/v1/transactions/batch"): ("/v1/transactions/batch", {"transactions": [tx]}),
        ("POST", "/v1/events"): ("/v1/events", event),
        ("POST", "/v1/events/batch"): ("/v1/events/batch", {"events": [event]}),
    }
    return bodies[(method, path)]


@pytest.fixture(scope="module")
def walk(bank_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One app for the whole walk: a refused request changes nothing."""
    copy = tmp_path_factory.mktemp("walk") / "bank.db"
    shutil.copy(bank_file, copy)
    store = Store.open(f"sqlite:///{copy}")
    try:
        yield make_api(store)
    finally:
        store.close()


def test_the_walk_covers_every_route(walk: Api) -> None:
    paths: dict[str, dict[str, Any]] = walk.app.openapi()["paths"]
    found = {(m.upper(), p) for p, ops in paths.items() if p.startswith("/v1/") for m in ops}
    assert found == set(ROUTES), "a new route needs its place in ROUTES"


@pytest.mark.parametrize("route", ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_an_app_key_reaches_no_other_customer(walk: Api, route: tuple[str, str]) -> None:
    """Each /v1 route, called with the app key for another customer: 403 or 404, never data."""
    url, body = _request(walk, route, walk.other)
    r = walk.client.request(route[0], url, json=body, headers=walk.as_(walk.app_key))
    assert r.status_code in (403, 404), (route, r.status_code, r.text)
    assert r.headers["content-type"] == "application/problem+json"
    assert walk.other not in r.text


def test_an_app_key_reaches_its_own_customer(api: Api) -> None:
    """The same walk for the key's own customer is answered, so the refusals above are the
    key's binding, not a broken route; ingest and erasure are not an app key's to call."""
    for route in ROUTES:
        url, body = _request(api, route, api.mine)
        r = api.client.request(route[0], url, json=body, headers=api.as_(api.app_key))
        method, path = route
        expected = 403 if path.startswith(("/v1/transactions", "/v1/events")) or (
            method == "DELETE") else 200
        assert r.status_code == expected, (route, r.text)


@pytest.mark.parametrize(("key", "method", "url", "status"), [
    ("ingest", "GET", "/v1/customers/{mine}/feed", 403),
    ("ingest", "DELETE", "/v1/customers/{mine}", 403),
    ("app", "POST", "/v1/events", 403),
    ("none", "GET", "/v1/customers/{mine}/feed", 401),
    ("bad", "GET", "/v1/customers/{mine}/feed", 401),
    ("admin", "GET", "/v1/customers/NOBODY/feed", 404),
    ("admin", "GET", "/v1/why/nope", 404),
])
def test_scopes_and_keys_are_checked(api: Api, key: str, method: str, url: str,
                                     status: int) -> None:
    tokens = {"ingest": api.ingest, "app": api.app_key, "admin": api.admin, "bad": "tk_x_y"}
    headers = api.as_(tokens[key]) if key in tokens else {}
    body = {"customer_id": api.mine, "kind": "login", "occurred_at": AT}
    r = api.client.request(method, url.format(mine=api.mine), headers=headers,
                           json=body if method == "POST" else None)
    assert r.status_code == status, r.text
    problem = r.json()
    assert problem["status"] == status and problem["title"] and "type" in problem
    if status == 401:
        assert r.headers["www-authenticate"] == "Bearer"


def test_a_revoked_key_is_refused_at_once(api: Api) -> None:
    from tactful.service.keys import list_keys

    url = f"/v1/customers/{api.mine}/preferences"
    assert api.client.get(url, headers=api.as_(api.app_key)).status_code == 200
    bound = next(k for k in list_keys(api.store) if k.customer_id == api.mine)
    revoke_key(api.store, key_id=bound.key_id)
    assert api.client.get(url, headers=api.as_(api.app_key)).status_code == 401


def test_an_unexpected_error_is_a_500_that_tells_nothing(api: Api,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("password=hunter2 at /srv/secret.py line 12")

    monkeypatch.setattr(feeds, "feed", broken)
    r = api.client.get(f"/v1/customers/{api.mine}/feed", headers=api.as_(api.admin))
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/problem+json"
    assert "hunter2" not in r.text and "secret" not in r.text and "Traceback" not in r.text


def test_invalid_bodies_are_422_problems_naming_the_field_not_echoing_it(api: Api) -> None:
    r = api.client.post("/v1/events", headers=api.as_(api.ingest), json={
        "customer_id": api.mine, "kind": "telepathy", "occurred_at": "2025-01-01T00:00:00"})
    assert r.status_code == 422
    fields = {tuple(e["loc"]) for e in r.json()["errors"]}
    assert ("body", "kind") in fields and ("body", "occurred_at") in fields  # naive time too
    assert "telepathy" not in r.text


def test_request_size_and_rate_are_limited(bank: Store) -> None:
    api = make_api(bank, api_max_body_bytes=2_000, api_rate_per_second=0.001, api_burst=3)
    big = {"events": [{"customer_id": api.mine, "kind": "login", "occurred_at": AT}] * 100}
    r = api.client.post("/v1/events/batch", headers=api.as_(api.ingest), json=big)
    assert r.status_code == 413 and r.json()["status"] == 413
    url = f"/v1/customers/{api.mine}/preferences"
    codes = [api.client.get(url, headers=api.as_(api.app_key)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    # the limit is per key: another key still gets through
    assert api.client.get(url, headers=api.as_(api.admin)).status_code == 200


def test_an_idempotent_retry_returns_the_first_answer(api: Api) -> None:
    headers = {**api.as_(api.ingest), "Idempotency-Key": "batch-1"}
    body = {"events": [{"customer_id": api.mine, "kind": "login", "occurred_at": AT}]}
    first = api.client.post("/v1/events/batch", headers=headers, json=body)
    again = api.client.post("/v1/events/batch", headers=headers, json=body)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() and first.json()["inserted"] == 1
    assert again.headers["idempotent-replayed"] == "true"
    plain = api.client.post("/v1/events/batch", headers=api.as_(api.ingest), json=body)
    assert plain.json()["duplicates"] == 1  # without the key, the natural id still holds
    other = api.client.post("/v1/events/batch", headers=headers, json={
        "events": [{"customer_id": api.mine, "kind": "logout", "occurred_at": AT}]})
    assert other.status_code == 409 and "another request" in other.json()["detail"]


def test_health_readiness_and_metrics(api: Api) -> None:
    assert api.client.get("/health").json() == {"status": "ok"}
    assert api.client.get("/ready").json() == {"status": "ready"}
    api.client.get(f"/v1/customers/{api.mine}/feed", headers=api.as_(api.app_key))
    text = api.client.get("/metrics").text
    assert ('tactful_http_requests_total{method="GET",route="/v1/customers/{customer_id}/feed",'
            'status="200"} 1.0') in text
    assert "tactful_http_request_seconds_bucket" in text
    assert api.mine not in text  # routes, not customers, label the figures


def test_the_committed_openapi_document_is_the_apps(api: Api) -> None:
    """Regenerate with: python -m tactful.api.openapi > docs/openapi.json"""
    from tactful.api.openapi import document

    committed = json.loads(OPENAPI.read_text(encoding="utf-8"))
    assert committed == json.loads(document(api.app)), (
        "the API changed: regenerate docs/openapi.json (python -m tactful.api.openapi)")


def test_the_keys_commands_create_list_and_revoke(bank: Store) -> None:
    from tactful.cli.app import app

    url = bank.url
    runner = CliRunner()
    made = runner.invoke(app, ["keys", "create", "--scope", "app", "--customer", "CUS-00000000",
                               "--db", url])
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("tk_")
    listed = runner.invoke(app, ["keys", "list", "--db", url])
    key_id = token[3:].split("_", 1)[0]
    assert key_id in listed.output and token not in listed.output
    assert runner.invoke(app, ["keys", "revoke", key_id, "--db", url]).exit_code == 0
    refused = runner.invoke(app, ["keys", "create", "--scope", "app", "--db", url])
    assert refused.exit_code != 0


def test_the_readme_flow_a_withdrawal_changes_the_very_next_feed(bank: Store) -> None:
    """The README's steps over HTTP with the customer's own app key: the feed, feedback, a
    withdrawal, and the next feed without what the withdrawn purpose allowed."""
    from tactful.service.keys import create_key
    from tactful.service.records import Scope

    api = make_api(bank)
    for cid in [f"CUS-{n:08d}" for n in range(30)]:
        key = create_key(bank, scope=Scope.APP, customer_id=cid).token
        first = api.client.get(f"/v1/customers/{cid}/feed", headers=api.as_(key)).json()
        message = first["message"]
        if message is None or message["family"] != "product_offer":
            continue
        fb = api.client.post(f"/v1/customers/{cid}/feedback", headers=api.as_(key), json={
            "decision_id": first["decision_id"], "kind": "impression"})
        assert fb.status_code == 200 and fb.json()["recorded"]
        done = api.client.post(f"/v1/customers/{cid}/consents", headers=api.as_(key),
                               json={"purpose": "marketing", "action": "withdraw"})
        assert done.status_code == 200 and "marketing" not in done.json()["held"]
        after = api.client.get(f"/v1/customers/{cid}/feed", headers=api.as_(key)).json()
        assert after["message"] is None or after["message"]["family"] != "product_offer"
        why = api.client.get(f"/v1/why/{after['decision_id']}", headers=api.as_(key)).json()
        assert {c["outcome"] for c in why["candidates"]
                if c["action_id"] == message["action_id"]} == {"no_consent"}
        # the service's clock stands still on the data's moment, yet each request is its own
        # decision: the message the customer saw stays logged beside the answer that followed
        assert after["decision_id"] != first["decision_id"]
        shown = api.client.get(f"/v1/why/{first['decision_id']}", headers=api.as_(key)).json()
        assert [c["action_id"] for c in shown["candidates"] if c["outcome"] == "chosen"] == [
            message["action_id"]]
        return
    raise AssertionError("no customer of the test bank is shown an offer")


def test_past_its_capacity_the_api_refuses_at_once_instead_of_queueing(
        bank: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    api = make_api(bank, api_max_in_flight=1)
    inside, release = threading.Event(), threading.Event()
    real = feeds.feed

    def slow(*args: Any, **kwargs: Any) -> Any:
        inside.set()
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(feeds, "feed", slow)
    answers: list[int] = []
    first = threading.Thread(target=lambda: answers.append(api.client.get(
        f"/v1/customers/{api.mine}/feed", headers=api.as_(api.app_key)).status_code))
    first.start()
    assert inside.wait(10)
    refused = api.client.get(f"/v1/customers/{api.mine}/preferences",
                             headers=api.as_(api.app_key))
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert refused.headers["content-type"] == "application/problem+json"
    assert api.client.get("/health").status_code == 200  # never refused
    release.set()
    first.join(10)
    assert answers == [200]
    assert api.client.get(f"/v1/customers/{api.mine}/preferences",
                          headers=api.as_(api.app_key)).status_code == 200
