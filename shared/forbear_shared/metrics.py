"""Prometheus metrics shared by every service (names in base units, counters end in _total).

Labels are bounded: service, route template, method, status code, consumer, topic,
partition, outcome, reason code. Never a case id, a borrower or an amount.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

# ``*_created`` series double every counter for no operational use
disable_created_metrics()

HTTP_REQUESTS = Counter(
    "forbear_http_requests_total", "HTTP requests handled", ["service", "method", "route", "status"]
)
HTTP_DURATION = Histogram(
    "forbear_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
CONSUMER_EVENTS = Counter(
    "forbear_consumer_events_total", "Events read by a consumer, by outcome", ["consumer", "topic", "outcome"]
)
CONSUMER_DURATION = Histogram(
    "forbear_consumer_batch_duration_seconds",
    "Time to handle one polled batch, database commit included",
    ["consumer"],
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0),
)
CONSUMER_ERRORS = Counter(
    "forbear_consumer_errors_total", "Handler failures (each retry counts)", ["consumer", "topic"]
)
CONSUMER_REJOINS = Counter(
    "forbear_consumer_rejoins_total",
    "Consumers replaced by a new group member after the group refused their offset commit",
    ["consumer"],
)
CONSUMER_LAG = Gauge(
    "forbear_consumer_lag_events", "Events behind the partition's high watermark", ["consumer", "topic", "partition"]
)
DLQ_EVENTS = Counter(
    "forbear_dead_letter_events_total", "Events sent to a dead-letter topic", ["consumer", "reason"]
)
OUTBOX_BACKLOG = Gauge("forbear_outbox_backlog_events", "Outbox rows not yet published", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "forbear_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row", ["service"]
)
OUTBOX_PUBLISHED = Counter("forbear_outbox_published_total", "Outbox rows published to Kafka", ["service"])
RETENTION_PURGED = Counter(
    "forbear_retention_purged_rows_total", "Rows deleted because they outlived their retention", ["service", "table"]
)
RETENTION_RUNS = Counter(
    "forbear_retention_purge_runs_total",
    "Purge runs by outcome: done, locked (another replica was purging), failed",
    ["service", "outcome"],
)
RETENTION_LAST_PURGE = Gauge(
    "forbear_retention_last_purge_timestamp_seconds", "When this process last completed a purge run", ["service"]
)
DEPENDENCY_UP = Gauge(
    "forbear_dependency_up",
    "1 when the process's last probe of a dependency (postgres, kafka) answered, else 0",
    ["service", "dependency"],
)
READY = Gauge("forbear_ready", "1 when every dependency of the process answered its last probe", ["service"])
RETRIES = Counter(
    "forbear_retries_total",
    "Waits before retrying an operation that failed for want of Kafka or Postgres",
    ["service", "operation"],
)
BUSINESS_DATE = Gauge(
    "forbear_business_date_timestamp_seconds", "The lender's business date (midnight UTC) as seen by a service", ["service"]
)

# Business counters (bounded labels only: categories, channels, outcomes, levels, routes).
CASES_OPENED = Counter("forbear_cases_opened_total", "Cases opened", ["hardship", "channel"])
EVIDENCE_REVIEWED = Counter("forbear_evidence_reviewed_total", "Evidence documents reviewed", ["outcome"])
CONTACTS = Counter("forbear_contacts_total", "Contact attempts, allowed or refused", ["channel", "outcome"])
DECISIONS = Counter("forbear_decisions_total", "Evaluation decisions", ["outcome"])
FIRST_DECISION_DAYS = Histogram(
    "forbear_time_to_first_decision_days",
    "Business days from case opened to its first decision",
    buckets=(0, 1, 2, 3, 5, 7, 10, 14, 21, 30, 45, 60),
)
OFFERS = Counter("forbear_offers_total", "Offers by what became of them", ["outcome"])
AGREEMENTS = Counter(
    "forbear_agreements_total", "Agreement lifecycle transitions", ["transition"]
)  # transition: signed, activated, cured, breached, completed, referred
INSTALMENTS_MISSED = Counter("forbear_instalments_missed_total", "Instalments found missed by the COB sweep")
NEAR_BREACHES = Counter(
    "forbear_near_breaches_total", "Early warnings of the COB sweep: instalments flagged near breach, cleared, superseded",
    ["outcome"],
)
PROMISES = Counter(
    "forbear_promises_total", "Promises to pay: recorded, and judged kept or broken by the COB sweep", ["outcome"],
)
APPEALS = Counter(
    "forbear_appeals_total", "Appeals of a decline: lodged, and decided upheld or overturned", ["outcome"],
)
PAYMENTS = Counter("forbear_payments_total", "Payments applied", ["source", "outcome"])
NOTICES = Counter("forbear_notices_total", "Notices requested", ["level"])
LEGAL_REFERRALS = Counter("forbear_legal_referrals_total", "Legal referrals published", ["route"])
COB_RUNS = Counter("forbear_cob_runs_total", "Close-of-business runs (one per business day swept)")
PERSONAL_DATA_ERASED = Counter(
    "forbear_personal_data_erased_cases_total", "Closed cases whose personal data and evidence were erased"
)
ACTIVE_AGREEMENTS = Gauge("forbear_active_agreements", "Agreements being monitored, by escalation level", ["level"])

# -- the KPIs, as the console's read model computes them (forbear_console.kpis: one definition) --
KPI_FUNNEL = Gauge("forbear_kpi_funnel_cases", "Cases that reached each funnel stage", ["stage"])
KPI_CASES_BY_HARDSHIP = Gauge("forbear_kpi_cases_by_hardship", "Cases opened, by hardship category", ["hardship"])
KPI_CASES_BY_CHANNEL = Gauge("forbear_kpi_cases_by_channel", "Cases opened, by channel", ["channel"])
KPI_RATE = Gauge("forbear_kpi_rate", "Approval, offer acceptance, cure and legal referral rates (0..1)", ["kpi"])
KPI_ACTIVE_AGREEMENTS = Gauge("forbear_kpi_active_agreements", "Active agreements by escalation level", ["level"])
KPI_NEAR_BREACH = Gauge(
    "forbear_kpi_agreements_near_breach", "Active agreements with an instalment near breach (early warning)"
)
KPI_BREACH_RATE = Gauge("forbear_kpi_breach_rate", "Breach rate by month on plan (0..1)", ["month"])
KPI_ROLL_RATE = Gauge("forbear_kpi_roll_rate", "DPD roll rate from a bucket to a worse one a month later", ["from_bucket"])
KPI_FIRST_DECISION_DAYS = Gauge("forbear_kpi_time_to_first_decision_days",
                                "Days of business date from opening to first decision", ["quantile"])
KPI_REFERRALS = Gauge("forbear_kpi_referrals", "Legal referrals by route", ["route"])
KPI_NOTICES = Gauge("forbear_kpi_notices", "Notices requested, by level", ["level"])
KPI_BY_POLICY = Gauge(
    "forbear_kpi_by_policy",
    "Every KPI above for one policy version while a challenger runs: kpi is the KPI's gauge name without "
    "forbear_kpi_, key its label's value (e.g. kpi=rate, key=approval)",
    ["policy_version", "arm", "kpi", "key"],
)
READ_MODEL_BEHIND = Gauge("forbear_read_model_behind_seconds",
                          "Seconds between the newest projected event's occurred_at and its projection")
