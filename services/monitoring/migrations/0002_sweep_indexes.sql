-- The COB sweep's second candidate set: monitored agreements already up the ladder (they may
-- cure, escalate further or be referred). Small and exact, where the (level) index of
-- agreements_at_risk can only be scanned whole for "level <> 'current'".
create index if not exists agreements_delinquent on agreements (agreement_id)
    where status = 'active' and level <> 'current';
