-- core.address_matches: the house each free-text address means, or why none can be named
-- (contract §1: an address matching no house, or more than one, goes to the stewards; never guessed).
-- Needs addr_inputs (address_inputs.sql + address_input_<template>.sql) and core.houses.

-- Folded once per row; everything after works on distinct texts (household members share one).
CREATE OR REPLACE TEMP TABLE addr_in AS
SELECT * FROM (SELECT *, addr_fold(address) AS norm FROM addr_inputs) WHERE norm <> '';

CREATE OR REPLACE TEMP TABLE addr_h0 AS
SELECT house_code, compound, building, unit, CAST(floor AS VARCHAR) AS floor, room,
       addr_fold(std_address) AS norm
FROM core.houses;

-- Houses' 标准地址 and people's addresses are parsed by the same expressions. Each distinct
-- text gets an integer id (tid); joins and windows below run on integers, not on text.
CREATE OR REPLACE TEMP TABLE addr_split AS
WITH texts AS (
    SELECT norm, bool_or(is_address) AS is_address
    FROM (SELECT DISTINCT norm, true AS is_address FROM addr_in
          UNION ALL SELECT norm, false FROM addr_h0 WHERE norm IS NOT NULL)
    GROUP BY norm
), road AS MATERIALIZED (
    SELECT norm, is_address, addr_road_head(norm) AS head FROM texts
), rest AS MATERIALIZED (
    SELECT norm, is_address, head, CASE WHEN head = '' THEN norm ELSE norm[length(head) + 1:] END AS rest FROM road
)
SELECT row_number() OVER () AS tid, norm, is_address, head, rest, addr_tail(rest) AS tail FROM rest;

-- Heads and tails repeat across thousands of texts ("3栋2单元501"): their capture groups
-- are read once per distinct spelling.
CREATE OR REPLACE TEMP TABLE addr_parsed AS
WITH heads AS MATERIALIZED (
    SELECT head, addr_road_parts(head) AS rp FROM (SELECT DISTINCT head FROM addr_split WHERE head <> '')
), tails AS MATERIALIZED (
    SELECT tail,
           addr_cn_num(nullif(tp.building, '')) AS building,
           addr_cn_num(nullif(tp.unit, '')) AS unit,
           addr_cn_num(nullif(tp.floor, '')) AS floor,
           addr_cn_num(nullif(tp.room, '')) AS room
    FROM (SELECT tail, addr_tail_parts(tail) AS tp FROM (SELECT DISTINCT tail FROM addr_split WHERE tail <> ''))
)
SELECT s.tid, s.norm, s.is_address,
       nullif(h.rp.road_zone, '') AS road_zone,
       nullif(h.rp.road_no, '') || coalesce('附' || nullif(h.rp.road_no_annex, ''), '') AS road_no,
       nullif(left(s.rest, length(s.rest) - length(s.tail)), '') AS zone,
       t.building, t.unit, t.floor, t.room
FROM addr_split s
LEFT JOIN heads h ON h.head = s.head
LEFT JOIN tails t ON t.tail = s.tail;
DROP TABLE addr_split;

-- Housing columns are normalised once per distinct spelling ("3栋", "三号楼", "501室").
CREATE OR REPLACE TEMP TABLE addr_partmap AS
SELECT v, addr_part(v) AS p
FROM (SELECT building AS v FROM addr_h0 UNION SELECT unit FROM addr_h0
      UNION SELECT floor FROM addr_h0 UNION SELECT room FROM addr_h0)
WHERE v IS NOT NULL;

CREATE OR REPLACE TEMP TABLE addr_zonemap AS
SELECT z, addr_strip_admin(z) AS clean
FROM (SELECT road_zone AS z FROM addr_parsed UNION SELECT zone FROM addr_parsed)
WHERE z IS NOT NULL;

-- A housing column, when filled, outranks what its own 标准地址 says.
CREATE OR REPLACE TEMP TABLE addr_houses AS
SELECT row_number() OVER () AS hid,
       h.house_code,
       rz.clean AS road,
       p.road_no,
       coalesce(nullif(addr_fold(h.compound), ''), cz.clean) AS compound,
       coalesce(pb.p, p.building) AS building,
       coalesce(pu.p, p.unit) AS unit,
       coalesce(pf.p, p.floor) AS floor,
       coalesce(pr.p, p.room) AS room
