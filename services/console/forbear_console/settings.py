"""The console's settings: the shared ``Settings`` plus where the APIs are and who may log in.

The console keeps no state of its own, so it needs neither Postgres nor Kafka.
"""

from __future__ import annotations

from forbear_shared.http import MULTIPART_OVERHEAD_BYTES
from forbear_shared.settings import Settings
from pydantic import model_validator

#: demo operators for local runs and tests (``username:role:password``); a lender replaces the
#: whole login with its identity provider, which mints the same bearer tokens
DEVELOPMENT_USERS = "agent1:agent:agent1-demo,super1:supervisor:super1-demo"


class ConsoleSettings(Settings):
    database_url: str = ""
    kafka_bootstrap: str = ""
    http_port: int = 8100
    #: the services listen on ``devstack.API_PORTS`` plus this (the tests use 10000)
    port_offset: int = 0
    console_users: str = DEVELOPMENT_USERS
    #: how long the computed KPIs are reused before the lists are read again
    kpi_cache_seconds: float = 5.0
    #: the largest body the proxy passes on: intake's evidence limit (10 MiB by default) and the
    #: multipart around it; intake then applies its own limit per route
    proxy_max_body_bytes: int = 10 * 1024 * 1024 + MULTIPART_OVERHEAD_BYTES

    @model_validator(mode="after")
    def _no_demo_operators_in_production(self) -> ConsoleSettings:
        if self.environment == "production" and self.console_users == DEVELOPMENT_USERS:
            raise ValueError("FORBEAR_CONSOLE_USERS holds the demo operators; plug in the lender's identity provider")
        return self


def load_console_settings() -> ConsoleSettings:
    return ConsoleSettings(service_name="console")
