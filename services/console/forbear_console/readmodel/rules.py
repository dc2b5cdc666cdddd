"""What the read model derives from one event, without I/O: the queue it puts its case in and
the line it adds to the case's timeline.

Events of one case reach the read model from several topics (intake, evaluation, agreement,
monitoring), and Kafka orders a case's events only within one topic. So a case's queue is not
replayed as a chain of transitions: every event that places a case names its queue, and the
event that *occurred* last wins (``rm_case.queue_at``). A late-arriving older event then
changes nothing, whatever the order the topics are read in; a rebuild reaches the same rows.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from forbear_shared.logs import redact

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


def _words(value: Any) -> str:
    return str(value).replace("_", " ") if value is not None else "—"


def _money(value: Any) -> str:
    return f"{Decimal(str(value)):,.2f}" if value is not None else "—"


def _share(value: Any) -> str:
    return f"{Decimal(str(value)) * 100:.0f} %" if value is not None else "—"


def _codes(reasons: Any) -> str:
    codes = [str(r.get("code")) for r in reasons or [] if isinstance(r, dict) and r.get("code")]
    return ", ".join(codes[:4]) + (" …" if len(codes) > 4 else "")


_SUMMARIES: dict[str, Callable[[dict[str, Any]], str]] = {
    "case.opened": lambda p: f"case opened: {_words(p.get('hardship_category'))} via {p.get('channel')}, "
                             f"{p.get('dpd_at_first_contact')} DPD, {len(p.get('loan_ids') or [])} loan(s)",
    "evidence.requested": lambda p: f"evidence requested: {', '.join(_words(t) for t in p.get('missing_document_types') or [])}"
                                    f" by {p.get('deadline')}",
    "evidence.reviewed": lambda p: f"{_words(p.get('document_type'))} {p.get('outcome')}"
                                   f"{' (found false)' if p.get('found_false') else ''}"
                                   f"{' — ' + _words(p.get('reason')) if p.get('reason') else ''}",
    "contact.recorded": lambda p: f"contact {p.get('direction')} by {p.get('channel')} with {p.get('party')}: "
                                  f"{p.get('outcome')}{' — ' + _words(p.get('refusal_reason')) if p.get('refusal_reason') else ''}",
    "case.submitted": lambda p: f"submitted for evaluation (submission {p.get('submission')}, "
                                f"{len(p.get('evidence') or [])} document(s)"
                                f"{', deadline passed' if p.get('evidence_deadline_passed') else ''})",
    "representative.authorised": lambda p: f"representative {p.get('representative_id')} authorised: "
                                           f"{_words(p.get('kind'))} for {', '.join(_words(s) for s in p.get('scopes') or [])}"
                                           f", {p.get('starts_on')} to {p.get('ends_on')}",
    "representative.revoked": lambda p: f"representative {p.get('representative_id')} revoked on {p.get('revoked_on')}",
    "renegotiation.requested": lambda p: f"renegotiation of agreement {p.get('agreement_id')} requested",
    "case.personal_data_erased": lambda p: f"personal data erased ({_words(p.get('rule'))})",
    "case.decided": lambda p: f"decision: {_words(p.get('outcome'))} by {p.get('decided_by', 'rules')}"
                              f"{' (' + _codes(p.get('reasons')) + ')' if p.get('reasons') else ''}"
                              f"{', ' + str(len(p.get('offers') or [])) + ' offer(s)' if p.get('offers') else ''}",
    "appeal.lodged": lambda p: f"appeal {p.get('appeal_id')} of decision {p.get('decision_id')} lodged by "
                               f"{p.get('lodged_by')} (window until {p.get('deadline')}), new evidence: "
                               f"{', '.join(_words(t) for t in p.get('evidence_types') or []) or '—'}",
    "appeal.decided": lambda p: f"appeal {p.get('appeal_id')} {p.get('outcome')}"
                                f"{', decision ' + str(p.get('outcome_decision_id')) if p.get('outcome_decision_id') else ''}",
    "offer.made": lambda p: f"offer #{p.get('rank')} {_words(p.get('option'))}: {_money(p.get('new_instalment'))} × "
                            f"{p.get('term_months')}, open until {p.get('expires_on')}",
    "offer.accepted": lambda p: f"offer accepted: agreement {p.get('agreement_id')} created",
    "offer.expired": lambda p: f"offer {p.get('offer_id')} expired",
    "offer.withdrawn": lambda p: f"offer {p.get('offer_id')} withdrawn ({_words(p.get('reason'))})",
    "offer.countered": lambda p: "counter-proposal"
                                 + (f": {_money(p.get('proposed_instalment'))}" if p.get('proposed_instalment') else "")
                                 + (f" × {p.get('proposed_term_months')}" if p.get('proposed_term_months') else ""),
    "agreement.signed": lambda p: f"{p.get('party')} signed ({p.get('signed_by')}), document "
                                  f"{str(p.get('document_sha256'))[:12]}…",
    "agreement.activated": lambda p: f"agreement {p.get('agreement_id')} active: {_words(p.get('option'))}, "
                                     f"{len((p.get('schedule') or {}).get('instalments') or [])} instalments",
    "payment.applied": lambda p: f"payment {p.get('reference')}: {_money(p.get('amount'))} ({p.get('source')})",
    "instalment.missed": lambda p: f"instalment {p.get('instalment')} due {p.get('due_date')} missed "
                                   f"({_money(p.get('amount_outstanding'))} outstanding)",
    "agreement.near_breach": lambda p: f"near breach: instalment {p.get('instalment')} due {p.get('due_date')}, "
                                       f"{_money(p.get('amount_paid'))} of {_money(p.get('amount_due'))} paid by "
                                       f"{p.get('checkpoint')} (at least {_share(p.get('required_share'))} needed)",
    "agreement.near_breach_cleared": lambda p: f"near breach cleared: instalment {p.get('instalment')}, "
                                               f"{_money(p.get('amount_paid'))} of {_money(p.get('amount_due'))} paid",
    "agreement.escalated": lambda p: f"{_words(p.get('from_level'))} → {_words(p.get('to_level'))} "
                                     f"({p.get('days_past_due')} DPD)"
                                     f"{', remedy by ' + str(p.get('remedy_deadline')) if p.get('remedy_deadline') else ''}",
    "agreement.cured": lambda p: f"cured (was {_words(p.get('from_level'))})",
    "agreement.completed": lambda p: f"agreement {p.get('agreement_id')} completed",
    "promise.recorded": lambda p: f"promise to pay {_money(p.get('amount'))} by {p.get('due_date')} "
                                  f"({p.get('channel')}, {p.get('recorded_by')})",
    "promise.kept": lambda p: f"promise kept: {_money(p.get('paid'))} of {_money(p.get('amount'))} by {p.get('due_date')}",
    "promise.broken": lambda p: f"promise broken: {_money(p.get('paid'))} of {_money(p.get('amount'))} "
                                f"by {p.get('due_date')}",
    "referral.blocked": lambda p: f"legal referral held ({_codes(p.get('reasons'))})",
    "agreement.referred": lambda p: f"legal referral: {_words(p.get('route'))}",
    "notice.requested": lambda p: f"{_words(p.get('level'))} notice, {p.get('days_past_due')} DPD"
                                  f"{', remedy by ' + str(p.get('remedy_deadline')) if p.get('remedy_deadline') else ''}",
    "legal.referral": lambda p: f"dossier sent for {_words(p.get('route'))}",
    "credit.standing_updated": lambda p: f"credit standing: {_words(p.get('standing'))}",
}

#: a timeline line is short: what happened, never a document or a story
SUMMARY_LIMIT = 200


def summary(event_type: str, payload: dict[str, Any]) -> str:
    """One line for the case's timeline, from fields the producing service already published
    (ids, categories, amounts), long digit runs masked once more."""
    render = _SUMMARIES.get(event_type)
    text = render(payload) if render else _words(event_type)
    return redact(text)[:SUMMARY_LIMIT]


def awaiting_signature_of(borrower_signed: bool, lender_signed: bool) -> str:
    """Whom an agreement waits for: the borrower signs first, then the lender countersigns."""
    if not borrower_signed:
        return "borrower"
    return "lender" if not lender_signed else "—"
