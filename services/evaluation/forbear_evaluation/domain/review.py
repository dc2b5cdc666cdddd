"""A supervisor's review of a case the rules routed to them.

The supervisor approves the rules' offers (all of them, or the ones they name, in the order they
name them) or declines, and always says why in writing: the reason is the lender's record of an
override. A review is decided once; a new decision by the rules supersedes an open one.
"""

from __future__ import annotations

from collections.abc import Sequence

from forbear_shared.errors import Conflict, Unprocessable


def written_reason(reason: str) -> str:
    """The supervisor's reason as recorded; a blank one is refused."""
    written = reason.strip()
    if not written:
        raise Unprocessable("reason_required", "a supervisor's decision needs a written reason")
    return written


def check_open(review_id: str, status: str, outcome_decision_id: str | None) -> None:
    """Only an open review can be decided; a decided one names the decision it became."""
    if status != "open":
        raise Conflict(
            f"review_{status}",
            f"review {review_id} is {status}" + (f" (decision {outcome_decision_id})" if outcome_decision_id else ""),
        )


def approved_ranks(offered: Sequence[int], chosen: Sequence[int] | None, decision_id: str) -> tuple[int, ...]:
    """The ranks of the rules' offers a supervisor approves, in the supervisor's order (a rank
    named twice counts once): every offer when none is named; at least one in any case."""
    if chosen is None:
        ranks = tuple(offered)
    else:
        ranks = tuple(dict.fromkeys(chosen))
        if not ranks or any(rank not in offered for rank in ranks):
            raise Conflict("unknown_offer_rank",
                           f"offer_ranks must name offers of decision {decision_id}: {sorted(offered)}")
    if not ranks:
        raise Conflict("no_offers_to_approve", f"decision {decision_id} has no offer to approve")
    return ranks