FROM addr_h0 h
LEFT JOIN addr_parsed p USING (norm)
LEFT JOIN addr_zonemap rz ON rz.z = p.road_zone
LEFT JOIN addr_zonemap cz ON cz.z = p.zone
LEFT JOIN addr_partmap pb ON pb.v = h.building
LEFT JOIN addr_partmap pu ON pu.v = h.unit
LEFT JOIN addr_partmap pf ON pf.v = h.floor
LEFT JOIN addr_partmap pr ON pr.v = h.room;

-- mask: which of building (4), unit (2), room (1) the address gives.
CREATE OR REPLACE TEMP TABLE addr_q AS
SELECT p.* EXCLUDE (is_address, norm),
       (CASE WHEN building IS NOT NULL THEN 4 ELSE 0 END
        + CASE WHEN unit IS NOT NULL THEN 2 ELSE 0 END
        + CASE WHEN room IS NOT NULL THEN 1 ELSE 0 END) AS mask
FROM addr_parsed p WHERE is_address;

-- Which known compound a compound zone names: the longest suffix that is a compound of
-- housing once a division/road prefix is dropped; exact names first, then names without
-- their generic ending (addr_compound_keys) — which may name several compounds, and then
-- stays ambiguous.
CREATE OR REPLACE TEMP TABLE addr_cmap AS
WITH hc AS (
    SELECT DISTINCT compound, unnest(addr_compound_keys(compound)) AS ckey
    FROM (SELECT DISTINCT compound FROM addr_houses WHERE compound IS NOT NULL)
), suf AS MATERIALIZED (
    SELECT zone, i, substr(zone, i) AS s
    FROM (SELECT zone, unnest(range(1, length(zone))) AS i
          FROM (SELECT DISTINCT zone FROM addr_q WHERE zone IS NOT NULL))
    WHERE addr_is_prefix(substr(zone, 1, i - 1))
), hits AS (
    SELECT suf.zone, suf.i, 1 AS tier, hc.compound
    FROM suf JOIN (SELECT DISTINCT compound FROM hc) hc ON hc.compound = suf.s
    UNION ALL
    SELECT k.zone, k.i, 2 AS tier, hc.compound
    FROM (SELECT zone, i, unnest(addr_compound_keys(s)) AS ckey FROM suf) k JOIN hc ON hc.ckey = k.ckey
), ranked AS (
    SELECT zone, compound, rank() OVER (PARTITION BY zone ORDER BY i, tier) AS rk FROM hits
)
SELECT DISTINCT zone, compound FROM ranked WHERE rk = 1;

CREATE OR REPLACE TEMP TABLE addr_rmap AS
WITH hr AS (
    SELECT DISTINCT road FROM addr_houses WHERE road IS NOT NULL
), suf AS (
    SELECT road_zone, i, substr(road_zone, i) AS s
    FROM (SELECT road_zone, unnest(range(1, length(road_zone))) AS i
          FROM (SELECT DISTINCT road_zone FROM addr_q WHERE road_zone IS NOT NULL AND road_no IS NOT NULL))
    WHERE addr_is_prefix(substr(road_zone, 1, i - 1))
), ranked AS (
    SELECT suf.road_zone, hr.road, rank() OVER (PARTITION BY suf.road_zone ORDER BY suf.i) AS rk
    FROM suf JOIN hr ON hr.road = suf.s
)
SELECT DISTINCT road_zone, road FROM ranked WHERE rk = 1;

-- Anchors: a compound, or a road and number; each numbered once (aid).
CREATE OR REPLACE TEMP TABLE addr_ha AS
WITH a AS (
    SELECT hid, 'c' AS kind, compound AS anchor, building, unit, room FROM addr_houses WHERE compound IS NOT NULL
    UNION ALL
    SELECT hid, 'r', road || '|' || road_no, building, unit, room
    FROM addr_houses WHERE road IS NOT NULL AND road_no IS NOT NULL
), ids AS (
    SELECT kind, anchor, row_number() OVER () AS aid FROM (SELECT DISTINCT kind, anchor FROM a)
)
SELECT a.hid, ids.aid, ids.kind, ids.anchor, a.building, a.unit, a.room FROM a JOIN ids USING (kind, anchor);

