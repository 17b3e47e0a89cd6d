-- Reading free-text addresses, step 3 of 3: what is left of each head after its administrative levels
-- is the place — a road and door number (or a village group and number), a compound, or both in
-- either order — and ap_out joins everything back to the inputs.

-- The words the regex saw as a district, street or community, named by the units of addr_gaz they
-- end with (杭州滨江区 → 滨江区): a district or street no unit of core.grids bears is elsewhere.
CREATE OR REPLACE TEMP TABLE ap_tok AS
WITH t AS (
    SELECT hid, split_part(tok, ':', 1) AS level, split_part(tok, ':', 2) AS word, pos
    FROM (SELECT hid, unnest(tokens) AS tok, generate_subscripts(tokens, 1) AS pos FROM ap_h)
), s AS (
    SELECT t.hid, t.level, t.word, g.code, g.len
    FROM t JOIN addr_gaz g ON g.level = t.level AND g.len <= length(t.word) AND g.name = right(t.word, g.len)
    WHERE g.len = length(t.word) OR NOT g.is_short OR t.level <> 'community'
)
SELECT t.hid, t.level, t.word, min(t.pos) AS pos, arg_max(s.code, s.len) AS code, count(s.len) > 0 AS known
FROM t LEFT JOIN s USING (hid, level, word)
GROUP BY t.hid, t.level, t.word;

CREATE OR REPLACE TEMP TABLE ap_p AS
WITH seg AS (
    SELECT hid, addr_segments(rest) AS s FROM ap_h
), r AS MATERIALIZED (
    SELECT hid, s, list_transform([addr_road_parts(s)], lambda p: struct_pack(
               pre := p.pre || p.pre2, road := p.road || p.road2, no := p.no, no_mark := p.no_mark,
               annex := p.annex, sub := p.sub, lane := p.lane, post := p.post, post2 := p.post2))[1] AS rp
    FROM seg
), c AS MATERIALIZED (
    SELECT hid, s, rp, CASE WHEN rp.road = '' THEN addr_carrier_parts(s) END AS cp FROM r
), b AS MATERIALIZED (
    SELECT *, CASE WHEN rp.road = '' AND coalesce(cp.road, '') = '' THEN addr_bare_road_parts(s) END AS bp FROM c
), pick AS (
    SELECT hid, s,
           CASE WHEN rp.road <> '' THEN 'road' WHEN cp.road <> '' THEN 'carrier'
                WHEN bp.road <> '' AND (bp.post = '' OR NOT addr_generic(bp.post)) THEN 'bare'
                -- a village group without a number (新桥村11组) names a group, no compound
                WHEN regexp_matches(s, '[^|](?:组|社|队)$') THEN 'group' END AS how,
           rp, cp, bp
    FROM b
), parts AS (
    SELECT hid, s, how,
           CASE how WHEN 'road' THEN rp.road WHEN 'carrier' THEN cp.road WHEN 'bare' THEN bp.road
                    WHEN 'group' THEN regexp_extract(s, '[^|]*$') END AS carrier,
           CASE how WHEN 'road' THEN
                    CASE WHEN rp.no LIKE '%号' THEN addr_cn_num(rtrim(rp.no, '号')) ELSE rp.no END
                    || CASE WHEN rp.no_mark LIKE '弄%' THEN '弄' || coalesce(nullif(rp.lane, '') || '支弄', '') ELSE '' END
                    || coalesce('附' || nullif(rp.annex, ''), '') || coalesce('之' || addr_cn_num(nullif(rp.sub, '')), '')
                WHEN 'carrier' THEN cp.no || coalesce('附' || nullif(cp.annex, ''), '') END AS road_no,
           CASE how WHEN 'road' THEN rp.pre WHEN 'carrier' THEN cp.pre WHEN 'bare' THEN bp.pre ELSE '' END AS pre,
           CASE how WHEN 'road' THEN rp.post || rp.post2 WHEN 'carrier' THEN cp.post || cp.post2
                    WHEN 'bare' THEN bp.post WHEN 'group' THEN '' ELSE s END AS post
    FROM pick
), z AS (
    -- the compound: what follows the road and number, else what precedes them; community levels
    -- dropped ("芳草社区芳草小区"), and a generic word alone is no compound. Before a road, a village
    -- (小章村建设街5号), another road (龙津西路逢源大街18号) or an area (科技园南区科苑南路) is no
    -- compound either, nor anything before a village group's number (白塔村五组128号).
    SELECT *, array_to_string(list_filter(string_split(post, '|'), lambda x: x <> '' AND NOT addr_is_admin_segment(x)), '') AS c_post,
              CASE WHEN how IN ('carrier', 'group') OR regexp_matches(pre, '(?:路|街|巷子?|道|条|坊|胡同|段|[^小]区)\|*$') THEN ''
                   ELSE array_to_string(list_filter(string_split(pre, '|'),
                            lambda x: x <> '' AND NOT addr_is_admin_segment(x) AND NOT regexp_matches(x, '[^新]村$')), '')
              END AS c_pre
    FROM parts
)
SELECT hid, carrier,
       CASE WHEN how IN ('carrier', 'group') THEN NULL ELSE carrier END AS road,
       nullif(road_no, '') AS road_no,
       CASE WHEN NOT addr_generic(c_post) THEN c_post WHEN NOT addr_generic(c_pre) THEN c_pre END AS compound,
       -- the compound begins the place: a short form stripped just before may be its name's own start
       how IS NULL OR how = 'bare' OR (addr_generic(c_post) AND NOT addr_generic(c_pre)) AS at_start,
       -- what the matcher looks compounds up in: without a door number a road may be a compound's own
       -- name (梧桐巷小区, 清巷天花园), so the whole place is kept, its known suffix found there
       CASE WHEN how = 'bare' THEN nullif(array_to_string(list_filter(string_split(s, '|'),
                                          lambda x: x <> '' AND NOT addr_is_admin_segment(x)), ''), '') END AS place
FROM z;

CREATE OR REPLACE TEMP TABLE ap_out AS
SELECT t.tid, t.norm, t.problem,
       p.road, p.road_no, p.compound, tl.building, tl.unit, tl.floor, tl.room, p.carrier,
       CASE WHEN p.at_start AND h.soft <> '' THEN h.soft ELSE '' END || coalesce(p.place, p.compound) AS match_zone,
       CASE WHEN p.at_start AND coalesce(p.place, p.compound) IS NOT NULL THEN length(h.soft) ELSE 0 END AS soft_len,
       list_distinct(list_concat(h.hits, k.token_hits)) AS hits, k.unknown_units
FROM ap_t t
LEFT JOIN ap_tails tl ON tl.tail = t.tail AND t.tail <> ''
LEFT JOIN ap_h h ON h.head = t.head
LEFT JOIN ap_p p ON p.hid = h.hid
-- in the order the address names them (a list's order is otherwise the order the rows met)
LEFT JOIN (SELECT hid, list(level || ':' || code ORDER BY pos) FILTER (WHERE code IS NOT NULL) AS token_hits,
                  list(word ORDER BY pos) FILTER (WHERE NOT known AND level <> 'community') AS unknown_units
           FROM ap_tok GROUP BY hid) k ON k.hid = h.hid;
