"""A route with a body: the token is verified once, by the request guard, before the body is read."""


from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from forbear_shared.auth import Principal
from forbear_shared.http import Authz, Roles, configure_http
from pydantic import BaseModel


class CountingVerifier:
    def __init__(self) -> None:
        self.calls = 0

    def verify(self, token: str) -> Principal:
        self.calls += 1
        if token != "good":
            from forbear_shared.auth import InvalidToken

            raise InvalidToken("unknown token")
        return Principal(subject="agent1", role="agent")


class Note(BaseModel):
    text: str


def app_with(verifier: CountingVerifier) -> FastAPI:
    authz = Authz(verifier)  # type: ignore[arg-type]
    roles = Roles(authz)
    router = APIRouter()

    @router.post("/notes")
    def add(note: Note, who: roles.staff) -> dict[str, str]:  # type: ignore[valid-type]
        return {"by": who.subject, "text": note.text}

    @router.get("/notes")
    def read(who: roles.staff) -> dict[str, str]:  # type: ignore[valid-type]
        return {"by": who.subject}

    @router.post("/reviews")
    def review(note: Note, who: roles.supervisor) -> dict[str, str]:  # type: ignore[valid-type]
        return {"by": who.subject}

    app = FastAPI()
    app.include_router(router)
    configure_http(app, service="test", authz=authz)
    return app


def test_a_body_route_verifies_the_token_once():
    verifier = CountingVerifier()
    client = TestClient(app_with(verifier))
    answer = client.post("/notes", json={"text": "called back"}, headers={"Authorization": "Bearer good"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"by": "agent1", "text": "called back"}
    assert verifier.calls == 1


def test_a_route_without_a_body_still_verifies_it():
    verifier = CountingVerifier()
    client = TestClient(app_with(verifier))
    assert client.get("/notes", headers={"Authorization": "Bearer good"}).json() == {"by": "agent1"}
    assert verifier.calls == 1


def test_the_guard_refuses_a_bad_token_before_the_body_and_the_role_is_still_checked():
    verifier = CountingVerifier()
    client = TestClient(app_with(verifier))
    refused = client.post("/notes", json={"text": "x"}, headers={"Authorization": "Bearer forged"})
    assert refused.status_code == 401 and refused.json()["reason"] == "invalid_token"
    wrong_role = client.post("/reviews", json={"text": "x"}, headers={"Authorization": "Bearer good"})
    assert wrong_role.status_code == 403 and wrong_role.json()["reason"] == "forbidden_role"
