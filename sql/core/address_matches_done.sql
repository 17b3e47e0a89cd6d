-- After core.address_matches is written (full or incremental): the records whose house by address changed —
-- matched to another house, matched or unmatched now, new or gone — for core.person_records
-- (core/person_records_delta.sql reads and drops scratch.address_delta). Added to, not replaced: a build whose
-- person_records step did not run leaves its records for the next one.
CREATE TABLE IF NOT EXISTS scratch.address_delta (record_id BIGINT);
INSERT INTO scratch.address_delta
SELECT record_id FROM (
    (SELECT record_id, address_house(m.match_status, m.house_code) AS house
     FROM core.address_matches m SEMI JOIN addr_redo USING (template, batch_id, row_no)
     EXCEPT SELECT record_id, house FROM addr_was)
    UNION ALL
    (SELECT record_id, house FROM addr_was
     EXCEPT SELECT record_id, address_house(m.match_status, m.house_code)
     FROM core.address_matches m SEMI JOIN addr_redo USING (template, batch_id, row_no))
);

-- The houses and the grids' names this build read, for the next incremental build to compare with
-- (address_reach.sql) and to keep (address_house_keep.sql): rewritten whole by a full build, only the rows of the
-- houses read again or changed by an incremental one (a house read again may read the same from another row).
CREATE TABLE IF NOT EXISTS core.address_house_reads AS
SELECT house_code, road, road_no, compound, building, unit, floor, room, community_code, street_code, district_code,
       batch_id, row_no, norm
FROM addr_houses LIMIT 0;
CREATE OR REPLACE TEMP TABLE addr_house_store AS
SELECT house_code FROM addr_house_change UNION SELECT house_code FROM addr_house_redo;
DELETE FROM core.address_house_reads WHERE house_code IN (SELECT house_code FROM addr_house_store);
INSERT INTO core.address_house_reads
SELECT house_code, road, road_no, compound, building, unit, floor, room, community_code, street_code, district_code,
       batch_id, row_no, norm
FROM addr_houses WHERE house_code IN (SELECT house_code FROM addr_house_store);
-- Each address text a row needs read (no stated known house) as the reading cleaned it (addr_clean: it depends
-- on the code only), for address_reach.sql to look for needles in without cleaning every text again: the texts
-- read now are added, those no row reads any more go.
CREATE TABLE IF NOT EXISTS core.address_text_norms (address VARCHAR, norm VARCHAR);
DELETE FROM core.address_text_norms
WHERE address NOT IN (SELECT address FROM addr_inputs WHERE stated_house IS NULL);
INSERT INTO core.address_text_norms
SELECT t.raw, q.norm FROM addr_texts t JOIN addr_q q USING (tid)
WHERE t.raw NOT IN (SELECT address FROM core.address_text_norms);
CREATE OR REPLACE TABLE core.address_gaz AS SELECT DISTINCT level, code, name, is_short FROM addr_gaz;

DROP VIEW addr_match_rows;
DROP TABLE addr_inputs; DROP TABLE addr_htexts; DROP TABLE addr_hp; DROP TABLE addr_texts; DROP TABLE addr_partmap;
DROP TABLE addr_compmap; DROP TABLE addr_houses; DROP TABLE addr_q; DROP TABLE addr_qz; DROP TABLE addr_cmap; DROP TABLE addr_qc;
DROP TABLE addr_rmap; DROP TABLE addr_ha; DROP TABLE addr_anchor; DROP TABLE addr_qa; DROP TABLE addr_cand;
DROP TABLE addr_scored; DROP TABLE addr_winners; DROP TABLE addr_decided; DROP TABLE addr_unmatched;
DROP TABLE addr_multi; DROP TABLE addr_row_hint; DROP TABLE addr_station; DROP TABLE addr_row_station;
DROP TABLE addr_redo; DROP TABLE addr_was; DROP TABLE addr_kept_placed;
DROP TABLE addr_house_change; DROP TABLE addr_house_store; DROP TABLE IF EXISTS addr_house_redo;
DROP TABLE IF EXISTS addr_gaz_change; DROP TABLE IF EXISTS addr_needles;
DROP TABLE IF EXISTS addr_reached;
