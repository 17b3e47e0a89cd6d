-- Reading free-text addresses, step 1 of 3 (pipelines/address/parse.py runs the steps):
-- ap_in(tid, raw) → ap_t (each input folded and split into head and tail, or why it is no address),
-- ap_tails (the parts of each distinct tail), ap_h (each distinct head, its administrative levels
-- still to strip: address_parse_round.sql). The inputs are distinct texts already (the matcher's
-- addr_texts), so each is read once, without a second DISTINCT.

-- Each step is MATERIALIZED: an inlined CTE would run a step's regular expressions again for every
-- later reference. A value that is no address says why (依据), never fails the run. A bare number right after a road,
-- a village group or 附 ("玉林北路40号", "体育场路824-2", "白塔村5组128号", "5号附1号") is the door
-- number, not a room; digit-by-digit numerals alone ("五零一") are a room only after a building or unit.
CREATE OR REPLACE TEMP TABLE ap_t AS
WITH f AS MATERIALIZED (
    -- strlen (bytes) is free where length (characters) scans: only a long text is counted
    SELECT tid, raw, CASE WHEN strlen(raw) > 200 AND length(raw) > 200 THEN NULL ELSE addr_fold(raw) END AS folded
    FROM ap_in
), n AS MATERIALIZED (
    SELECT tid,
           CASE WHEN raw IS NULL THEN 'empty'
                WHEN folded IS NULL THEN 'too_long'
                WHEN folded = '' THEN CASE WHEN regexp_full_match(raw, '[[:space:]]*') THEN 'empty' ELSE 'no_text' END
                WHEN length(folded) <= 8 AND addr_not_address(folded) THEN 'not_address' END AS problem1,
           CASE WHEN problem1 IS NULL THEN addr_clean(folded) END AS norm
    FROM f
), t AS MATERIALIZED (
    SELECT tid, coalesce(problem1, CASE WHEN length(norm) < 2 THEN 'too_short' END) AS problem, norm,
           CASE WHEN length(norm) >= 2 THEN addr_tail(norm) END AS tail
    FROM n
), h AS (
    SELECT *, left(norm, length(norm) - length(tail)) AS head FROM t
), k AS (
    SELECT *, tail <> '' AND (
               (regexp_full_match(tail, '[0-9]+(-[0-9]+)?号?')
                AND regexp_matches(head, '(?:大道|大街|路|街|巷子|巷|道|条|里|坊|甫|段|村|组|社|队|屯|庄|寨|胡同|附|[东西南北中])[甲乙丙丁特]?$'))
               OR regexp_full_match(tail, '[〇零一二三四五六七八九]{3,4}')) AS keep
    FROM h
), c AS (
    SELECT tid, problem, norm, CASE WHEN keep THEN '' ELSE tail END AS tail, CASE WHEN keep THEN norm ELSE head END AS head
    FROM k
)
SELECT tid, problem, norm, tail,
       CASE WHEN suffix(head, ',') OR suffix(head, '-') THEN rtrim(head, ',-') ELSE head END AS head
FROM c;

-- Tails repeat across thousands of texts ("3栋2单元501"): their parts are read once per spelling.
-- "16-3" after a building or unit is floor 16, flat 3 (two digits or fewer make no room number).
CREATE OR REPLACE TEMP TABLE ap_tails AS
WITH p AS (
    SELECT tail, addr_tail_parts(tail) AS p FROM (SELECT DISTINCT tail FROM ap_t WHERE tail <> '')
), s AS (
    SELECT tail, p,
           p.room <> '' AND length(p.room) <= 2 AND p.f_mark = '' AND p.u_mark = '-'
               AND (p.b_mark IN ('栋', '幢', '座', '#')) AS unit_is_floor
    FROM p
)
SELECT tail,
       addr_cn_num(nullif(p.building, '')) AS building,
       CASE WHEN unit_is_floor THEN NULL ELSE addr_cn_num(nullif(p.unit, '')) END AS unit,
       addr_cn_num(nullif(CASE WHEN unit_is_floor THEN p.unit ELSE p.floor END, '')) AS floor,
       addr_cn_num(nullif(regexp_replace(p.room, '^([东西南北中])户$', '\1'), '')) AS room
FROM s;

CREATE OR REPLACE TEMP TABLE ap_h AS
SELECT row_number() OVER (ORDER BY head) AS hid, head, head AS rest,
       []::VARCHAR[] AS hits, []::VARCHAR[] AS tokens, '' AS soft
FROM (SELECT DISTINCT head FROM ap_t WHERE head IS NOT NULL);
