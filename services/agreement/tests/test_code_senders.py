"""The signing-code senders against a real mail relay and a real gateway on 127.0.0.1.

The relay is aiosmtpd requiring TLS and a login; the gateway an HTTPS server; both present a
certificate issued by a CA made here (tests/support/relays.py). What the borrower would get is
read back from what they received; a refusal or silence on their side is a clean
``CodeNotDelivered`` (502 refused, 503 unreachable) that names neither the code nor a secret.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from forbear_agreement.adapters import code_sender
from forbear_agreement.adapters.code_sender import CodeNotDelivered, HttpSender, SigningCodeMessage, SmtpSender
from forbear_agreement.domain import signing_code
from forbear_shared.policy_loader import load_policy
from forbear_shared.settings import Settings
from pydantic import SecretStr, ValidationError

from tests.support.relays import Tls, free_port, http_gateway, make_tls, smtp_relay

#: aiosmtpd warns of AUTH without STARTTLS even when the whole connection is implicit TLS
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

CODE = "042917"
PASSWORD = "relay-password-7Qx2"
TOKEN = "gateway-token-Zr81kQ"
RULES = load_policy().signing_code
MESSAGE = SigningCodeMessage(
    agreement_id="agr-7", borrower_id="brw-42", channel="sms", code=CODE, code_id="otp-abc123",
    expires_at=dt.datetime(2026, 1, 5, 9, 10, tzinfo=dt.UTC), text=signing_code.message_text(CODE, RULES),
)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return make_tls(Path(tmp_path_factory.mktemp("relay-tls")))


@pytest.fixture
def quiet_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every record of the service's side at DEBUG; afterwards no code, password or token in one
    (aiosmtpd's own ``mail.log`` is the relay's log, not the service's)."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.WARNING, logger="mail.log")
    yield caplog
    ours = [r for r in caplog.records if r.name != "mail.log"]
    text = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in ours)
    for secret in (CODE, PASSWORD, TOKEN):
        assert secret not in text


def smtp(tls: Tls, port: int, *, mode: Any = "starttls", password: str = PASSWORD,
         ca_file: str | None = "default") -> SmtpSender:
    return SmtpSender(host="127.0.0.1", port=port, tls=mode, sender="agreements@lender.example",
                      recipient_template="{borrower_id}@sms-relay.lender.example",
                      subject="还款协议签署验证码 / Your repayment agreement signing code", timeout=5,
                      user="forbear-agreement", password=SecretStr(password),
                      ca_file=str(tls.ca_file) if ca_file == "default" else ca_file)


# -- SMTP -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["starttls", "implicit"])
def test_the_relay_receives_the_code_addressed_by_borrower_id_over_tls_after_login(
        tls: Tls, mode: str, quiet_logs: pytest.LogCaptureFixture) -> None:
    with smtp_relay(tls, mode=mode) as relay:  # type: ignore[arg-type]
        smtp(tls, relay.port, mode=mode).send(MESSAGE)
    (mail,) = relay.delivered
    assert relay.logins == ["forbear-agreement"] and mail.login == "forbear-agreement"
    assert mail.mail_from == "agreements@lender.example"
    assert mail.rcpt_tos == ["brw-42@sms-relay.lender.example"]
    headers = mail.message
    assert headers["To"] == "brw-42@sms-relay.lender.example" and headers["From"] == "agreements@lender.example"
    assert headers["Subject"] == "还款协议签署验证码 / Your repayment agreement signing code"
    assert headers["Message-ID"] == "<otp-abc123@lender.example>"
    assert headers["Auto-Submitted"] == "auto-generated" and headers["X-Forbear-Channel"] == "sms"
    assert headers.get_content_charset() == "utf-8"
    body = mail.body
    # both languages, the code twice (once in each), its 10 minutes, never to share it
    assert body.count(CODE) == 2 and "10分钟内有效" in body and "请勿告知他人" in body and "valid 10 minutes" in body


def test_a_refused_login_is_a_502_and_the_relay_takes_nothing(tls: Tls, quiet_logs: pytest.LogCaptureFixture) -> None:
    with smtp_relay(tls) as relay, pytest.raises(CodeNotDelivered) as failed:
        smtp(tls, relay.port, password="not-the-relay-password").send(MESSAGE)
    assert (failed.value.status_code, failed.value.reason) == (502, "signing_code_not_delivered")
    # smtplib tries each mechanism the relay offers (PLAIN, then LOGIN): refused each time
    assert "login" in failed.value.message and set(relay.logins) == {"forbear-agreement"} and relay.delivered == []
    assert "not-the-relay-password" not in quiet_logs.text


def test_an_unreachable_relay_is_a_503(tls: Tls, quiet_logs: pytest.LogCaptureFixture) -> None:
    with pytest.raises(CodeNotDelivered) as failed:
        smtp(tls, free_port()).send(MESSAGE)  # nothing listens there
    assert (failed.value.status_code, failed.value.reason) == (503, "signing_code_gateway_unavailable")
    assert any(r.getMessage() == "signing code not sent: the mail relay is unreachable" for r in quiet_logs.records)


def test_a_relay_whose_certificate_is_not_trusted_gets_no_login(tls: Tls, quiet_logs: pytest.LogCaptureFixture,
                                                                tmp_path: Path) -> None:
    other_ca = make_tls(tmp_path / "other").ca_file
    with smtp_relay(tls) as relay, pytest.raises(CodeNotDelivered) as failed:
        smtp(tls, relay.port, ca_file=str(other_ca)).send(MESSAGE)
    assert failed.value.status_code == 503 and relay.logins == [] and relay.delivered == []


def test_a_borrower_id_that_cannot_stand_in_an_address_is_not_sent(tls: Tls) -> None:
    with pytest.raises(CodeNotDelivered) as failed:
        smtp(tls, free_port()).mail(SigningCodeMessage(**{**MESSAGE.__dict__, "borrower_id": "x@evil.example\r\nBcc: y"}))
    assert failed.value.status_code == 502


# -- HTTP -----------------------------------------------------------------------------------------


def http(tls: Tls, url: str, *, timeout: float = 5) -> HttpSender:
    return HttpSender(url=url, timeout=timeout, token=SecretStr(TOKEN), ca_file=str(tls.ca_file))


def test_the_gateway_gets_one_json_post_with_the_token_and_the_codes_id_as_idempotency_key(
        tls: Tls, quiet_logs: pytest.LogCaptureFixture) -> None:
    with http_gateway(tls) as gateway:
        http(tls, gateway.url).send(MESSAGE)
    (posted,) = gateway.posted
    assert posted.path == "/v1/messages"
    assert posted.headers["authorization"] == f"Bearer {TOKEN}"
    assert posted.headers["idempotency-key"] == "otp-abc123"
    assert posted.headers["content-type"] == "application/json"
    assert posted.body == {
        "message_id": "otp-abc123", "purpose": "agreement_signing_code", "borrower_id": "brw-42", "channel": "sms",
        "agreement_id": "agr-7", "expires_at": "2026-01-05T09:10:00+00:00", "language": "zh-CN",
        "text": MESSAGE.text,
    }
    assert posted.body["text"].count(CODE) == 2


@pytest.mark.parametrize("status", [400, 401, 429, 500, 302])
def test_an_answer_other_than_2xx_is_a_502(tls: Tls, status: int, quiet_logs: pytest.LogCaptureFixture) -> None:
    with http_gateway(tls) as gateway:
        gateway.status = status
        with pytest.raises(CodeNotDelivered) as failed:
            http(tls, gateway.url).send(MESSAGE)
    assert (failed.value.status_code, failed.value.reason) == (502, "signing_code_not_delivered")
    assert str(status) in failed.value.message and len(gateway.posted) == 1


def test_a_gateway_that_does_not_answer_in_time_or_at_all_is_a_503(tls: Tls, quiet_logs: pytest.LogCaptureFixture) -> None:
    with http_gateway(tls) as gateway:
        gateway.delay_seconds = 2.0
        with pytest.raises(CodeNotDelivered) as slow:
            http(tls, gateway.url, timeout=0.5).send(MESSAGE)
    assert (slow.value.status_code, slow.value.reason) == (503, "signing_code_gateway_unavailable")
    with pytest.raises(CodeNotDelivered) as away:
        http(tls, f"https://127.0.0.1:{free_port()}/v1/messages").send(MESSAGE)
    assert away.value.status_code == 503


# -- configuration --------------------------------------------------------------------------------


def settings(**values: Any) -> Settings:
    return Settings(service_name="agreement", database_url="postgresql://x/y", kafka_bootstrap="x:1", **values)


SMTP = {"signing_code_sender": "smtp", "signing_code_smtp_host": "relay.lender.example",
        "signing_code_smtp_from": "agreements@lender.example",
        "signing_code_smtp_recipient_template": "{borrower_id}@sms-relay.lender.example"}


def test_the_settings_select_the_sender_and_never_print_its_secret() -> None:
    chosen = code_sender.from_settings(settings(**SMTP, signing_code_smtp_port=465, signing_code_smtp_tls="implicit",
                                                signing_code_smtp_user="u", signing_code_smtp_password=PASSWORD))
    assert isinstance(chosen, SmtpSender) and (chosen.port, chosen.tls, chosen.user) == (465, "implicit", "u")
    assert PASSWORD not in repr(chosen)
    gateway = code_sender.from_settings(settings(signing_code_sender="http", signing_code_http_token=TOKEN,
                                                 signing_code_http_url="https://sms.lender.example/v1/messages"))
    assert isinstance(gateway, HttpSender) and TOKEN not in repr(gateway)


@pytest.mark.parametrize(("values", "named"), [
    ({**SMTP, "signing_code_smtp_host": None}, "FORBEAR_SIGNING_CODE_SMTP_HOST"),
    ({**SMTP, "signing_code_smtp_recipient_template": "sms@relay.lender.example"}, "{borrower_id}"),
    ({**SMTP, "signing_code_smtp_user": "u"}, "FORBEAR_SIGNING_CODE_SMTP_PASSWORD go together"),
    ({**SMTP, "signing_code_smtp_tls": "none", "environment": "test"}, "FORBEAR_SIGNING_CODE_SMTP_TLS=none"),
    ({"signing_code_sender": "http"}, "FORBEAR_SIGNING_CODE_HTTP_URL is required"),
    ({"signing_code_sender": "http", "signing_code_http_url": "http://sms.lender.example", "environment": "test"},
     "https://"),
])
def test_an_incomplete_or_plain_text_sender_is_refused_naming_the_setting(values: dict[str, Any], named: str) -> None:
    with pytest.raises(ValidationError, match=named.replace("{", r"\{").replace("}", r"\}")):
        settings(**values)


def test_plain_smtp_is_allowed_in_development_only_and_other_services_ignore_the_sender() -> None:
    assert settings(**SMTP, signing_code_smtp_tls="none").signing_code_smtp_tls == "none"
    assert Settings(service_name="intake", database_url="postgresql://x/y", kafka_bootstrap="x:1",
                    signing_code_sender="smtp").service_name == "intake"


def test_production_refuses_a_placeholder_relay_password_or_no_gateway_token() -> None:
    production = {"environment": "production", "oidc_issuer": "https://idp.lender.example/realms/ops",
                  "signing_code_secret": "k" * 16 + "Q2v9xN4rT8wL0pZs",
                  "agreement_signing_pkcs12_file": "/run/lender.p12", "agreement_signing_trust_root_file": "/run/ca.pem"}
    with pytest.raises(ValidationError, match="FORBEAR_SIGNING_CODE_SMTP_PASSWORD is a placeholder"):
        settings(**production, **SMTP, signing_code_smtp_user="u", signing_code_smtp_password="change-me")
    with pytest.raises(ValidationError, match="FORBEAR_SIGNING_CODE_HTTP_TOKEN"):
        settings(**production, signing_code_sender="http", signing_code_http_url="https://sms.lender.example/v1")
    ready = settings(**production, **SMTP, signing_code_smtp_user="u", signing_code_smtp_password=PASSWORD)
    assert isinstance(code_sender.from_settings(ready), SmtpSender)
