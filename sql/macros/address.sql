-- Free-text address parsing (contract §1; docs/architecture.md core step 3).
-- Houses' 标准地址 and people's addresses go through the same macros, so whatever
-- these get wrong they get wrong identically on both sides. Each macro runs one
-- regular expression; callers materialise the steps so no regex runs twice per row,
-- and run capture groups only on short pieces (a capturing match is far slower).

-- Full-width to ASCII (fullwidth_fold of _fold.sql), no white space at all, dashes unified,
-- upper case, and 号楼 rewritten to 栋 so "12号" only ever means a road number.
-- Most addresses are already clean (digits, capitals, CJK): they skip the costly part.
CREATE OR REPLACE MACRO addr_fold(s) AS
    replace(
        CASE WHEN NOT regexp_matches(s, '[^0-9A-Z\x{4E00}-\x{9FFF}#()\-]') THEN s
             ELSE upper(regexp_replace(translate(fullwidth_fold(s), '—–―~', '----'),
                                       '[[:space:]\x{00A0}]+', '', 'g'))
        END,
        '号楼', '栋');

-- Chinese numerals 〇..九十九 (and digit-by-digit 一〇一) to digits; digits lose
-- leading zeros; anything else (A, 3-1) is returned unchanged.
CREATE OR REPLACE MACRO addr_cn_num(x) AS
    CASE
        WHEN x IS NULL OR x = '' THEN NULL
        WHEN regexp_full_match(x, '[1-9][0-9]*') THEN x
        WHEN regexp_full_match(x, '[0-9]+') THEN coalesce(nullif(ltrim(x, '0'), ''), '0')
        WHEN regexp_full_match(x, '[〇零一二两三四五六七八九十]+') THEN
            CASE WHEN contains(x, '十') THEN CAST(
                    coalesce(TRY_CAST(translate(split_part(x, '十', 1), '〇零一二两三四五六七八九', '001223456789') AS INTEGER), 1) * 10
                  + coalesce(TRY_CAST(translate(split_part(x, '十', 2), '〇零一二两三四五六七八九', '001223456789') AS INTEGER), 0)
                  AS VARCHAR)
                 ELSE coalesce(nullif(ltrim(translate(x, '〇零一二两三四五六七八九', '001223456789'), '0'), ''), '0')
            END
        ELSE x
    END;

-- A part as written in a housing column (楼栋 "3栋"/"三号楼"/"3", 单元 "2单元", 房号 "501室").
CREATE OR REPLACE MACRO addr_part(x) AS
    addr_cn_num(nullif(regexp_replace(addr_fold(x), '^第|(栋|幢|座|#|号|单元|楼|层|F|室|房)$', '', 'g'), ''));

-- Drop leading province / city / district / street segments. Guarded so a compound
-- is not mistaken for a division: 小区/社区/园区/校区/片区 never end a district, a city
-- needs a province before it or a district after it, 镇/乡 need a district before
-- them, and at least two characters must remain.
CREATE OR REPLACE MACRO addr_strip_admin(s) AS
    list_transform([regexp_replace(s,
            '^(?:中国)?(?:'
            -- province (autonomous regions, municipalities) then optional city, district, street
            || '(?:[^省市区县]{2,7}省|(?:内蒙古|广西|西藏|宁夏|新疆)[^省市区县]{0,8}自治区|北京市|天津市|上海市|重庆市)'
            || '(?:[^省市州盟区县]{2,9}?(?:市|自治州|地区|盟))?'
            || '(?:(?:[^省市州盟区县]{0,8}[^省市州盟区县小社园校片营]区|[^省市州盟区县]{1,9}?(?:县|市|旗))(?:[^街镇乡区县市]{1,9}?(?:镇|乡))?)?'
            || '(?:[^街镇乡区县市]{1,9}?街道(?:办事处)?)?'
            -- city followed by a district
            || '|[^省市州盟区县]{2,9}?(?:市|自治州|地区|盟)(?:[^省市州盟区县]{0,8}[^省市州盟区县小社园校片营]区|[^省市州盟区县]{1,9}?(?:县|市|旗))'
            || '(?:[^街镇乡区县市]{1,9}?(?:街道(?:办事处)?|镇|乡))?'
            -- district, then optional street
            || '|(?:[^省市州盟区县]{0,8}[^省市州盟区县小社园校片营]区|[^省市州盟区县]{1,9}?(?:县|旗))(?:[^街镇乡区县市]{1,9}?(?:街道(?:办事处)?|镇|乡))?'
            -- street alone
            || '|[^街镇乡区县市]{1,9}?街道(?:办事处)?'
            || ')', '')], lambda t: CASE WHEN length(t) >= 2 THEN t ELSE s END)[1];

