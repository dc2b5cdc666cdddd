"""What the read model derives from one event, without I/O: the queue it puts its case in and
the line it adds to the case's timeline.

Events of one case reach the read model from several topics (intake, evaluation, agreement,
monitoring), and Kafka orders a case's events only within one topic. So a case's queue is not
replayed as a chain of transitions: every event that places a case names its queue, and the
event that *occurred* last wins (``rm_case.queue_at``). A late-arriving older event then
changes nothing, whatever the order the topics are read in; a rebuild reaches the same rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from forbear_shared import phrasing
from forbear_shared.logs import redact
from forbear_shared.phrasing import code as _code
from forbear_shared.phrasing import codes as _codes
from forbear_shared.phrasing import date as _date
from forbear_shared.phrasing import money as _money
from forbear_shared.phrasing import share as _share

#: the queues of the console, in the lender's words, in the order a case moves through them
QUEUES = (
    "gathering_evidence",   # opened, not yet submitted (the split by pending upload is intake's)
    "under_evaluation",
    "supervisor_review",
    "approved",
    "offers_open",
    "offer_expired",
    "awaiting_signatures",
    "agreement_active",
    "at_risk",
    "breached",
    "legal_referral",
    "completed",
    "declined",
    "appeal_review",        # a decline appealed, waiting for a second supervisor
)

_DECIDED = {"approve": "approved", "needs_supervisor": "supervisor_review",
            "need_more_evidence": "gathering_evidence", "decline": "declined"}
_LEVEL_QUEUE = {"current": "agreement_active", "reminder": "at_risk", "warning": "at_risk",
                "breach_notice": "breached", "legal_referral": "breached", "completed": "completed"}


def queue_after(event_type: str, payload: dict[str, Any]) -> str | None:
    """The queue an event puts its case in, or None when it leaves the case where it is."""
    if event_type == "case.opened":
        return "gathering_evidence"
    if event_type in ("case.submitted", "offer.countered"):
        return "under_evaluation"
    if event_type == "case.decided":
        return _DECIDED.get(str(payload.get("outcome")))
    if event_type == "offer.made":
        return "offers_open"
    if event_type == "offer.accepted":
        return "awaiting_signatures"
    if event_type in ("agreement.activated", "agreement.cured"):
        return "agreement_active"
    if event_type == "agreement.escalated":
        return _LEVEL_QUEUE.get(str(payload.get("to_level")))
    if event_type == "agreement.completed":
        return "completed"
    if event_type == "agreement.referred":
        return "legal_referral"
    if event_type == "appeal.lodged":
        return "appeal_review"
    if event_type == "appeal.decided":
        # upheld, the decline stands; overturned, the case gathers the appeal's evidence again
        return "declined" if payload.get("outcome") == "upheld" else "gathering_evidence"
    return None


# -- the timeline's lines ------------------------------------------------------------------------
#
# A line is a catalogue key (``line.<event type>`` in static/i18n/<lang>.json) and its arguments,
# kept as they came (a code, an amount, a date), so that the page writes it in the reader's
# language and formats: {"money": "12.50", "currency": "CNY"}, {"date": "2026-03-09"},
# {"code": "hardship", "value": "illness"} (the catalogue's ``hardship.illness``), {"codes":
# "document", "values": [...]}, {"share": "0.5"}, a nested {"line": key, "args": {...}} for an
# optional part ("" when it is absent), or a plain string or number. The English one-line
# ``summary`` the API also returns is the same line written with the en catalogue.

Args = dict[str, Any]
Line = tuple[str, Args]

_CATALOGUE = Path(__file__).resolve().parents[1] / "static" / "i18n" / "en.json"


def _part(present: Any, key: str, **args: Any) -> Any:
    """An optional part of a line: its own catalogue key (``line_part.<key>``), or nothing."""
    return phrasing.part(present, f"line_part.{key}", **args)


def _reason_codes(reasons: Any) -> list[str]:
    return [str(r.get("code")) for r in reasons or [] if isinstance(r, dict) and r.get("code")]


def _count(value: Any) -> int:
    return len(value or [])


_LINES: dict[str, Callable[[dict[str, Any]], Args]] = {
    "case.opened": lambda p: {"hardship": _code("hardship", p.get("hardship_category")),
                              "channel": _code("channel", p.get("channel")),
                              "dpd": p.get("dpd_at_first_contact"), "loans": _count(p.get("loan_ids"))},
    "evidence.requested": lambda p: {"documents": _codes("document", p.get("missing_document_types")),
                                     "deadline": _date(p.get("deadline"))},
    "evidence.reviewed": lambda p: {"document": _code("document", p.get("document_type")),
                                    "outcome": _code("doc_status", p.get("outcome")),
                                    "false": _part(p.get("found_false"), "found_false"),
                                    "reason": _part(p.get("reason"), "because", reason=str(p.get("reason")))},
    "contact.recorded": lambda p: {"direction": _code("direction", p.get("direction")),
                                   "channel": _code("channel", p.get("channel")),
                                   "party": _code("party", p.get("party")),
                                   "outcome": _code("contact_outcome", p.get("outcome")),
                                   "refusal": _part(p.get("refusal_reason"), "because",
                                                    reason=_code("contact_refusal", p.get("refusal_reason")))},
    "case.submitted": lambda p: {"submission": p.get("submission"), "documents": _count(p.get("evidence")),
                                 "late": _part(p.get("evidence_deadline_passed"), "deadline_passed")},
    "representative.authorised": lambda p: {"id": p.get("representative_id"),
                                            "kind": _code("representative_kind", p.get("kind")),
                                            "scopes": _codes("scope", p.get("scopes")),
                                            "from": _date(p.get("starts_on")), "to": _date(p.get("ends_on"))},
    "representative.revoked": lambda p: {"id": p.get("representative_id"), "on": _date(p.get("revoked_on"))},
    "renegotiation.requested": lambda p: {"agreement": p.get("agreement_id")},
    "case.personal_data_erased": lambda p: {"rule": _code("erasure_rule", p.get("rule"))},
    "case.decided": lambda p: {"outcome": _code("outcome", p.get("outcome")),
                               "by": _code("decided_by", p.get("decided_by", "rules")),
                               "reasons": _part(p.get("reasons"), "reasons",
                                                reasons=_codes("reason", _reason_codes(p.get("reasons")), 4)),
                               "offers": _part(p.get("offers"), "offers", n=_count(p.get("offers")))},
    "appeal.lodged": lambda p: {"appeal": p.get("appeal_id"), "decision": p.get("decision_id"),
                                "by": _code("party", p.get("lodged_by")), "deadline": _date(p.get("deadline")),
                                "evidence": _codes("document", p.get("evidence_types"))},
    "appeal.decided": lambda p: {"appeal": p.get("appeal_id"), "outcome": _code("appeal_status", p.get("outcome")),
                                 "decision": _part(p.get("outcome_decision_id"), "new_decision",
                                                   decision=p.get("outcome_decision_id"))},
    "offer.made": lambda p: {"rank": p.get("rank"), "option": _code("option", p.get("option")),
                             "instalment": _money(p.get("new_instalment")), "term": p.get("term_months"),
                             "until": _date(p.get("expires_on"))},
    "offer.accepted": lambda p: {"agreement": p.get("agreement_id")},
    "offer.expired": lambda p: {"offer": p.get("offer_id")},
    "offer.withdrawn": lambda p: {"offer": p.get("offer_id"), "reason": _code("withdrawn", p.get("reason"))},
    "offer.countered": lambda p: {"instalment": _part(p.get("proposed_instalment"), "instalment",
                                                      amount=_money(p.get("proposed_instalment"))),
                                  "term": _part(p.get("proposed_term_months"), "term", n=p.get("proposed_term_months"))},
    "agreement.signed": lambda p: {"party": _code("party", p.get("party")), "by": p.get("signed_by"),
                                   "sha": str(p.get("document_sha256"))[:12]},
    "agreement.activated": lambda p: {"agreement": p.get("agreement_id"), "option": _code("option", p.get("option")),
                                      "n": _count((p.get("schedule") or {}).get("instalments"))},
    "payment.applied": lambda p: {"reference": p.get("reference"), "amount": _money(p.get("amount")),
                                  "source": _code("payment_source", p.get("source"))},
    "instalment.missed": lambda p: {"n": p.get("instalment"), "due": _date(p.get("due_date")),
                                    "outstanding": _money(p.get("amount_outstanding"))},
    "agreement.near_breach": lambda p: {"n": p.get("instalment"), "due": _date(p.get("due_date")),
                                        "paid": _money(p.get("amount_paid")), "of": _money(p.get("amount_due")),
                                        "checkpoint": _date(p.get("checkpoint")),
                                        "share": _share(p.get("required_share"))},
    "agreement.near_breach_cleared": lambda p: {"n": p.get("instalment"), "paid": _money(p.get("amount_paid")),
                                                "of": _money(p.get("amount_due"))},
    "agreement.escalated": lambda p: {"from": _code("level", p.get("from_level")), "to": _code("level", p.get("to_level")),
                                      "dpd": p.get("days_past_due"),
                                      "remedy": _part(p.get("remedy_deadline"), "remedy_by",
                                                      date=_date(p.get("remedy_deadline")))},
    "agreement.cured": lambda p: {"from": _code("level", p.get("from_level"))},
    "agreement.completed": lambda p: {"agreement": p.get("agreement_id")},
    "promise.recorded": lambda p: {"amount": _money(p.get("amount"), p.get("currency")), "due": _date(p.get("due_date")),
                                   "channel": _code("channel", p.get("channel")),
                                   "by": _code("role", p.get("recorded_by"))},
    "promise.kept": lambda p: {"paid": _money(p.get("paid"), p.get("currency")),
                               "amount": _money(p.get("amount"), p.get("currency")), "due": _date(p.get("due_date"))},
    "promise.broken": lambda p: {"paid": _money(p.get("paid"), p.get("currency")),
                                 "amount": _money(p.get("amount"), p.get("currency")), "due": _date(p.get("due_date"))},
    "referral.blocked": lambda p: {"reasons": _codes("hold_reason", _reason_codes(p.get("reasons")), 4)},
    "agreement.referred": lambda p: {"route": _code("route", p.get("route"))},
    "notice.requested": lambda p: {"level": _code("level", p.get("level")), "dpd": p.get("days_past_due"),
                                   "remedy": _part(p.get("remedy_deadline"), "remedy_by",
                                                   date=_date(p.get("remedy_deadline")))},
    "legal.referral": lambda p: {"route": _code("route", p.get("route"))},
    "credit.standing_updated": lambda p: {"standing": _code("standing", p.get("standing"))},
}

#: the event types with a line of their own (the others are named by their type)
LINE_TYPES = tuple(_LINES)

#: a timeline line is short: what happened, never a document or a story
SUMMARY_LIMIT = 200


def line(event_type: str, payload: dict[str, Any]) -> Line:
    """The timeline line of an event: its catalogue key and arguments, from fields the producing
    service already published (ids, categories, amounts), long digit runs in strings masked once
    more. An event type without a line of its own is named by its type (``event.<type>``)."""
    build = _LINES.get(event_type)
    if build is None:
        return "line.other", {"type": _code("event", event_type)}
    return f"line.{event_type}", _masked(build(payload))


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)[:SUMMARY_LIMIT]
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


@lru_cache(maxsize=1)
def _english() -> dict[str, str]:
    return json.loads(_CATALOGUE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _written(value: Any, words: dict[str, str]) -> str:
    """One argument in English: amounts with thousands separators, ISO dates, codes in the
    catalogue's words (a code it lacks, with spaces for underscores)."""
    if value is None or value == "":
        return "—" if value is None else ""
    if not isinstance(value, dict):
        return str(value)
    if "money" in value:
        return f"{Decimal(value['money']):,.2f}"
    if "date" in value:
        return str(value["date"])
    if "share" in value:
        return f"{Decimal(value['share']) * 100:.0f} %"
    if "code" in value:
        return words.get(f"{value['code']}.{value['value']}", str(value["value"]).replace("_", " "))
    if "codes" in value:
        names = [words.get(f"{value['codes']}.{v}", v.replace("_", " ")) for v in value["values"]]
        return ", ".join(names) + (" …" if value.get("more") else "") if names else "—"
    if "line" in value:
        return render(value["line"], value["args"], words)
    return str(value)


def render(key: str, args: Args, words: dict[str, str] | None = None) -> str:
    """A line (or a part of one) written with a catalogue (default: the English one)."""
    words = _english() if words is None else words
    return words[key].format_map({name: _written(v, words) for name, v in args.items()})


def written(entry: Line) -> str:
    """A line as the English one-line summary: written with the en catalogue, at most
    ``SUMMARY_LIMIT`` characters."""
    return render(*entry)[:SUMMARY_LIMIT]


def summary(event_type: str, payload: dict[str, Any]) -> str:
    """The English one-line summary of an event for the case's timeline."""
    return written(line(event_type, payload))


def awaiting_signature_of(borrower_signed: bool, lender_signed: bool) -> str:
    """Whom an agreement waits for: the borrower signs first, then the lender countersigns."""
    if not borrower_signed:
        return "borrower"
    return "lender" if not lender_signed else "—"
