"""HTTP door of the borrowers' portal: a small page of its own (static/portal/), zh-CN first with
English, where a borrower logs in at the identity provider (the realm's ``forbear-portal``
client, authorization code + PKCE) and works their own hardship case through the same-origin
proxy: tells the story, uploads evidence, fills the income and expenditure statement, reads each
decision, compares offers, accepts or counter-proposes, signs with a one-time code, then follows
the schedule, payments and notices.

It is the console's door (forbear_console.web) with the borrower role only, its own cookies
and client: the services decide what a borrower may see (their own cases only; the token's
``borrower_id``). The portal adds one route of its own, ``/guidance``: what the lender's policy
tells a borrower before they fill the forms (the documents each hardship needs, the evidence
deadline, how the instalment is judged affordable).
"""

from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Query
from forbear_shared.domain.hardship import REQUIRED_DOCUMENTS
from forbear_shared.policy_loader import load_policy
from pydantic import BaseModel

from forbear_console.session import Session
from forbear_console.settings import PortalSettings, load_portal_settings
from forbear_console.web import DoorSpec, open_door

STATIC = Path(__file__).resolve().parent.parent / "static" / "portal"
SESSION_COOKIE = "forbear_portal_session"
LOGIN_COOKIE = "forbear_portal_login"
CSRF_VALUE = "forbear-portal"


class Guidance(BaseModel):
    """The policy's words to a borrower, as data (the page says them in the borrower's language)."""

    policy_version: str
    currency: str
    #: hardship category -> the documents that must all be accepted
    required_documents: dict[str, list[str]]
    #: calendar days from opening the request to provide the documents
    evidence_deadline_days: int
    #: the new instalment may take at most this share of what is left after essential spending
    #: and other debts (a fraction, e.g. "0.7")
    affordable_share_of_disposable_income: str
    #: the lender's target for debt payments against gross income (a fraction, e.g. "0.31")
    dti_ceiling: str
    #: days an offer stays open
    offer_validity_days: int
    #: days a breach notice gives to pay the overdue amount
    remedy_days: int


def create_app(settings: PortalSettings | None = None) -> FastAPI:
    settings = settings or load_portal_settings()
    policy = load_policy(settings.policy_file)
    spec = DoorSpec(
        name="portal", title="Forbear borrower portal",
        description="The borrowers' portal: a hardship request from the story to a signed agreement and its schedule.",
        client_id=settings.portal_client_id, client_secret=settings.portal_client_secret,
        public_url=settings.public_url, session_key=settings.portal_session_key,
        session_seconds=settings.portal_session_seconds,
        # the portal client's tokens are for the portal itself (the realm's audience mapper) and
        # for the four services it calls for the borrower
        audience="forbear-portal", roles=("borrower",),
        session_cookie=SESSION_COOKIE, login_cookie=LOGIN_COOKIE, csrf_value=CSRF_VALUE, static=STATIC,
        landing="/#/cases", proxy_max_body_bytes=settings.proxy_max_body_bytes, port_offset=settings.port_offset,
        service_host=settings.service_host,
        log_username=False,
    )
    door = open_door(settings, spec)
    # one guidance per arm: a live challenger's case is evaluated under the challenger's values
    guidance = {arm_policy.version: Guidance(
        policy_version=arm_policy.version, currency=arm_policy.currency,
        required_documents={str(c): [str(d) for d in docs] for c, docs in REQUIRED_DOCUMENTS.items()},
        evidence_deadline_days=arm_policy.evidence.deadline_days,
        affordable_share_of_disposable_income=str(arm_policy.evaluation.affordable_share_of_disposable_income),
        dti_ceiling=str(arm_policy.evaluation.dti_ceiling),
        offer_validity_days=arm_policy.offers.validity_days, remedy_days=arm_policy.escalation.remedy_days,
    ) for _, _, arm_policy in policy.arms()}

    @door.app.get("/guidance", response_model=Guidance, tags=["portal"],
                  summary="What the lender's policy tells a borrower before the forms (for a case: its arm's)")
    def get_guidance(who: Annotated[Session, Depends(door.user)],
                     case_id: Annotated[str | None, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")] = None,
                     ) -> Guidance:
        return guidance[(policy.for_case(case_id) if case_id else policy).version]

    return door.finish()
