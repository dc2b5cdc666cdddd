"""Who the demo lender's actors are to the identity provider.

Agents, supervisors and the close-of-business operator are confidential clients of the realm
(client-credentials grant: ``forbear-demo-agent``, ``forbear-demo-supervisor``, ``forbear-cob``);
core banking speaks Kafka and needs no token. Portal borrowers are people: the simulator stands
in for the lender's portal registration, creating each self-service borrower as a user of the
realm (Keycloak's admin API, through the ``forbear-demo-registrar`` client, which may manage
users and nothing else) with the ``borrower`` role and a ``borrower_id`` attribute, and logs
them in on the ``forbear-portal`` client.
"""

from __future__ import annotations

import os
import secrets
import threading
from typing import Protocol

import httpx
from forbear_shared.oidc import DEVELOPMENT_SECRETS, ClientCredentials, Discovery, PasswordLogin, default_issuer

from forbear_simulator.client import TokenSource


class Identities(Protocol):
    def agent(self) -> TokenSource: ...
    def supervisor(self) -> TokenSource: ...
    def cob(self) -> TokenSource: ...
    def borrower(self, borrower_id: str) -> TokenSource: ...


def _secret(client_id: str) -> str:
    """``FORBEAR_SECRET_<CLIENT>`` (e.g. FORBEAR_SECRET_FORBEAR_DEMO_AGENT), else the demo realm's."""
    name = "FORBEAR_SECRET_" + client_id.upper().replace("-", "_")
    return os.environ.get(name) or DEVELOPMENT_SECRETS[client_id]


class RegistrationFailed(Exception):
    pass


class KeycloakIdentities:
    def __init__(self, issuer: str | None = None, timeout: float = 10.0) -> None:
        self.issuer = issuer or default_issuer()
        if "/realms/" not in self.issuer:
            raise ValueError("portal registration needs a Keycloak realm issuer (…/realms/<realm>)")
        base, realm = self.issuer.rsplit("/realms/", 1)
        self.admin = f"{base}/admin/realms/{realm}"
        self.timeout = timeout
        self.discovery = Discovery(self.issuer)
        self._clients = {c: ClientCredentials(self.discovery, c, _secret(c))
                         for c in ("forbear-demo-agent", "forbear-demo-supervisor", "forbear-cob",
                                   "forbear-demo-registrar")}
        self._borrowers: dict[str, PasswordLogin] = {}
        self._lock = threading.Lock()

    def agent(self) -> TokenSource:
        return self._clients["forbear-demo-agent"]

    def supervisor(self) -> TokenSource:
        return self._clients["forbear-demo-supervisor"]

    def cob(self) -> TokenSource:
        return self._clients["forbear-cob"]

    def borrower(self, borrower_id: str) -> TokenSource:
        with self._lock:
            login = self._borrowers.get(borrower_id)
            if login is None:
                username = f"portal-{borrower_id}".lower()
                password = secrets.token_urlsafe(18)
                self.register(username, borrower_id, password)
                login = PasswordLogin(self.discovery, "forbear-portal", _secret("forbear-portal"), username, password)
                self._borrowers[borrower_id] = login
            return login

    def register(self, username: str, borrower_id: str, password: str) -> None:
        """Register a self-service borrower in the realm (or reset the password of one already
        there): the ``borrower`` role and the ``borrower_id`` attribute the portal client puts in tokens."""
        headers = {"Authorization": f"Bearer {self._clients['forbear-demo-registrar'].token()}"}
        with httpx.Client(base_url=self.admin, headers=headers, timeout=self.timeout) as admin:
            credential = {"type": "password", "value": password, "temporary": False}
            created = admin.post("/users", json={
                "username": username, "enabled": True, "attributes": {"borrower_id": [borrower_id]},
                "credentials": [credential],
            })
            if created.status_code == 409:  # registered by an earlier run of the same run id
                found = admin.get("/users", params={"username": username, "exact": "true"}).json()
                user_id = found[0]["id"]
                admin.put(f"/users/{user_id}/reset-password", json=credential).raise_for_status()
            elif created.status_code == 201:
                user_id = created.headers["Location"].rsplit("/", 1)[1]
            else:
                raise RegistrationFailed(f"registering a portal borrower: HTTP {created.status_code}")
            role = admin.get("/roles/borrower")
            role.raise_for_status()
            admin.post(f"/users/{user_id}/role-mappings/realm", json=[role.json()]).raise_for_status()
