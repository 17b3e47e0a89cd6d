-- The dirty closure's seeds (identity_closure.sql) from what person_records handed on: the same rows
-- identity_seeds_compared.sql finds by comparing every record, found among a few. Used when scratch.record_delta
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

-- A record gone or re-housed is in record_delta, so this run's houses find every record at a moved house.
CREATE OR REPLACE TEMP TABLE _seed_ids AS
SELECT record_id FROM scratch.record_delta
UNION
SELECT record_id FROM scratch.link_records WHERE house_code IN (SELECT house_code FROM _house_moved);

-- Both versions of each, less those equal (a record built again the same: its decision stands).
CREATE OR REPLACE TEMP TABLE _seed_rows AS
WITH now AS (SELECT * FROM _link_inputs WHERE record_id IN (SELECT record_id FROM _seed_ids)),
was AS (SELECT * FROM core.link_inputs WHERE record_id IN (SELECT record_id FROM _seed_ids))
(SELECT * FROM now EXCEPT SELECT * FROM was)
UNION ALL
(SELECT * FROM was EXCEPT SELECT * FROM now);

DROP TABLE _house_moved;
DROP TABLE _seed_ids;