CREATE OR REPLACE TEMP TABLE addr_anchor AS SELECT DISTINCT aid, kind, anchor FROM addr_ha;

CREATE OR REPLACE TEMP TABLE addr_qa AS
SELECT q.tid, a.aid, a.kind, q.mask,
       coalesce(q.building, '') AS kb, coalesce(q.unit, '') AS ku, coalesce(q.room, '') AS kr
FROM addr_q q JOIN addr_cmap m ON m.zone = q.zone JOIN addr_anchor a ON a.kind = 'c' AND a.anchor = m.compound
UNION ALL
SELECT q.tid, a.aid, a.kind, q.mask, coalesce(q.building, ''), coalesce(q.unit, ''), coalesce(q.room, '')
FROM addr_q q JOIN addr_rmap m ON m.road_zone = q.road_zone
     JOIN addr_anchor a ON a.kind = 'r' AND a.anchor = m.road || '|' || q.road_no
WHERE q.road_no IS NOT NULL;

-- Candidates. Strict: the house has every part the address gives, equal — one equi-join,
-- each house keyed once per address shape (mask) in use. Loose: houses whose housing row
-- leaves building or unit empty, which cannot contradict an address on that part.
CREATE OR REPLACE TEMP TABLE addr_cand AS
WITH hk AS (
    SELECT ha.hid, ha.aid, m.mask,
           CASE WHEN m.mask & 4 > 0 THEN ha.building ELSE '' END AS kb,
           CASE WHEN m.mask & 2 > 0 THEN ha.unit ELSE '' END AS ku,
           CASE WHEN m.mask & 1 > 0 THEN ha.room ELSE '' END AS kr
    FROM addr_ha ha, (SELECT DISTINCT mask FROM addr_q) m
    WHERE (m.mask & 4 = 0 OR ha.building IS NOT NULL)
      AND (m.mask & 2 = 0 OR ha.unit IS NOT NULL)
      AND (m.mask & 1 = 0 OR ha.room IS NOT NULL)
), c AS (
    SELECT qa.tid, hk.hid, qa.kind
    FROM addr_qa qa JOIN hk USING (aid, mask, kb, ku, kr)
    UNION ALL
    SELECT qa.tid, ha.hid, qa.kind
    FROM addr_qa qa JOIN (SELECT * FROM addr_ha WHERE building IS NULL OR unit IS NULL) ha USING (aid)
    WHERE qa.kr = '' OR ha.room = qa.kr
)
SELECT tid, hid, bool_or(kind = 'c') AS by_c, bool_or(kind = 'r') AS by_r
FROM c GROUP BY tid, hid;

-- A candidate may leave a part unknown but never contradict one. The most specific wins:
-- building, then unit, then both compound and road, then floor. Ties are not broken.
CREATE OR REPLACE TEMP TABLE addr_winners AS
WITH scored AS (
    SELECT c.tid, c.hid, c.by_c, c.by_r,
           coalesce(q.building = h.building, false) AS b_eq,
           coalesce(q.unit = h.unit, false) AS u_eq,
           coalesce(q.floor = h.floor, false) AS f_eq,
           q.room IS NOT NULL AS room_eq,
           h.room IS NULL AS house_roomless
    FROM addr_cand c JOIN addr_q q USING (tid) JOIN addr_houses h USING (hid)
    WHERE (q.building IS NULL OR h.building IS NULL OR q.building = h.building)
      AND (q.unit IS NULL OR h.unit IS NULL OR q.unit = h.unit)
      AND (q.floor IS NULL OR h.floor IS NULL OR q.floor = h.floor)
), ranked AS (
    SELECT *, rank() OVER (PARTITION BY tid
                           ORDER BY b_eq DESC, u_eq DESC, by_c::INTEGER + by_r::INTEGER DESC, f_eq DESC) AS rk
    FROM scored
)
SELECT tid, hid, house_roomless,
       concat_ws('_',
           CASE WHEN by_c AND by_r THEN 'compound_road' WHEN by_c THEN 'compound' ELSE 'road' END,
           CASE WHEN b_eq THEN 'building' END, CASE WHEN u_eq THEN 'unit' END,
           CASE WHEN f_eq THEN 'floor' END, CASE WHEN room_eq THEN 'room' END) AS rule
