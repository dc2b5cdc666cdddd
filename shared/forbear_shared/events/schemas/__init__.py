"""Every event schema of the system, one module per producing side."""

from forbear_shared.events.schemas import agreement, common, corebanking, evaluation, intake, monitoring  # noqa: F401
