-- The policy version and arm (champion / challenger) a case is decided under: the envelope's
-- stamp on its opening, then its latest decision's. Every KPI is split by it (kpis.by_policy).
alter table rm_case add column policy_version text, add column policy_arm text;
create index rm_case_policy_version on rm_case (policy_version) where policy_version is not null;
