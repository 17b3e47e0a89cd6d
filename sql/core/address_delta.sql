-- Which source rows an incremental build decides (pipelines/address/__init__.py; docs/architecture.md,
-- "Incremental builds"): the last build's rows are in core.address_matches, decided with the same code, steward
-- fixes and address decisions (pipelines/status/delta.py). Runs after addr_inputs is filled and address_reach.sql
-- found what changed in the houses and the grids' names. Decided again:
--   - the rows core.address_matches does not hold yet (new batches): a text's decision depends on the houses,
--     the grids' names and the stewards' decisions, and on no other text;
--   - the rows whose text fit several houses (multi, without_room, station, community_hint): a police station's
--     jurisdiction is learned from every row it placed (address_matches.sql, addr_station), and new rows can change
--     it; a row's own 社区名称 is looked up among the grids' names, which may have changed;
--   - the rows whose stated 房屋编码 became or ceased to be a known house;
--   - the rows whose text holds a needle of address_reach.sql (a changed house's compound or road, a changed
--     name of the grids): in its cleaned text (as the reading sees it: core.address_text_norms), its compound
--     zone and road zone, and the two joined (a road zone may spill its head onto the compound).
-- The other rows are kept; the rows of batches no longer loaded go.
CREATE OR REPLACE TEMP TABLE addr_reached AS
SELECT DISTINCT t.address
FROM (SELECT DISTINCT address, road, compound FROM core.address_matches WHERE how <> 'stated') t
JOIN core.address_text_norms n USING (address)
WHERE regexp_matches(concat_ws('|', n.norm, t.compound, t.road, t.compound || t.road), getvariable('addr_reach_re'));

CREATE OR REPLACE TEMP TABLE addr_redo AS
SELECT i.template, i.batch_id, i.row_no
FROM addr_inputs i
LEFT JOIN core.address_matches m USING (template, batch_id, row_no)
WHERE m.row_no IS NULL OR m.how IN ('multi', 'without_room', 'station', 'community_hint')
   OR (m.how = 'stated') <> (i.stated_house IS NOT NULL)
   OR (i.stated_house IS NULL AND i.address IN (SELECT address FROM addr_reached));

-- The stored rows that go (decided again, or their batch gone), with their outcome (address_was.sql).
CREATE OR REPLACE TEMP TABLE addr_gone AS
SELECT m.template, m.batch_id, m.row_no, m.record_id, address_house(m.match_status, m.house_code) AS house
FROM core.address_matches m
WHERE NOT EXISTS (SELECT 1 FROM addr_inputs i WHERE i.template = m.template AND i.batch_id = m.batch_id
                                                AND i.row_no = m.row_no)
   OR EXISTS (SELECT 1 FROM addr_redo r WHERE r.template = m.template AND r.batch_id = m.batch_id
                                          AND r.row_no = m.row_no);

CREATE OR REPLACE TEMP TABLE addr_was AS SELECT record_id, house FROM addr_gone;

DELETE FROM core.address_matches m
WHERE EXISTS (SELECT 1 FROM addr_gone g WHERE g.template = m.template AND g.batch_id = m.batch_id
                                          AND g.row_no = m.row_no);
DROP TABLE addr_gone;

-- The house each kept row named by itself (its stated house, or the one house its text named): what a police
-- station's jurisdiction is learned from, with the rows decided now (address_matches.sql, addr_station).
CREATE OR REPLACE TEMP TABLE addr_kept_placed AS
SELECT template, batch_id, row_no, house_code AS house
FROM core.address_matches
WHERE how IN ('stated', 'text', 'alias');
