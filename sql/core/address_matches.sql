-- core.address_matches: the house each free-text address means, or why none can be named
-- (contract §1: an address matching no house, or more than one, goes to the stewards; never guessed).
-- Needs addr_inputs (address_inputs.sql + address_input_<template>.sql), addr_texts and the parse of
-- every text in ap_out (address_match_texts.sql, pipelines/address/parse.py), addr_gaz, addr_grids,
-- quality.active_address_aliases (the stewards' decisions) and core.houses.
-- Joins and windows run on integer ids of distinct texts (tid) and houses (hid), not on text.

-- mask: which of building (4), unit (2), room (1) the address gives. outside: the address names a
-- district or street that no unit of core.grids bears (杭州市西湖区… in a Chengdu store): elsewhere.
CREATE OR REPLACE TEMP TABLE addr_q AS
SELECT t.tid, p.problem, p.norm, p.carrier AS road_zone, p.road_no,
       cz.norm AS zone, p.match_zone AS compound_read, p.soft_len,
       p.building, p.unit, p.floor, p.room,
       (CASE WHEN p.building IS NOT NULL THEN 4 ELSE 0 END
        + CASE WHEN p.unit IS NOT NULL THEN 2 ELSE 0 END
        + CASE WHEN p.room IS NOT NULL THEN 1 ELSE 0 END) AS mask,
       coalesce(p.hits, []::VARCHAR[]) AS hits,
       p.unknown_units,
       coalesce(len(p.unknown_units), 0) > 0 AND (SELECT count(*) FROM addr_gaz) > 0 AS outside
FROM addr_texts t JOIN ap_out p USING (tid)
LEFT JOIN (SELECT z, addr_compound_norm(z) AS norm
           FROM (SELECT DISTINCT match_zone AS z FROM ap_out)) cz
       ON cz.z = p.match_zone;

-- The reading is done: its working tables go before the matching builds its own (a city's are large).
DROP TABLE ap_in; DROP TABLE ap_t; DROP TABLE ap_tails; DROP TABLE ap_h; DROP TABLE ap_r; DROP TABLE ap_g;
DROP TABLE ap_tok; DROP TABLE ap_p; DROP TABLE ap_out;

-- Which known road a road zone names: the longest suffix that is a road of housing once a division,
-- another road or a short name of a district, street or community is dropped (玉林芳草街 = 芳草街, unless
-- 玉林芳草街 is a road). A suffix after anything else (枫银苑雅居永丰路5号: 雅居 + 永丰路) spills what it
-- drops onto the compound, and counts only if compound and spill then name a known compound.
CREATE OR REPLACE TEMP TABLE addr_rmap AS
WITH hr AS (
    SELECT DISTINCT road FROM addr_houses WHERE road IS NOT NULL
), al AS (
    SELECT a.spelling_key, hr.road, a.alias_id
    FROM quality.active_address_aliases a JOIN hr ON hr.road = a.target_key WHERE a.kind = 'road'
), suf AS (
    SELECT road_zone, i, substr(road_zone, i) AS s,
           NOT (addr_is_prefix(substr(road_zone, 1, i - 1))
                OR substr(road_zone, 1, i - 1) IN (SELECT name FROM addr_gaz)) AS spill
    FROM (SELECT road_zone, unnest(range(1, length(road_zone))) AS i
          FROM (SELECT DISTINCT road_zone FROM addr_q WHERE road_zone IS NOT NULL AND road_no IS NOT NULL AND NOT outside))
), hits AS (
    SELECT suf.road_zone, suf.i, suf.spill, 0 AS tier, al.road, al.alias_id FROM suf JOIN al ON al.spelling_key = suf.s
    UNION ALL
    SELECT suf.road_zone, suf.i, suf.spill, 1, hr.road, NULL FROM suf JOIN hr ON hr.road = suf.s
), ranked AS (
    SELECT *, rank() OVER (PARTITION BY road_zone ORDER BY spill, i, tier) AS rk FROM hits
)
SELECT DISTINCT road_zone, road, alias_id, CASE WHEN spill THEN left(road_zone, i - 1) END AS spill
FROM ranked WHERE rk = 1;

-- The compound zone of each text, with what a road spilled onto it.
CREATE OR REPLACE TEMP TABLE addr_qz AS
SELECT q.tid,
       CASE WHEN m.spill IS NOT NULL THEN addr_compound_norm(coalesce(q.compound_read, '') || m.spill) ELSE q.zone END
           AS zone,
       m.spill IS NOT NULL AS spilled, q.soft_len
FROM addr_q q
LEFT JOIN (SELECT DISTINCT road_zone, spill FROM addr_rmap WHERE spill IS NOT NULL) m
       ON m.road_zone = q.road_zone AND q.road_no IS NOT NULL;

-- Which known compound a compound zone names: the longest suffix that is a compound of housing once a
-- division/road prefix is dropped. The same name (tier 1: exactly, or any phase of it when the address
-- names no phase: 金域蓝湾 = 金域蓝湾1期, 金域蓝湾2期) outranks a similar one (tier 2: without its generic
-- ending, 芳草园 = 芳草小区) — which may name several compounds, and then stays ambiguous. A steward's
-- decision (tier 0) outranks both.
CREATE OR REPLACE TEMP TABLE addr_cmap AS
WITH hc AS (
    SELECT DISTINCT compound FROM addr_houses WHERE compound IS NOT NULL
), hk AS (
    SELECT DISTINCT compound, unnest(addr_compound_keys(compound)) AS ckey FROM hc
), hb AS (
    SELECT compound, base FROM (SELECT compound, addr_compound_base(compound) AS base FROM hc) WHERE base IS NOT NULL
), al AS (
    SELECT a.spelling_key, hc.compound, a.alias_id
    FROM quality.active_address_aliases a JOIN hc ON hc.compound = a.target_key
    WHERE a.kind = 'compound' AND a.context_key IS NULL
), suf AS MATERIALIZED (
    -- a prefix may be dropped when it looks like a division or road, or is the short form of a district,
    -- street or community the reading took off (玉林芳草小区 = 芳草小区 — unless 玉林芳草小区 is a compound)
    SELECT zone, i, substr(zone, i) AS s
    FROM (SELECT zone, soft_len, unnest(range(1, length(zone))) AS i
          FROM (SELECT DISTINCT z.zone, z.soft_len FROM addr_qz z JOIN addr_q q USING (tid)
                WHERE z.zone IS NOT NULL AND NOT q.outside))
    WHERE addr_is_prefix(substr(zone, 1, i - 1)) OR i - 1 = soft_len
), hits AS (
    SELECT suf.zone, suf.i, 0 AS tier, al.compound, al.alias_id FROM suf JOIN al ON al.spelling_key = suf.s
    UNION ALL
    SELECT suf.zone, suf.i, 1, hc.compound, NULL FROM suf JOIN hc ON hc.compound = suf.s
    UNION ALL
    SELECT suf.zone, suf.i, 1, hb.compound, NULL FROM suf JOIN hb ON hb.base = suf.s
    UNION ALL
    SELECT k.zone, k.i, 2, hk.compound, NULL
    FROM (SELECT zone, i, unnest(addr_compound_keys(s)) AS ckey FROM suf) k JOIN hk USING (ckey)
), ranked AS (
    SELECT *, rank() OVER (PARTITION BY zone ORDER BY i, tier) AS rk FROM hits
)
SELECT DISTINCT zone, compound, tier, alias_id FROM ranked WHERE rk = 1;

-- A decision made for one compound spelling at one road and door number applies there only.
CREATE OR REPLACE TEMP TABLE addr_qc AS
WITH ctx AS (
    SELECT q.tid, a.target_key AS compound, a.alias_id
    FROM addr_q q
    JOIN quality.active_address_aliases a
      ON a.kind = 'compound' AND a.context_key IS NOT NULL AND a.spelling_key = q.zone
     AND a.context_key = q.road_zone || '|' || q.road_no
    WHERE a.target_key IN (SELECT compound FROM addr_houses) AND NOT q.outside
)
SELECT tid, compound, 0 AS tier, alias_id FROM ctx
UNION ALL
SELECT z.tid, m.compound, m.tier, m.alias_id
FROM addr_qz z JOIN addr_cmap m ON m.zone = z.zone
WHERE z.tid NOT IN (SELECT tid FROM ctx);

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
       coalesce(q.building, '') AS kb, coalesce(q.unit, '') AS ku, coalesce(q.room, '') AS kr, qc.alias_id
FROM addr_q q JOIN addr_qc qc USING (tid) JOIN addr_anchor a ON a.kind = 'c' AND a.anchor = qc.compound
UNION ALL
SELECT q.tid, a.aid, a.kind, q.mask, coalesce(q.building, ''), coalesce(q.unit, ''), coalesce(q.room, ''), m.alias_id
FROM addr_q q JOIN addr_rmap m ON m.road_zone = q.road_zone
     JOIN addr_anchor a ON a.kind = 'r' AND a.anchor = m.road || '|' || q.road_no
WHERE q.road_no IS NOT NULL AND NOT q.outside
  AND (m.spill IS NULL OR q.tid IN (SELECT tid FROM addr_qc));

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

-- A candidate may leave a part unknown but never contradict one. The most specific wins: building,
-- then unit, then both compound and road, then floor, then a community or street the address itself
-- names (芳草社区金域蓝湾… where 金域蓝湾 stands in two communities). Ties are not broken.
-- score orders candidates in that order (hint, 0..2, the last); score // 4 ignores the hint.
CREATE OR REPLACE TEMP TABLE addr_scored AS
SELECT c.tid, c.hid, c.by_c, c.by_r, h.room IS NULL AS house_roomless,
       coalesce(q.building = h.building, false)::INTEGER * 32 + coalesce(q.unit = h.unit, false)::INTEGER * 16
       + (c.by_c::INTEGER + c.by_r::INTEGER - 1) * 8 + coalesce(q.floor = h.floor, false)::INTEGER * 4
       + CASE WHEN len(q.hits) = 0 THEN 0
              WHEN list_contains(q.hits, 'community:' || h.community_code) THEN 2
              WHEN list_contains(q.hits, 'street:' || h.street_code) THEN 1 ELSE 0 END AS score
FROM addr_cand c JOIN addr_q q USING (tid) JOIN addr_houses h USING (hid)
WHERE (q.building IS NULL OR h.building IS NULL OR q.building = h.building)
  AND (q.unit IS NULL OR h.unit IS NULL OR q.unit = h.unit)
  AND (q.floor IS NULL OR h.floor IS NULL OR q.floor = h.floor)
  -- a house of the same compound name at another known road and number contradicts the address's
  -- own (锦屏路8号金域蓝湾… is not the 金域蓝湾 of 嘉陵江东街180号)
  AND NOT (c.by_c AND NOT c.by_r AND h.road_no IS NOT NULL
           AND c.tid IN (SELECT tid FROM addr_qa WHERE kind = 'r'));

CREATE OR REPLACE TEMP TABLE addr_winners AS
SELECT s.* FROM addr_scored s JOIN (SELECT tid, max(score) AS ms FROM addr_scored GROUP BY tid) b USING (tid)
WHERE s.score = b.ms;

-- Per distinct text: how many houses are left, the house when it is one, and what decided — a steward's
-- decision for this very spelling (kind house) first. What a steward needs to read about the others
-- (the candidates, the compounds and roads a text could mean, the place it named) is kept apart, for the
-- few texts that did not name one house.
CREATE OR REPLACE TEMP TABLE addr_decided AS
WITH w AS MATERIALIZED (
    SELECT tid, count(*) AS n, min(hid) AS hid, bool_and(house_roomless) AS all_roomless,
           bool_and(by_c AND by_r) AS by_both, bool_or(by_c) AS by_c, max(score) AS ms
    FROM addr_winners GROUP BY tid
), hinted AS (
    -- the community or street named in the address left fewer houses than the parts alone
    SELECT s.tid FROM addr_scored s JOIN w USING (tid)
    WHERE w.ms % 4 > 0 AND s.score // 4 = w.ms // 4 AND s.score < w.ms
    GROUP BY s.tid
), aliased AS (
    SELECT tid, min(alias_id) AS alias_id FROM addr_qa WHERE alias_id IS NOT NULL GROUP BY tid
), house_alias AS (
    SELECT q.tid, a.target_key AS house_code, a.alias_id
    FROM addr_q q JOIN quality.active_address_aliases a ON a.kind = 'house' AND a.spelling_key = q.norm
    WHERE a.target_key IN (SELECT house_code FROM addr_houses)
), d AS (
    SELECT q.tid, q.problem, q.outside, q.road_zone, q.road_no, q.zone, q.building, q.unit, q.floor, q.room,
           q.room IS NOT NULL AS room_given, w.n, w.all_roomless,
           h.house_code AS first_house,
           CASE WHEN ha.tid IS NOT NULL THEN 'alias' WHEN q.problem IS NOT NULL THEN 'problem'
                WHEN q.outside THEN 'outside' WHEN w.n = 1 AND (q.room IS NOT NULL OR w.all_roomless) THEN 'text'
                WHEN w.n = 1 THEN 'without_room' WHEN w.n > 1 THEN 'multi'
                WHEN q.tid IN (SELECT tid FROM addr_qa) THEN 'no_house' ELSE 'unknown_place' END AS how,
           -- the parts that decided, spelled once per text from the winners' score
           concat_ws('_', CASE WHEN w.by_both THEN 'compound_road' WHEN w.by_c THEN 'compound' ELSE 'road' END,
                     CASE WHEN w.ms & 32 > 0 THEN 'building' END, CASE WHEN w.ms & 16 > 0 THEN 'unit' END,
                     CASE WHEN w.ms & 4 > 0 THEN 'floor' END, CASE WHEN q.room IS NOT NULL THEN 'room' END) AS w_rule,
           hi.tid IS NOT NULL AS by_hint, coalesce(ha.alias_id, al.alias_id) AS alias_id,
           ha.house_code AS alias_house
    FROM addr_q q
    LEFT JOIN w USING (tid)
    LEFT JOIN addr_houses h ON h.hid = w.hid
    LEFT JOIN hinted hi USING (tid)
    LEFT JOIN aliased al USING (tid)
    LEFT JOIN house_alias ha USING (tid)
)
SELECT tid, how, n, road_zone, road_no, zone, building, unit, floor, room,
       CASE how WHEN 'text' THEN first_house WHEN 'alias' THEN alias_house END AS house,
       first_house, room_given, all_roomless, w_rule,
       CASE how WHEN 'alias' THEN 'alias_house' WHEN 'problem' THEN 'not_an_address' WHEN 'outside' THEN 'outside'
                WHEN 'text' THEN w_rule || CASE WHEN by_hint THEN '_mention' ELSE '' END
                                        || CASE WHEN alias_id IS NOT NULL THEN '_alias' ELSE '' END
                WHEN 'without_room' THEN 'address_without_room' WHEN 'multi' THEN w_rule ELSE how END AS rule,
       alias_id
FROM d;

-- The texts that did not name one house by themselves: their 依据 and what is unknown, spelled once per text.
CREATE OR REPLACE TEMP TABLE addr_unmatched AS
WITH multi AS (
    SELECT x.tid,
           list(DISTINCT h.compound ORDER BY h.compound) FILTER (WHERE x.by_c) AS compounds,
           list(DISTINCT h.road || h.road_no ORDER BY h.road || h.road_no) FILTER (WHERE x.by_r) AS roads,
           list(h.house_code ORDER BY h.house_code)[1:50] AS cands   -- a steward needs a short list, not every flat
    FROM addr_winners x JOIN addr_houses h USING (hid)
    WHERE x.tid IN (SELECT tid FROM addr_decided WHERE n > 1)
    GROUP BY x.tid
), anchored AS (
    -- texts that named a known place but no house of it: which place, and whether the building exists
    -- (sorted: a list's order is otherwise the order the rows met, which differs from run to run)
    SELECT qa.tid,
           list_sort(list(DISTINCT CASE WHEN qa.kind = 'c' THEN '小区“' || an.anchor || '”'
                                        ELSE '门牌“' || replace(an.anchor, '|', '')
                                             || CASE WHEN an.anchor LIKE '%弄' THEN '' ELSE '号' END || '”' END))
               AS anchors,
           bool_or(ab.aid IS NOT NULL) AS building_exists
    FROM addr_qa qa JOIN addr_anchor an USING (aid) JOIN addr_q q USING (tid)
    LEFT JOIN (SELECT DISTINCT aid, building FROM addr_ha WHERE building IS NOT NULL) ab
           ON ab.aid = qa.aid AND ab.building = q.building
    WHERE qa.tid IN (SELECT tid FROM addr_decided WHERE how = 'no_house')
    GROUP BY qa.tid
)
SELECT tid, cands, first_house,
       address_basis_detail(x) AS basis_detail, address_unknown_kind(x) AS unknown_kind,
       address_unknown_key(x) AS unknown_key
FROM (
    SELECT q.tid, q.problem, q.norm, q.compound_read, q.unknown_units, q.road_zone, q.road_no, q.zone, q.building,
           q.unit, q.floor, q.room, t.raw AS address, d.how, d.n, d.w_rule, d.first_house,
           m.compounds, m.roads, m.cands, a.anchors, a.building_exists,
           al."by" AS alias_by, al."at" AS alias_at, al.target_key AS alias_house
    FROM addr_decided d JOIN addr_q q USING (tid) JOIN addr_texts t USING (tid)
    LEFT JOIN multi m USING (tid)
    LEFT JOIN anchored a USING (tid)
    LEFT JOIN quality.address_aliases al ON al.alias_id = d.alias_id AND d.how = 'alias'
    WHERE d.how <> 'text'
) x;

-- Rows whose text fits several houses: the row's own 社区名称 (assistance) settles it when exactly one of
-- them lies in that community.
-- The texts that fit several houses, for the rows' own hints below.
CREATE OR REPLACE TEMP TABLE addr_multi AS
SELECT t.raw, t.tid, d.room_given FROM addr_texts t JOIN addr_decided d USING (tid) WHERE d.n > 1;

CREATE OR REPLACE TEMP TABLE addr_row_hint AS
SELECT i.template, i.batch_id, i.row_no, count(*) AS n, min(h.house_code) AS house_code,
       bool_and(x.house_roomless) AS all_roomless, any_value(mt.room_given) AS room_given
FROM addr_inputs i
JOIN addr_multi mt ON mt.raw = i.address
JOIN (SELECT name, any_value(code) AS code FROM addr_gaz WHERE level = 'community' AND code IS NOT NULL
      GROUP BY name) g ON g.name = addr_fold(i.community_hint)
JOIN addr_winners x ON x.tid = mt.tid JOIN addr_houses h ON h.hid = x.hid
WHERE i.community_hint IS NOT NULL AND i.stated_house IS NULL AND h.community_code = g.code
GROUP BY ALL;

-- A police station's jurisdiction, learned as a person learns it: the communities its rows already placed
-- without doubt (at least 3 rows and 1 % of them). It settles its rows that still fit several houses when
-- exactly one of them lies there.
-- Every row counts: those decided now by their text's decision, those an incremental build kept
-- (address_delta.sql) by the house they named.
CREATE OR REPLACE TEMP TABLE addr_station AS
WITH by_text AS (
    SELECT police_station, address, stated_house, count(*) AS n
    FROM addr_inputs SEMI JOIN addr_redo USING (template, batch_id, row_no)
    WHERE police_station IS NOT NULL GROUP BY ALL
), named AS (
    SELECT b.police_station, coalesce(b.stated_house, d.house) AS house, b.n
    FROM by_text b
    LEFT JOIN addr_texts t ON t.raw = b.address AND b.stated_house IS NULL
    LEFT JOIN addr_decided d ON d.tid = t.tid
    UNION ALL
    SELECT i.police_station, k.house, 1
    FROM addr_inputs i JOIN addr_kept_placed k USING (template, batch_id, row_no)
    WHERE i.police_station IS NOT NULL
), placed AS (
    SELECT b.police_station, h.community_code, sum(b.n) AS n
    FROM named b
    JOIN addr_houses h ON h.house_code = b.house
    WHERE h.community_code IS NOT NULL
    GROUP BY ALL
)
SELECT police_station, community_code FROM placed
QUALIFY n >= 3 AND n >= 0.01 * sum(n) OVER (PARTITION BY police_station);

CREATE OR REPLACE TEMP TABLE addr_row_station AS
SELECT i.template, i.batch_id, i.row_no, count(*) AS n, min(h.house_code) AS house_code,
       bool_and(x.house_roomless) AS all_roomless, any_value(mt.room_given) AS room_given
FROM addr_inputs i
JOIN addr_multi mt ON mt.raw = i.address
JOIN addr_winners x ON x.tid = mt.tid JOIN addr_houses h ON h.hid = x.hid
JOIN addr_station s ON s.police_station = i.police_station AND s.community_code = h.community_code
WHERE i.police_station IS NOT NULL AND i.stated_house IS NULL
GROUP BY ALL;

-- One row per source row. How it decided (rule, how, the parts read) is stored; the 依据 of the common
-- cases — a house the text names alone, a stated 房屋编码 — is spelled where it is read (address_basis in
-- sql/macros/address.sql), and only the rare ones are written here: at city scale a sentence for each of
-- millions of matched rows would cost more than the matching.
-- The rows decided now (addr_redo): written whole by address_matches_build.sql, or added to the rows an
-- incremental build kept by address_matches_insert.sql.
CREATE OR REPLACE TEMP VIEW addr_match_rows AS
WITH j AS (
    SELECT i.template, i.batch_id, i.row_no, i.record_no, i.address, i.tid, i.stated_house, i.community_hint,
           i.police_station, d.how AS text_how, d.house AS text_house, d.rule AS text_rule, d.alias_id, d.n,
           d.w_rule, d.road_zone, d.road_no, d.zone, d.building, d.unit, d.floor, d.room,
           rh.n = 1 AND (rh.room_given OR rh.all_roomless) AS hint_unique, rh.house_code AS hint_house,
           rs.n = 1 AND (rs.room_given OR rs.all_roomless) AS station_unique, rs.house_code AS station_house
    FROM (SELECT i.*, t.tid
          FROM (SELECT * FROM addr_inputs SEMI JOIN addr_redo USING (template, batch_id, row_no)) i
          LEFT JOIN addr_texts t ON t.raw = i.address AND i.stated_house IS NULL) i
    LEFT JOIN addr_decided d ON d.tid = i.tid
    LEFT JOIN addr_row_hint rh USING (template, batch_id, row_no)
    LEFT JOIN addr_row_station rs USING (template, batch_id, row_no)
), m AS (
    SELECT *,
           CASE WHEN stated_house IS NOT NULL THEN 'stated'
                WHEN text_house IS NULL AND hint_unique THEN 'community_hint'
                WHEN text_house IS NULL AND station_unique THEN 'station'
                ELSE text_how END AS how
    FROM j
)
SELECT m.template, m.batch_id, m.row_no, m.record_no,
       record_key(m.template, b.batch_no, m.row_no) AS record_key,
       record_id(b.batch_no, m.row_no) AS record_id,
       m.address,
       m.road_zone AS road, m.road_no, m.zone AS compound, m.building, m.unit, m.floor, m.room,
       CASE WHEN m.how IN ('stated', 'alias', 'text', 'community_hint', 'station') THEN 'matched'
            WHEN m.how IN ('without_room', 'multi') THEN 'multi_match' ELSE 'no_match' END AS match_status,
       CASE m.how WHEN 'stated' THEN m.stated_house WHEN 'community_hint' THEN m.hint_house
                  WHEN 'station' THEN m.station_house ELSE m.text_house END AS house_code,
       CAST(CASE WHEN m.how IN ('without_room', 'multi') THEN coalesce(u.cands, [u.first_house]) END AS VARCHAR[])
           AS candidates,
       CASE WHEN m.how IN ('stated', 'alias', 'text', 'community_hint', 'station') THEN 1
            ELSE coalesce(m.n, 0) END::INTEGER AS n_candidates,
       CASE m.how WHEN 'stated' THEN 'stated_house' WHEN 'community_hint' THEN m.w_rule || '_record_community'
                  WHEN 'station' THEN m.w_rule || '_police_station' ELSE m.text_rule END AS rule,
       m.how,
       -- 依据 of the rare cases (address_basis spells the rest)
       CASE m.how WHEN 'community_hint'
                  THEN address_decided_by(m.w_rule, m.road_zone, m.road_no, m.zone, m.building, m.unit, m.floor, m.room)
                       || '，有 ' || m.n || ' 处房屋符合，本记录社区名称“' || m.community_hint || '”中只有此一处'
                  WHEN 'station'
                  THEN address_decided_by(m.w_rule, m.road_zone, m.road_no, m.zone, m.building, m.unit, m.floor, m.room)
                       || '，有 ' || m.n || ' 处房屋符合，派出所“' || m.police_station || '”辖区中只有此一处'
                  WHEN 'stated' THEN NULL
                  ELSE u.basis_detail END AS basis_detail,
       -- what is unknown, for the stewards' grouped queue (one decision resolves the group)
       CASE WHEN m.how NOT IN ('stated', 'community_hint', 'station') THEN u.unknown_kind END AS unknown_kind,
       CASE WHEN m.how NOT IN ('stated', 'community_hint', 'station') THEN u.unknown_key END AS unknown_key,
       m.alias_id
FROM m
LEFT JOIN raw.batches b USING (batch_id)
LEFT JOIN addr_unmatched u ON u.tid = m.tid;

