-- Reading free-text addresses, step 2 (run until nothing changes, at most a few rounds): strip the
-- administrative levels at the start of each head's rest — first those the regex recognises
-- (addr_admin_parts: 四川省成都市武侯区玉林街道芳草社区), then the longest name of addr_gaz
-- (address_gazetteer.sql) it begins with. A short form (玉林, 芳草) counts only when what follows
-- cannot continue it: not a road (玉林北路), a compound word (芳草小区), a number (芳草3栋, 玉林北路十二号) or nothing.
-- hits collects level:code of the units named; tokens the district/street words the regex saw; soft the
-- short forms stripped since the last full name: a compound's name may begin with one (西御河芳华苑 in
-- 西御河街道), so the matcher gets them back (ap_out.soft_len) and prefers a compound named in full.

CREATE OR REPLACE TEMP TABLE ap_r AS
WITH x AS (
    SELECT hid, rest, a,
           [a.province, a.city, coalesce(nullif(a.district, ''), a.district2), a.devzone, a.street, a.community] AS lv
    FROM (SELECT hid, rest, addr_admin_parts(rest) AS a FROM ap_h WHERE rest <> '')
), y AS (
    SELECT *, array_to_string(lv, '') AS pfx, list_filter(lv, lambda l: l <> '') AS nz FROM x
), z AS (
    -- the last level must not be the start of a road or a market (古镇路, 开发区路, 北京西路, 荷花池市场), and a
    -- province's short name alone is a level only before a district or a numbered road (上海城一期 is a
    -- compound; 上海宝山区…, 北京东四六条23号 are not)
    -- — but a district before 南大街 / 东大道 is a district: a direction and 大街 or 大道 make a whole road name
    SELECT *, pfx <> '' AND ((regexp_matches(substr(rest, length(pfx) + 1), '^[东西南北中]?(?:[路街巷道]|大道|大街)')
                              AND NOT (regexp_matches(nz[-1], '[区县]$')
                                       AND regexp_matches(substr(rest, length(pfx) + 1), '^[东西南北中]大[街道]')))
                             OR (nz[-1] LIKE '%市' AND substr(rest, length(pfx) + 1) LIKE '场%')
                             OR (len(nz) = 1 AND lv[1] <> '' AND NOT regexp_matches(lv[1], '(?:省|市|区)$')
                                 AND NOT regexp_matches(substr(rest, length(pfx) + 1),
                                                        '^[^0-9]{2,8}?(?:路|街|巷|道|条|胡同)[0-9]'))) AS back
    FROM y
)
SELECT hid,
       CASE WHEN back THEN left(pfx, length(pfx) - length(nz[-1])) ELSE pfx END AS pfx,
       list_filter([CASE WHEN lv[3] <> '' AND NOT (back AND nz[-1] = lv[3]) THEN 'district:' || lv[3] END,
                    CASE WHEN lv[5] <> '' AND NOT (back AND nz[-1] = lv[5]) THEN 'street:' || lv[5] END,
                    CASE WHEN lv[6] <> '' AND NOT (back AND nz[-1] = lv[6]) THEN 'community:' || lv[6] END],
                   lambda t: t IS NOT NULL) AS toks
FROM z;

UPDATE ap_h SET rest = substr(ap_h.rest, length(r.pfx) + 1), tokens = list_concat(ap_h.tokens, r.toks), soft = ''
FROM ap_r r WHERE r.hid = ap_h.hid AND r.pfx <> '';

CREATE OR REPLACE TEMP TABLE ap_g AS
WITH c AS (
    SELECT h.hid, g.level, g.code, g.is_short, g.len, substr(h.rest, g.len + 1) AS after
    FROM ap_h h
    JOIN (SELECT DISTINCT len FROM addr_gaz) l ON l.len <= length(h.rest)
    JOIN addr_gaz g ON g.len = l.len AND g.name = left(h.rest, l.len)
), ok AS (
    SELECT * FROM c
    WHERE NOT is_short OR NOT regexp_matches(after,
        '^(?:$|[0-9A-Z]|[〇零一二两三四五六七八九十百]+(?:号|栋|幢|弄)|[东西南北中]?(?:路|街|巷|道|大道|大街|胡同|里|坊)|小区|花园|家园|苑|园|公寓|新村|村|大厦|广场|社区|街道|区|县|市|镇|乡|号|栋|幢|期'
        -- nor a road named after it (西御河横街5号 in 西御河街道, 玉林北路 in 玉林街道)
        || '|[^0-9|]{0,4}?(?:大道|大街|路|街|巷|道|胡同|条|里|坊)[0-9])')
)
-- the longest name; of names as long, the same one whichever texts are read with it (a full name before a short
-- form, then by level and code): an incremental build reads only a batch's texts (pipelines/address/__init__.py)
SELECT hid, max(len) AS len, arg_max(level || ':' || coalesce(code, ''), (len, NOT is_short, level, coalesce(code, ''))) AS hit,
       arg_max(is_short, (len, NOT is_short, level, coalesce(code, ''))) AS is_short
FROM ok GROUP BY hid;

UPDATE ap_h SET rest = substr(ap_h.rest, g.len + 1), hits = list_append(ap_h.hits, g.hit),
                soft = CASE WHEN g.is_short THEN ap_h.soft || left(ap_h.rest, g.len) ELSE '' END
FROM ap_g g WHERE g.hid = ap_h.hid;

SET VARIABLE ap_changed = (SELECT (SELECT count(*) FROM ap_r WHERE pfx <> '') + (SELECT count(*) FROM ap_g));