-- Road and number at the head of a folded address: 玉林北路12号, 人民南路一段3-1号,
-- 玉林北路12号附1号. The road zone keeps any division prefix; matching resolves it.
-- Two steps: a capture-free pass (fast) finds the head, groups are read from the head only.
CREATE OR REPLACE MACRO addr_road_head(s) AS
    regexp_extract(s, '^\D*?(?:大道|路|街|巷|道|胡同|弄|段|里|村|组)[0-9]+(?:-[0-9]+)?号(?:附[0-9]+号)?', 0);

CREATE OR REPLACE MACRO addr_road_parts(head) AS
    regexp_extract(head, '^(\D*?(?:大道|路|街|巷|道|胡同|弄|段|里|村|组))([0-9]+(?:-[0-9]+)?)号(?:附([0-9]+)号)?$',
        ['road_zone', 'road_no', 'road_no_annex']);

-- Building / unit / floor / room at the tail: 3栋2单元5楼501室, 三栋二单元501, 第3幢,
-- 3-2-501, 3栋2-501, 3#501, 5层, 501. The leftmost start that reaches the end is the tail;
-- whatever precedes it is the compound zone.
CREATE OR REPLACE MACRO addr_tail(s) AS
    regexp_extract(s,
        '(?:第?(?:[0-9]+|[A-Z]|[〇零一二两三四五六七八九十]+)(?:栋|幢|座|#|-))?(?:第?(?:[0-9]+|[A-Z]|[〇零一二两三四五六七八九十]+)(?:单元|-))?(?:(?:[0-9]+|[〇零一二两三四五六七八九十]+)(?:楼|层|F))?(?:[0-9][0-9A-Z]*(?:室|号|房)?)?$', 0);

CREATE OR REPLACE MACRO addr_tail_parts(tail) AS
    regexp_extract(tail,
        '^(?:第?([0-9]+|[A-Z]|[〇零一二两三四五六七八九十]+)(?:栋|幢|座|#|-))?(?:第?([0-9]+|[A-Z]|[〇零一二两三四五六七八九十]+)(?:单元|-))?(?:([0-9]+|[〇零一二两三四五六七八九十]+)(?:楼|层|F))?(?:([0-9][0-9A-Z]*)(?:室|号|房)?)?$',
        ['building', 'unit', 'floor', 'room']);

-- A compound's names without its generic ending, for "芳草园" meaning "芳草小区" or
-- "芳草花园" ("桂花园" keeps "桂花": a key is at least two characters).
CREATE OR REPLACE MACRO addr_compound_keys(c) AS
    list_distinct(list_filter(
        [regexp_replace(c, '(小区|苑|园|院)$', ''), regexp_replace(c, '(花园|家园|公寓)$', '')],
        lambda k: length(k) >= 2));

-- A prefix dropped in front of a known compound or road must look like a division,
-- a road number or a road, never part of another name ("东芳草小区" is not "芳草小区").
CREATE OR REPLACE MACRO addr_is_prefix(junk) AS
    junk = '' OR regexp_matches(junk, '(省|市|区|县|旗|街道|办事处|镇|乡|号|路|街|道|巷)$');
