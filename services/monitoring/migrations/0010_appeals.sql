-- A renegotiation's decline may be appealed: while the appeal is pending it holds legal referral
-- again (state appealed, naming the appeal), as the renegotiation did before the decline.
alter table renegotiations drop constraint if exists renegotiations_state_check;
alter table renegotiations add constraint renegotiations_state_check
    check (state in ('requested', 'evaluating', 'offered', 'accepted', 'appealed', 'ended', 'over_limit'));
alter table renegotiations add column if not exists appeal_id text;
