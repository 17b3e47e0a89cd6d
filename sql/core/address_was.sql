-- A full build of core.address_matches over the last build's rows: their outcome as core.person_records reads it
-- (the house a record has by its address: address_house in sql/macros/address.sql), so that
-- core/address_matches_done.sql hands on only the records whose house changed.
CREATE OR REPLACE TEMP TABLE addr_was AS
SELECT record_id, address_house(m.match_status, m.house_code) AS house FROM core.address_matches m;
