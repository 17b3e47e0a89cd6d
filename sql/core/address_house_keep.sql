-- Which houses an incremental build of core.address_matches reads again (pipelines/address/__init__.py; before
-- address_house_texts.sql): the last build's reading of every house is in core.address_house_reads, with the
-- housing row it was read from (batch_id, row_no: a batch is its bytes, so the same row reads the same while the
-- code and the steward fixes are those of the fingerprint) and the cleaned text the reading saw (norm). A house's
-- reading is made of its housing row, its micro-grid's units (addr_grids) and the names of the grids (addr_gaz),
-- which the reading strips from the text only where the text holds them (address_parse_round.sql,
-- address_parse_place.sql). So a house is read again when
--   - its row of core.houses is another (a new or re-delivered housing batch, a withdrawn one), or of no batch
--     (written by hand: nothing says it is the same), or it is new;
--   - its micro-grid now lies in another community, street or district;
--   - its stored cleaned text holds a name of the grids that was added or removed (addr_gaz_change).
-- The other houses keep their stored reading (address_houses.sql); a house no longer in core.houses is dropped.
-- addr_gaz_change and addr_gaz_flipped are also what address_reach.sql reads.
CREATE OR REPLACE TEMP TABLE addr_gaz_change AS
(SELECT level, code, name, is_short FROM core.address_gaz EXCEPT SELECT level, code, name, is_short FROM addr_gaz)
UNION ALL
(SELECT level, code, name, is_short FROM addr_gaz EXCEPT SELECT level, code, name, is_short FROM core.address_gaz);

-- Whether the gazetteer went from empty to not empty or back: every text's 'outside' turns (address_matches.sql),
-- which no needle reaches — the build is then a full one.
SET VARIABLE addr_gaz_flipped = ((SELECT count(*) FROM core.address_gaz) = 0) <> ((SELECT count(*) FROM addr_gaz) = 0);

SET VARIABLE addr_gaz_re = (SELECT string_agg(DISTINCT regexp_escape(name), '|') FROM addr_gaz_change
                            WHERE nullif(name, '') IS NOT NULL);

CREATE OR REPLACE TEMP TABLE addr_house_redo AS
SELECT h.house_code
FROM core.houses h
LEFT JOIN core.address_house_reads r USING (house_code)
LEFT JOIN addr_grids g ON g.microgrid_code = h.microgrid_code
WHERE getvariable('addr_gaz_flipped')
   OR r.house_code IS NULL OR h.batch_id IS NULL
   OR r.batch_id IS DISTINCT FROM h.batch_id OR r.row_no IS DISTINCT FROM h.row_no
   OR r.community_code IS DISTINCT FROM g.community_code OR r.street_code IS DISTINCT FROM g.street_code
   OR r.district_code IS DISTINCT FROM g.district_code
   OR (getvariable('addr_gaz_re') IS NOT NULL AND regexp_matches(r.norm, getvariable('addr_gaz_re')));
