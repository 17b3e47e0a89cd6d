-- The dirty closure's seeds (identity_closure.sql) from what person_records handed on: the same rows
-- identity_seeds_compared.sql finds by comparing every record, found among a few, and read only for those few. Used when scratch.record_delta
-- lists the records person_records built or removed since the build identity last read (pipelines/identity/link.py
-- checks its number and that it is not a whole rebuild).
--
-- Why those few hold every row whose inputs differ (core.link_inputs, the last run's, vs _link_inputs, this run's):
-- a row is the record's core.person_records row (record_key, template, name, ID, birth date, sex, house, event
-- date), its name's pinyin, and the street of its house.
-- - The person_records row changes only as scratch.record_delta says (core/person_records_delta.sql: new batches,
--   re-matched or re-stated houses, batches gone; anything else is a steward's fix or new code, which rebuild
--   person_records whole and hand on 'rebuilt').
-- - Pinyin is cached per name and a cached name is never read again (pipelines/identity/pinyin.py): it changes
--   only with the name.
-- - The street is not the record's: a house can move to a grid of another street, or lose its grid, with every
--   record at it unchanged. core.link_house_streets holds each house's street as the last run read it; the records
--   at a house whose street differs are seeds.
CREATE OR REPLACE TEMP TABLE _house_moved AS
(SELECT house_code, street_code FROM _house_street EXCEPT SELECT house_code, street_code FROM core.link_house_streets)
UNION ALL
(SELECT house_code, street_code FROM core.link_house_streets EXCEPT SELECT house_code, street_code FROM _house_street);

-- A record gone or re-housed is in record_delta; any other record is at the house it was at in the last run's
-- inputs, so those find every record at a moved house.
CREATE OR REPLACE TEMP TABLE _seed_ids AS
SELECT record_id FROM scratch.record_delta
UNION
SELECT record_id FROM core.link_inputs WHERE house_code IN (SELECT house_code FROM _house_moved);

-- This run's rows of those records only: every other record's row is the last run's (above), so
-- scratch.link_records is not made for every record.
CREATE OR REPLACE TEMP TABLE _seed_records AS
SELECT * FROM core.person_records WHERE record_id IN (SELECT record_id FROM _seed_ids);

CREATE OR REPLACE TEMP TABLE _seed_now AS
SELECT i.*, s.street_code FROM identity_link_rows('_seed_records') i LEFT JOIN _house_street s USING (house_code);

-- Both versions of each, less those equal (a record built again the same: its decision stands).
CREATE OR REPLACE TEMP TABLE _seed_rows AS
WITH was AS (SELECT * FROM core.link_inputs WHERE record_id IN (SELECT record_id FROM _seed_ids))
(SELECT * FROM _seed_now EXCEPT SELECT * FROM was)
UNION ALL
(SELECT * FROM was EXCEPT SELECT * FROM _seed_now);

-- The last run's inputs and houses' streets brought up to this run's: every record's row from here on
-- (_link_inputs), and what the next run compares with.
DELETE FROM core.link_inputs WHERE record_key IN (SELECT record_key FROM _seed_rows);
INSERT INTO core.link_inputs SELECT * FROM _seed_now SEMI JOIN _seed_rows USING (record_key);
DELETE FROM core.link_house_streets WHERE house_code IN (SELECT house_code FROM _house_moved);
INSERT INTO core.link_house_streets SELECT * FROM _house_street SEMI JOIN _house_moved USING (house_code);
CREATE OR REPLACE TEMP VIEW _link_inputs AS SELECT * FROM core.link_inputs;

DROP TABLE _house_moved;
DROP TABLE _seed_ids;
DROP TABLE _seed_records;
DROP TABLE _seed_now;
