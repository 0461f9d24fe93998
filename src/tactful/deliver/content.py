"""What a message says: its text, in the customer's language, composed when it is enqueued.

An insight's message is the insight's own text, rendered in the customer's language when the
insight was produced (``insights.render``): the decision's lead insight (the first of its
``insight_ids``) speaks for the message. An offer has no insight behind it; its text comes from
``deliver/messages/<language>.toml``, rendered by the same sandboxed renderer with the bank's
product as facts. The text is copied into the outbox row, so what is sent is what was decided,
even if the insight later changes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from tactful.decide.catalog import ActionsCatalog, ActionSpec
from tactful.insights.render import Renderer
from tactful.store import schema

__all__ = ["Content", "compose", "offer_renderer", "spec_of"]

_CHUNK = 2_000


@dataclass(frozen=True, slots=True)
class Content:
    language: str
    locale: str
    title: str
    body: str
    call_to_action: str
    explanation: str


@cache
def offer_renderer() -> Renderer:
    """The insight renderer with the offers' messages added (``deliver/messages``)."""
    folder = Path(str(resources.files("tactful.deliver").joinpath("messages")))
    return Renderer.default(extra=folder)


def spec_of(catalog: ActionsCatalog, action_id: str) -> ActionSpec | None:
    """The catalog entry of ``action_id`` (an offer bound to a product, ``offer_x.P-1``, is the
    entry ``offer_x``)."""
    return catalog.actions.get(action_id) or catalog.actions.get(action_id.split(".", 1)[0])


def _relevance(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else dict(json.loads(value or "{}"))


def compose(conn: Connection, decisions: Sequence[Mapping[str, Any]],
            catalog: ActionsCatalog) -> dict[str, Content | None]:
    """Decision id -> the message's content, for decisions to send (rows of ``decisions``);
    None when there is nothing left to say (its insight or product is gone: erased)."""
    ids = sorted({str(d["customer_id"]) for d in decisions})
    locales: dict[str, str] = {}
    c = schema.customers
    for start in range(0, len(ids), _CHUNK):
        locales.update({str(k): str(v) for k, v in conn.execute(
            select(c.c.id, c.c.locale).where(c.c.id.in_(ids[start:start + _CHUNK])))})
    leads = {str(d["decision_id"]): (_relevance(d["relevance"]).get("insight_ids") or [None])[0]
             for d in decisions}
    wanted = sorted({x for x in leads.values() if x})
    texts: dict[str, Any] = {}
    i = schema.insights
    for start in range(0, len(wanted), _CHUNK):
        for r in conn.execute(select(
                i.c.insight_id, i.c.locale, i.c.title, i.c.message, i.c.call_to_action,
                i.c.explanation).where(i.c.insight_id.in_(wanted[start:start + _CHUNK]))):
            texts[str(r.insight_id)] = r
    p = schema.products
    products = {str(r.id): r for r in conn.execute(select(p.c.id, p.c.name, p.c.description))}
    out: dict[str, Content | None] = {}
    for d in decisions:
        did = str(d["decision_id"])
        locale = locales.get(str(d["customer_id"]), "en")
        lead = leads[did]
        if lead is not None and lead in texts:
            t = texts[lead]
            out[did] = Content(_language(str(t.locale)), str(t.locale), str(t.title),
                               str(t.message), str(t.call_to_action), str(t.explanation))
            continue
        spec = spec_of(catalog, str(d["action_id"]))
        product = products.get(str(d["product_id"])) if d["product_id"] else None
        if spec is None or product is None:
            out[did] = None
            continue
        rendered = offer_renderer().render(spec.id, {
            "product_name": str(product.name), "description": str(product.description or "")},
            locale)
        out[did] = Content(rendered.language, locale, rendered.title, rendered.message,
                           rendered.call_to_action, rendered.explanation)
    return out


def _language(locale: str) -> str:
    return locale.replace("-", "_").split("_")[0].lower()
