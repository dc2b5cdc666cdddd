"""Professional help through intake's API on the real broker, database and service processes:
a borrower authorises a representative with a signed document; the lender then communicates
through the representative until the authorisation is revoked; another borrower sees none of it."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from tests.integration.test_intake_api import PDF, business_date, events_of, new_borrower, open_case, upload
from tests.support.http import client

pytestmark = pytest.mark.integration


def contact(api, case_id: str, party: str, local_time: str, **extra):
    return api.post(f"/cases/{case_id}/contacts",
                    json={"party": party, "channel": "phone", "local_time": local_time, **extra})


def authorisation(document_id: str, today: dt.date, **changes) -> dict:
    return {"kind": "debt_adviser", "name": "张顾问", "channel": "phone", "scopes": ["communications", "negotiation"],
            "ends_on": (today + dt.timedelta(days=90)).isoformat(), "document_id": document_id, **changes}


def test_the_lender_communicates_through_the_representative_until_the_borrower_revokes(stack, infra) -> None:
    borrower = new_borrower()
    case = open_case(role="borrower", borrower_id=borrower)
    cid = case["case_id"]
    today = business_date()
    with client("intake", role="borrower", borrower_id=borrower) as mine:
        document = upload(mine, cid, "representative_authorisation", PDF)
        assert document.status_code == 201, document.text
        assert document.json()["sha256"] == hashlib.sha256(PDF).hexdigest()
        authorised = mine.post(f"/cases/{cid}/representatives",
                               json=authorisation(document.json()["document_id"], today))
        assert authorised.status_code == 201, authorised.text
    rep = authorised.json()
    rid = rep["representative_id"]
    assert rep["name"] == "张**" and rep["masked"] and rep["active"] and rep["communicates"]
    assert rep["starts_on"] == today.isoformat() and rep["document_status"] == "pending"

    with client("intake") as agent:
        through = contact(agent, cid, "representative", "10:00", representative_id=rid)
        direct = contact(agent, cid, "borrower", "10:30")
        called_in = contact(agent, cid, "borrower", "11:00", direction="inbound")
    assert through.status_code == 201, through.text
    assert through.json()["representative_id"] == rid
    assert direct.status_code == 422 and direct.json()["reason"] == "represented_borrower"
    assert called_in.status_code == 201  # a represented borrower may still call the lender

    # a contact names its representative, and only one of its own case
    other = open_case()["case_id"]
    with client("intake") as agent:
        unnamed = contact(agent, cid, "representative", "10:45")
        borrowed = contact(agent, other, "representative", "10:45", representative_id=rid)
    assert unnamed.status_code == 422 and unnamed.json()["reason"] == "representative_id_required"
    assert borrowed.status_code == 422 and borrowed.json()["reason"] == "representative_not_authorised"
    assert borrowed.json()["contact"]["representative_id"] is None

    # another borrower can neither see nor revoke it
    with client("intake", role="borrower", borrower_id=new_borrower()) as stranger:
        seen = stranger.get(f"/cases/{cid}/representatives")
        revoked_by_stranger = stranger.post(f"/cases/{cid}/representatives/{rid}/revocation")
    assert seen.status_code == 404 and revoked_by_stranger.status_code == 404

    with client("intake", role="borrower", borrower_id=borrower) as mine:
        revoked = mine.post(f"/cases/{cid}/representatives/{rid}/revocation")
        again = mine.post(f"/cases/{cid}/representatives/{rid}/revocation")
        listed = mine.get(f"/cases/{cid}/representatives").json()
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_on"] == today.isoformat() and not revoked.json()["active"]
    assert again.status_code == 409 and again.json()["reason"] == "already_revoked"
    assert [(r["representative_id"], r["active"]) for r in listed] == [(rid, False)]

    # immediate: the very next contact is decided without the authorisation
    with client("intake") as agent:
        refused = contact(agent, cid, "representative", "12:00", representative_id=rid)
        direct_again = contact(agent, cid, "borrower", "12:30")
        log = agent.get(f"/cases/{cid}/contacts").json()
    assert refused.status_code == 422 and refused.json()["reason"] == "representative_not_authorised"
    assert direct_again.status_code == 201, direct_again.text
    assert [(c["party"], c["outcome"], c["representative_id"]) for c in log] == [
        ("representative", "allowed", rid), ("borrower", "refused", None), ("borrower", "allowed", None),
        ("representative", "refused", rid), ("borrower", "allowed", None)]

    # audited: the events name ids, kind, scope and dates, never the representative's name
    authorised_event = events_of(infra, cid, "representative.authorised")[0]["payload"]
    revoked_event = events_of(infra, cid, "representative.revoked")[0]["payload"]
    assert authorised_event == {
        "representative_id": rid, "kind": "debt_adviser", "scopes": ["communications", "negotiation"],
        "starts_on": today.isoformat(), "ends_on": (today + dt.timedelta(days=90)).isoformat(),
        "document_id": document.json()["document_id"], "authorised_on": today.isoformat()}
    assert revoked_event["representative_id"] == rid and revoked_event["revoked_on"] == today.isoformat()
    contacts = events_of(infra, cid, "contact.recorded", min_count=5)
    assert [c["payload"].get("representative_id") for c in contacts] == [rid, None, None, rid, None]
    with client("intake", role="supervisor") as supervisor:
        view = supervisor.get(f"/cases/{cid}").json()
    assert [r["name"] for r in view["representatives"]] == ["张顾问"]  # a supervisor sees it in clear
    assert [e["action"] for e in view["timeline"] if e["action"].startswith("representative_")] == [
        "representative_authorised", "representative_revoked"]
    assert "张顾问" not in str(view["timeline"])


@pytest.mark.parametrize(("changes", "reason"), [
    ({"name": "张\u0000顾问"}, "invalid_characters"),
    ({"name": "张" * 101}, "invalid_request"),
    ({"scopes": ["signing_for_me"]}, "invalid_request"),
    ({"scopes": []}, "invalid_request"),
    ({"kind": "neighbour"}, "invalid_request"),
    ({"ends_on": "9999-12-31"}, "ends_too_far"),
    ({"starts_on": "+1", "ends_on": "+0"}, "ends_before_start"),
])
def test_a_bad_authorisation_is_a_422_problem_with_its_reason_and_nothing_is_written(stack, changes, reason) -> None:
    borrower = new_borrower()
    cid = open_case(role="borrower", borrower_id=borrower)["case_id"]
    today = business_date()
    for field in ("starts_on", "ends_on"):
        if str(changes.get(field, "")).startswith("+"):
            changes = {**changes, field: (today + dt.timedelta(days=10 + int(changes[field][1:]))).isoformat()}
    with client("intake", role="borrower", borrower_id=borrower) as mine:
        document = upload(mine, cid, "representative_authorisation", PDF).json()
        refused = mine.post(f"/cases/{cid}/representatives", json=authorisation(document["document_id"], today, **changes))
        listed = mine.get(f"/cases/{cid}/representatives").json()
    assert refused.status_code == 422, refused.text
    assert refused.json()["reason"] == reason
    assert listed == []


def test_an_authorisation_names_an_authorisation_document_of_its_own_case(stack) -> None:
    borrower = new_borrower()
    cid = open_case(role="borrower", borrower_id=borrower)["case_id"]
    other = open_case()["case_id"]
    today = business_date()
    with client("intake") as agent:
        elsewhere = upload(agent, other, "representative_authorisation", PDF).json()["document_id"]
        letter = upload(agent, cid, "termination_letter", PDF).json()["document_id"]
        of_other_case = agent.post(f"/cases/{cid}/representatives", json=authorisation(elsewhere, today))
        not_an_authorisation = agent.post(f"/cases/{cid}/representatives", json=authorisation(letter, today))
    assert of_other_case.status_code == 422 and of_other_case.json()["reason"] == "authorisation_document_not_found"
    assert not_an_authorisation.status_code == 422
    assert not_an_authorisation.json()["reason"] == "authorisation_document_not_found"
    with client("intake", role="system") as system:
        by_system = system.post(f"/cases/{cid}/representatives", json=authorisation(letter, today))
    assert by_system.status_code == 403


def test_a_representatives_name_is_erased_with_the_closed_cases_personal_data(stack, infra) -> None:
    from forbear_shared.domain.calendar import add_months

    from tests.integration.test_personal_data_retention import FIVE_YEARS, _closed_on, _decline, _erased, _status
    from tests.support.infra import eventually

    case = open_case()
    cid = case["case_id"]
    today = business_date()
    with client("intake") as agent:
        document = upload(agent, cid, "representative_authorisation", PDF).json()
        rid = agent.post(f"/cases/{cid}/representatives",
                         json=authorisation(document["document_id"], today, kind="lawyer")).json()["representative_id"]
    _decline(infra, case)
    eventually(lambda: _status(cid, "declined"), timeout=60)
    _closed_on(infra, cid, add_months(today, -FIVE_YEARS))  # closed five years ago today: due
    eventually(lambda: _erased(infra, cid), timeout=60)

    with client("intake", role="supervisor") as supervisor:
        reps = supervisor.get(f"/cases/{cid}/representatives").json()
    # the name is gone; what the authorisation was (kind, scope, dates, document) stays
    assert [(r["representative_id"], r["name"], r["kind"], r["document_id"]) for r in reps] == [
        (rid, None, "lawyer", document["document_id"])]
    with infra.connect("intake") as conn:
        recorded = conn.execute("select fields from personal_data_erasures where case_id = %s and "
                                "subject = 'representative' and subject_id = %s", (cid, rid)).fetchall()
    assert [r["fields"] for r in recorded] == [["name"]]
