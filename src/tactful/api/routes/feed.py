"""The feed, feedback on what it showed, and "why am I seeing this?"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path
from fastapi.responses import JSONResponse, Response

from tactful.api.deps import IdempotencyKey, PrincipalDep, StateDep, owns
from tactful.api.idempotent import answer
from tactful.errors import NotFoundError
from tactful.service import feed as feeds
from tactful.service import feedback as feedbacks
from tactful.service.records import FeedAnswer, FeedbackAnswer, FeedbackIn, Placement, WhyAnswer

router = APIRouter(prefix="/v1", tags=["feed"])
CustomerId = Annotated[str, Path(min_length=1, max_length=128)]
DecisionId = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/customers/{customer_id}/feed", response_model=FeedAnswer)
def get_feed(customer_id: CustomerId, app: StateDep, who: PrincipalDep,
             placement: Placement = Placement.FEED) -> Response:
    """What the customer sees now on ``placement``: one message or silence, and why."""
    owns(who, customer_id)
    answer = feeds.feed(app.store, customer_id=customer_id, placement=placement,
                        clock=app.clock)
    # the answer was validated when it was built: serialized once, not validated again
    return Response(answer.model_dump_json(), media_type="application/json")


@router.post("/customers/{customer_id}/feedback", response_model=FeedbackAnswer)
def post_feedback(customer_id: CustomerId, body: FeedbackIn, app: StateDep, who: PrincipalDep,
                  key: IdempotencyKey = None) -> JSONResponse:
    """An impression, click, dismissal (with a reason), conversion, rating or opt-out of a
    message the feed showed."""
    owns(who, customer_id)
    return answer(app.store, who=who, key=key, path=f"/v1/customers/{customer_id}/feedback",
                  request=body, customer_id=customer_id,
                  run=lambda: feedbacks.feedback(app.store, customer_id=customer_id, item=body))


@router.get("/why/{decision_id}", response_model=WhyAnswer)
def get_why(decision_id: DecisionId, app: StateDep, who: PrincipalDep) -> WhyAnswer:
    """A decision replayed from its log: what was chosen, why, and every other candidate."""
    try:
        owner = feeds.decision_owner(app.store, decision_id)
    except NotFoundError as exc:
        raise HTTPException(404, "no such decision") from exc
    owns(who, owner)
    return feeds.why(app.store, decision_id=decision_id)
