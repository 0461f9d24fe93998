"""Schemathesis against the app's own OpenAPI document, in process (ASGI): generated requests,
valid and not, with an admin key; no answer is a 5xx and every answer conforms to the document
(status, content type, body schema). Bounded to a few examples per operation so it runs in
seconds; CI may raise ``SCHEMATHESIS_EXAMPLES``."""

from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck, given, settings

from tactful.store.store import Store

from .conftest import make_api

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "4"))


def test_no_5xx_and_every_answer_conforms(bank: Store) -> None:
    api = make_api(bank, api_rate_per_second=10_000.0, api_burst=10_000)
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app)
    headers = {"Authorization": f"Bearer {api.admin}"}
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers)

        check()
