-- Evaluation no longer keeps a copy of agreement's offer.made: a counter-proposal is traced to
-- the case's latest approval, which evaluation recorded itself when it decided.
drop table if exists offers_made;
