"""Every event schema of the system, one module per producing service."""

from forbear_shared.events.schemas import common, monitoring  # noqa: F401