FROM ranked WHERE rk = 1;

CREATE OR REPLACE TEMP TABLE addr_decided AS
WITH w AS MATERIALIZED (
    SELECT tid, count(*) AS n, min(hid) AS hid, bool_and(house_roomless) AS all_roomless, min(rule) AS rule
    FROM addr_winners GROUP BY tid
), cl AS (
    -- a steward needs a short list to act on, not every flat of a building
    SELECT x.tid, list(h.house_code ORDER BY h.house_code)[1:50] AS cands
    FROM addr_winners x JOIN addr_houses h USING (hid)
    WHERE x.tid IN (SELECT tid FROM w WHERE n > 1)
    GROUP BY x.tid
), ww AS (
    SELECT w.tid, w.n, h.house_code AS first_house, cl.cands, w.all_roomless, w.rule
    FROM w JOIN addr_houses h USING (hid) LEFT JOIN cl USING (tid)
), d AS (
    SELECT q.*, w.n, w.first_house, w.cands, w.rule AS w_rule,
           w.n = 1 AND (q.room IS NOT NULL OR w.all_roomless) AS unique_house,
           q.tid IN (SELECT tid FROM addr_qa) AS anchored
    FROM addr_q q LEFT JOIN ww w USING (tid)
)
SELECT p.norm, rz.clean AS road, d.road_no, cz.clean AS compound, d.building, d.unit, d.floor, d.room, d.n,
       CASE WHEN d.n IS NULL THEN 'no_match' WHEN d.unique_house THEN 'matched' ELSE 'multi_match' END AS match_status,
       CASE WHEN d.unique_house THEN d.first_house END AS house_code,
       CASE WHEN d.n IS NOT NULL AND NOT d.unique_house THEN coalesce(d.cands, [d.first_house]) END AS candidates,
       CASE WHEN d.unique_house THEN d.w_rule
            -- one house, but the address stops above the room: it may mean a house housing lacks
            WHEN d.n = 1 THEN 'address_without_room'
            WHEN d.n > 1 THEN d.w_rule
            WHEN d.anchored THEN 'no_house'
            ELSE 'unknown_place' END AS rule
FROM d
JOIN addr_parsed p USING (tid)
LEFT JOIN addr_zonemap rz ON rz.z = d.road_zone
LEFT JOIN addr_zonemap cz ON cz.z = d.zone;

CREATE OR REPLACE TABLE core.address_matches AS
SELECT i.template, i.batch_id, i.row_no, i.record_no,
       record_key(i.template, b.batch_no, i.row_no) AS record_key,
       record_id(b.batch_no, i.row_no) AS record_id,
       i.address,
       d.road, d.road_no, d.compound, d.building, d.unit, d.floor, d.room,
       d.match_status, d.house_code,
       CAST(d.candidates AS VARCHAR[]) AS candidates,
       coalesce(d.n, 0)::INTEGER AS n_candidates,
       d.rule
FROM addr_in i JOIN addr_decided d USING (norm)
LEFT JOIN raw.batches b USING (batch_id);

DROP TABLE addr_inputs; DROP TABLE addr_in; DROP TABLE addr_h0; DROP TABLE addr_parsed; DROP TABLE addr_partmap;
DROP TABLE addr_zonemap; DROP TABLE addr_houses; DROP TABLE addr_q; DROP TABLE addr_cmap; DROP TABLE addr_rmap;
DROP TABLE addr_ha; DROP TABLE addr_anchor; DROP TABLE addr_qa; DROP TABLE addr_cand; DROP TABLE addr_winners;
DROP TABLE addr_decided;
