"""The agreement domain as specifications: offer validity, counter-proposals, signatures, the document."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from forbear_agreement.domain.document import (
    AgreementDraft,
    OfferedTerms,
    PaymentMethod,
    build_content,
    canonical_json,
    make_document,
)
from forbear_agreement.domain.offers import (
    CounterProposal,
    Invalid,
    OfferStatus,
    Refused,
    check_open,
    check_same_borrower,
    expired_on,
    expiry_date,
    why_no_offers,
)
from forbear_agreement.domain.signing import (
    AgreementStatus,
    NoAuthority,
    Party,
    check_authority,
    check_signature,
    on_behalf_of_borrower,
    status_after,
)
from forbear_shared.domain.money import Money
from forbear_shared.domain.schedule import Frequency, equal_instalment_schedule, flat_rate_schedule
from forbear_shared.policy_loader import load_policy

POLICY = load_policy()
DECIDED = date(2026, 1, 5)
HASH = "a" * 64


# -- offers ---------------------------------------------------------------------------


def test_an_offer_decided_on_5_january_can_be_accepted_until_19_january_and_expires_on_the_20th() -> None:
    assert POLICY.offers.validity_days == 14
    last_day = expiry_date(DECIDED, POLICY)
    assert last_day == date(2026, 1, 19)
    check_open(OfferStatus.OPEN, last_day, date(2026, 1, 19))
    with pytest.raises(Refused) as refused:
        check_open(OfferStatus.OPEN, last_day, date(2026, 1, 20))
    assert refused.value.reason == "offer_expired"
    assert expired_on(last_day) == date(2026, 1, 20)


@pytest.mark.parametrize("status", [OfferStatus.ACCEPTED, OfferStatus.COUNTERED, OfferStatus.WITHDRAWN])
def test_only_an_open_offer_can_be_taken_up(status: OfferStatus) -> None:
    with pytest.raises(Refused) as refused:
        check_open(status, date(2026, 1, 19), DECIDED)
    assert refused.value.reason == "offer_not_open"


def test_an_expired_offer_is_refused_as_expired_not_as_closed() -> None:
    with pytest.raises(Refused) as refused:
        check_open(OfferStatus.EXPIRED, date(2026, 1, 19), date(2026, 1, 20))
    assert refused.value.reason == "offer_expired"


def test_a_counter_proposal_names_an_instalment_or_a_term_within_policy() -> None:
    for fine in (CounterProposal(Money.of("450.00"), None), CounterProposal(None, 60)):
        fine.validate()
        fine.within(POLICY)
    never_right = [
        (CounterProposal(None, None), "counter_proposal_empty"),
        (CounterProposal(Money.of("0.00"), None), "proposed_instalment_not_positive"),
    ]
    for proposal, reason in never_right:
        with pytest.raises(Invalid) as invalid:
            proposal.validate()
        assert invalid.value.reason == reason
    # a term the lender's policy does not offer (max_total_term_months = 60) is refused by policy
    assert POLICY.restructuring.max_total_term_months == 60
    for term in (61, 0):
        with pytest.raises(Refused) as refused:
            CounterProposal(None, term).within(POLICY)
        assert refused.value.reason == "proposed_term_out_of_policy"


def test_a_decision_makes_its_offers_unless_declined_empty_or_an_agreement_is_already_in_play() -> None:
    assert why_no_offers("approve", 2, None, None) is None
    assert why_no_offers("decline", 0, None, None) == "not_approved"
    assert why_no_offers("approve", 0, None, None) == "approval_without_offers"
    assert why_no_offers("approve", 2, "agr-1", None) == "agreement_in_play"
    # a renegotiation of the agreement in play may put new offers in front of the borrower
    assert why_no_offers("approve", 2, "agr-1", "agr-1") is None
    assert why_no_offers("approve", 2, "agr-1", "agr-0") == "agreement_in_play"


def test_a_decision_about_a_case_of_another_borrower_is_never_applied() -> None:
    check_same_borrower(None, "B-1")  # a case heard of for the first time
    check_same_borrower("B-1", "B-1")
    with pytest.raises(ValueError, match="another borrower"):
        check_same_borrower("B-1", "B-2")


def test_refusals_are_the_shared_errors_the_api_maps_to_409_422_and_403() -> None:
    assert (Refused("r", "m").status_code, Invalid("r", "m").status_code) == (409, 422)
    refused = NoAuthority(Party.LENDER, "agent")
    assert refused.status_code == 403 and refused.reason == "lender_signing_authority_required"
    assert refused.message == "role agent may not sign for the lender; allowed: supervisor"


# -- signatures -------------------------------------------------------------------------


def test_the_borrower_signs_first_then_the_lender_and_both_activate() -> None:
    check_signature(Party.BORROWER, AgreementStatus.AWAITING_SIGNATURES, set(), HASH, HASH)
    check_signature(Party.LENDER, AgreementStatus.AWAITING_SIGNATURES, {Party.BORROWER}, HASH, HASH.upper())
    assert status_after({Party.BORROWER}) is AgreementStatus.AWAITING_SIGNATURES
    assert status_after({Party.BORROWER, Party.LENDER}) is AgreementStatus.ACTIVE


@pytest.mark.parametrize(
    ("party", "signed", "presented", "reason"),
    [
        (Party.LENDER, set(), HASH, "borrower_signature_required"),
        (Party.BORROWER, {Party.BORROWER}, HASH, "already_signed"),
        (Party.BORROWER, set(), "b" * 64, "document_hash_mismatch"),
    ],
)
def test_a_signature_out_of_order_repeated_or_over_another_document_is_refused(
    party: Party, signed: set[Party], presented: str, reason: str
) -> None:
    with pytest.raises(Refused) as refused:
        check_signature(party, AgreementStatus.AWAITING_SIGNATURES, signed, HASH, presented)
    assert refused.value.reason == reason


def test_signing_an_active_agreement_again_is_already_signed() -> None:
    with pytest.raises(Refused) as refused:
        check_signature(Party.LENDER, AgreementStatus.ACTIVE, {Party.BORROWER, Party.LENDER}, HASH, HASH)
    assert refused.value.reason == "already_signed"


def test_only_a_supervisor_signs_for_the_lender_and_an_agent_records_the_borrowers_signature() -> None:
    check_authority(Party.BORROWER, "borrower")
    check_authority(Party.BORROWER, "agent")
    check_authority(Party.LENDER, "supervisor")
    for party, role in ((Party.LENDER, "agent"), (Party.LENDER, "borrower"), (Party.BORROWER, "supervisor")):
        with pytest.raises(NoAuthority):
            check_authority(party, role)
    assert on_behalf_of_borrower(Party.BORROWER, "agent") is True
    assert on_behalf_of_borrower(Party.BORROWER, "borrower") is False


# -- the document ---------------------------------------------------------------------------


def draft(payment_method: PaymentMethod = PaymentMethod.ACCOUNT_DEBIT) -> AgreementDraft:
    schedule = equal_instalment_schedule(Money.of("100.00"), Decimal("0.07"), 6, date(2026, 2, 5), start_date=DECIDED)
    return AgreementDraft(
        agreement_id="agr-1",
        case_id="case-1",
        offer_id="off-1",
        decision_id="dec-1",
        borrower_id="brw-1",
        loan_ids=["LN-1"],
        terms=OfferedTerms(
            option="term_extension",
            new_instalment=Money.of("17.01"),
            old_instalment=Money.of("35.00"),
            term_months=6,
            annual_rate=Decimal("0.07"),
            capitalised_arrears=Money.of("20.00"),
            summary="借款人 term extension",
        ),
        schedule=schedule,
        policy_version=POLICY.version,
        accepted_on=date(2026, 1, 8),
        offer_expires_on=date(2026, 1, 19),
        payment_method=payment_method,
    )


def test_the_canonical_json_has_sorted_keys_no_whitespace_and_amounts_as_decimal_strings() -> None:
    document = make_document(draft(), POLICY)
    content = json.loads(document.canonical_json)
    assert document.canonical_json == json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert document.sha256 == hashlib.sha256(document.canonical_json.encode("utf-8")).hexdigest()
    # the public reference schedule, to the cent: 17.01 five times, then 17.00
    assert [i["total"] for i in content["schedule"]["instalments"]] == ["17.01"] * 5 + ["17.00"]
    assert content["totals"]["principal"] == "100.00"
    assert content["option"]["capitalised_arrears"] == "20.00" and content["option"]["waived_amount"] is None
    assert content["policy_version"] == POLICY.version
    assert "借款人" in document.canonical_json  # UTF-8 kept as is, not \u escapes


def test_the_same_agreement_always_hashes_the_same_and_any_change_changes_the_hash() -> None:
    assert make_document(draft(), POLICY).sha256 == make_document(draft(), POLICY).sha256
    assert make_document(draft(PaymentMethod.BRANCH), POLICY).sha256 != make_document(draft(), POLICY).sha256


def test_the_rendered_text_says_what_the_canonical_json_says() -> None:
    document = make_document(draft(), POLICY)
    text = document.rendered_text
    assert "还款协议 / REPAYMENT AGREEMENT" in text
    assert document.sha256 in text
    assert "17.01" in text and "2026-07-05" in text
    assert "brw-1" in text and POLICY.lender in text
    for clause in build_content(draft(), POLICY)["governing_terms"]:
        assert clause["en"] in text and clause["zh"] in text


def test_governing_terms_state_the_policy_numbers() -> None:
    terms = {t["code"]: t for t in build_content(draft(), POLICY)["governing_terms"]}
    assert f"{POLICY.delinquency.grace_days} working days" in terms["missed_instalment"]["en"]  # demo: 3 working days
    assert "个工作日" in terms["missed_instalment"]["zh"]
    assert "next working day" in terms["due_dates"]["en"] and "顺延" in terms["due_dates"]["zh"]
    assert f"{POLICY.escalation.remedy_days} days" in terms["escalation"]["en"]
    assert "50%" in terms["penalty_interest"]["en"]
    assert canonical_json({"b": 1, "a": [1, "x"]}) == '{"a":[1,"x"],"b":1}'


def test_the_agreement_states_the_apr_disclosed_with_the_offer_and_the_plans_frequency() -> None:
    # a flat-rate re-aged plan: 10,000.00 at 6 % flat over 12 months costs 10.8963 % a year
    # (the monthly IRR of -10,000 / 883.33 x 11 / 883.37 times 12; numpy-financial agrees)
    schedule = flat_rate_schedule(Money.of("10000.00"), Decimal("0.06"), 12, date(2026, 2, 8), start_date=date(2026, 1, 8))
    base = draft()
    flat = replace(base, schedule=schedule, terms=replace(base.terms, option="reageing", apr=Decimal("0.108963")))
    document = make_document(flat, POLICY)
    content = json.loads(document.canonical_json)
    assert content["document"]["format_version"] == 2
    assert content["option"]["apr"] == "0.108963" and content["option"]["code"] == "reageing"
    assert content["schedule"]["method"] == "flat_rate"
    assert "年化利率 APR (IRR):      10.8963% (0.108963)" in document.rendered_text
    assert "账龄重置 re-ageing" in document.rendered_text
    weekly = replace(flat, schedule=flat_rate_schedule(Money.of("700.00"), Decimal("0.1"), 4, date(2026, 1, 15),
                                                       frequency=Frequency.WEEKLY))
    weekly_doc = make_document(weekly, POLICY)
    assert json.loads(weekly_doc.canonical_json)["schedule"]["frequency"] == "weekly"
    assert "(flat_rate, weekly, 30/360, from 2026-01-08)" in weekly_doc.rendered_text
def _with_units(policy, **units):  # the demo policy with some periods counted otherwise
    calendar = policy.calendar.model_copy(update={"units": policy.calendar.units.model_copy(update=units)})
    return policy.model_copy(update={"calendar": calendar})


def test_an_offer_counted_in_working_days_is_not_spent_during_spring_festival() -> None:
    from forbear_shared.domain.working_days import DayUnit

    working = _with_units(POLICY, offer_validity=DayUnit.WORKING)
    # decided Wed 11 Feb 2026, 14 working days: 12, 13, 14 (Sat, make-up day) = 3, 春节 15-23 Feb
    # closed, 24, 25, 26, 27, 28 (Sat, make-up day) = 8, 2, 3, 4, 5, 6 Mar = 13, Mon 9 Mar = 14
    assert expiry_date(date(2026, 2, 11), working) == date(2026, 3, 9)
    # the demo counts 14 calendar days: 11 Feb + 14 = 25 Feb
    assert expiry_date(date(2026, 2, 11), POLICY) == date(2026, 2, 25)
