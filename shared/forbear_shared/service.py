"""One bootstrap per service: settings, logs, migrations, pool — built at start-up, not import."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from psycopg_pool import ConnectionPool

from forbear_shared import logs
from forbear_shared.db import make_pool, migrate
from forbear_shared.settings import Settings, load_settings


@dataclass
class ServiceContext:
    settings: Settings
    pool: ConnectionPool

    @property
    def name(self) -> str:
        return self.settings.service_name

    def now(self) -> dt.datetime:
        """Technical timestamp for ``occurred_at`` and audit rows; never for business rules."""
        return dt.datetime.now(dt.timezone.utc)


def bootstrap(service: str, migrations: Path, *, pool_size: int = 10, settings: Settings | None = None) -> ServiceContext:
    settings = settings or load_settings(service)
    logs.configure(service, settings.log_level)
    migrate(settings.database_url, service, migrations)
    pool = make_pool(settings.database_url, service, max_size=pool_size, name=service)
    return ServiceContext(settings, pool)
