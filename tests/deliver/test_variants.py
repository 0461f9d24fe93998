"""Message-variant arms change what the customer reads: each message is worded by the arm its
decision logged, in the customer's language; the control arm's text is the insight's own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tactful.deliver import outbox
from tactful.deliver.content import Content
from tactful.deliver.variants import apply
from tactful.errors import ValidationError
from tactful.measure import experiments
from tactful.measure.assignment import Arm, Experiment
from tactful.store import schema
from tactful.store.store import Store

from .conftest import NOW, add_customer, add_decision, add_insight

BODY = "Your rent of £900 is due on 5 March. Last month it was £880."


def test_each_arm_words_its_messages_its_own_way(store: Store) -> None:
    experiments.create(store, Experiment(
        "wording", (Arm("plain"), Arm("warm", variant="friendly"), Arm("brief", variant="short")),
        NOW - timedelta(days=1)))
    titles, bodies = {}, {}
    d = schema.decisions
    for n, (arm, locale) in enumerate([("plain", "en_GB"), ("warm", "en_GB"),
                                       ("brief", "en_GB"), ("warm", "de_DE")]):
        cid = f"C-{n}"
        add_customer(store, cid, locale=locale)
        add_insight(store, f"ins-{n}", cid, locale=locale, message=BODY)
        did = add_decision(store, cid, channel="push", insight_ids=(f"ins-{n}",))
        with store.transaction() as conn:
            conn.execute(update(d).where(d.c.decision_id == did)
                         .values(experiments={"wording": arm}))
    assert outbox.enqueue(store, now=NOW) == 4
    o = schema.outbox
    for cid, title, body in store.rows(select(o.c.customer_id, o.c.title, o.c.body)):
        titles[cid], bodies[cid] = title, body
    assert titles["C-0"] == "Rent due in 3 days" and bodies["C-0"] == BODY
    assert titles["C-1"] == "Good to know: Rent due in 3 days"
    assert bodies["C-1"] == BODY + " We are here if you would like to talk it through."
    assert titles["C-2"] == "Rent due in 3 days"
    assert bodies["C-2"] == "Your rent of £900 is due on 5 March."
    assert titles["C-3"].startswith("Gut zu wissen: ")


def test_an_arms_variant_is_stored_and_an_unknown_one_refused(store: Store) -> None:
    e = Experiment("fmt", (Arm("a"), Arm("b", 2, variant="short")), NOW)
    experiments.create(store, e)
    assert experiments.get(store, "fmt").arms[1] == Arm("b", 2.0, None, "short")
    with pytest.raises(ValidationError, match="variant must be one of friendly, short; got 'loud'"):
        Arm("c", variant="loud")


def test_the_short_format_keeps_the_reason_and_the_call_to_action() -> None:
    c = Content("en", "en_GB", "T", "One. Two.", "Act", "Because.")
    short = apply(c, "short")
    assert (short.body, short.call_to_action, short.explanation) == ("One.", "Act", "Because.")
    assert apply(c, None) is c
