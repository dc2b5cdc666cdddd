-- A timeline line as its catalogue key and arguments (readmodel/rules.py's line), so that the
-- console writes it in the reader's language; rows projected before it keep their English
-- summary (a rebuild gives them lines too).
alter table rm_timeline add column line jsonb;
