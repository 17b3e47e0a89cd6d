-- The houses as the matcher reads them, step 2 of 2 (after address_house_texts.sql and the parse of their
-- 标准地址 in ap_out): addr_houses, each house's road, door number, compound, parts and grid units — all that
-- address_matches.sql knows of a house, and what an incremental build compares with the last build's
-- (core.address_house_reads, address_reach.sql).

-- Housing columns are normalised once per distinct spelling ("3栋", "三号楼", "501室").
CREATE OR REPLACE TEMP TABLE addr_partmap AS
SELECT v, addr_part(v) AS p
FROM (SELECT building AS v FROM addr_htexts UNION SELECT unit FROM addr_htexts
      UNION SELECT floor FROM addr_htexts UNION SELECT room FROM addr_htexts)
WHERE v IS NOT NULL;

-- A compound as housing writes it, or as the 标准地址 reads, in one spelling, once per distinct spelling.
CREATE OR REPLACE TEMP TABLE addr_compmap AS
SELECT c, given, addr_compound_norm(CASE WHEN given THEN addr_fold(c) ELSE c END) AS norm
FROM (SELECT DISTINCT compound AS c, true AS given FROM addr_htexts WHERE nullif(trim(compound), '') IS NOT NULL
      UNION SELECT DISTINCT match_zone, false FROM ap_out);

-- A housing column, when filled, outranks what its own 标准地址 says. hid numbers the houses. batch_id, row_no
-- (the housing row read) and norm (the cleaned text read) are stored with the reading for the next build
-- (address_house_keep.sql); an incremental build adds the houses it did not read again (address_houses_kept.sql).
CREATE OR REPLACE TEMP TABLE addr_houses AS
SELECT row_number() OVER () AS hid,
       h.house_code,
       p.carrier AS road,
       p.road_no,
       coalesce(cg.norm, cp.norm) AS compound,
       coalesce(pb.p, p.building) AS building,
       coalesce(pu.p, p.unit) AS unit,
       coalesce(pf.p, p.floor) AS floor,
       coalesce(pr.p, p.room) AS room,
       g.community_code, g.street_code, g.district_code,
       h.batch_id, h.row_no, p.norm
FROM addr_htexts h
LEFT JOIN addr_hp hp ON hp.ptext = h.ptext
LEFT JOIN ap_out p ON p.tid = hp.tid
LEFT JOIN addr_grids g ON g.microgrid_code = h.microgrid_code
LEFT JOIN addr_compmap cg ON cg.given AND cg.c = h.compound
LEFT JOIN addr_compmap cp ON NOT cp.given AND cp.c = p.match_zone
LEFT JOIN addr_partmap pb ON pb.v = h.building
LEFT JOIN addr_partmap pu ON pu.v = h.unit
LEFT JOIN addr_partmap pf ON pf.v = h.floor
LEFT JOIN addr_partmap pr ON pr.v = h.room;

-- The houses' reading is done: its working tables go before the addresses are read.
DROP TABLE ap_in; DROP TABLE ap_t; DROP TABLE ap_tails; DROP TABLE ap_h; DROP TABLE ap_r; DROP TABLE ap_g;
DROP TABLE ap_tok; DROP TABLE ap_p; DROP TABLE ap_out;
