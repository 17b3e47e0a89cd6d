-- Free-text address parsing (contract §1 and §3; docs/architecture.md core step 3).
-- Houses' 标准地址 and people's addresses go through the same macros (sql/core/address_parse.sql
-- runs them), so whatever these get wrong they get wrong identically on both sides.
-- An address is read the way a public-security 标准地址 is built:
--   省 市 区县 街道/镇 社区/村 (组) 街路巷 门牌号 (附号, 弄, 支弄) 小区/院落 (期, 区) 楼栋 单元 楼层 户室
-- Each macro runs one or two regular expressions; address_parse.sql runs the cheap ones on every
-- distinct text and the capturing ones only on the few distinct heads and tails.

-- Full-width to ASCII, brackets and dashes unified, upper case, no white space — except that
-- white space between two letters or digits becomes ',' ("in99 3楼" is not "IN993楼") — and
-- every character that is neither a letter, digit, CJK ideograph nor one of # - ( ) dropped
-- (emoji, punctuation, quotes). Most addresses are already clean (digits, capitals, CJK): they
-- skip the costly part.
CREATE OR REPLACE MACRO addr_fold(s) AS
    CASE WHEN NOT regexp_matches(s, '[^0-9A-Z\x{4E00}-\x{9FFF}#()\-]') THEN s
         ELSE regexp_replace(regexp_replace(
                  upper(translate(replace(fullwidth_fold(s), ',', ''), '—–―~〔〕【】［］《》〈〉「」/', '----()()()()()()-')),
                  '([0-9A-Z])[[:space:]\x{00A0}]+([0-9A-Z])', '\1,\2', 'g'),
              '[^0-9A-Z\x{4E00}-\x{9FFF}\x{3400}-\x{4DBF}#()\-,]+', '', 'g')
    END;

-- What clerks and couriers add that is no part of an address: phone and ID numbers, "(近XX路)",
-- "(前台代收)", and at the end 电联 / 门口丰巢快递柜 / XX附近 / 与XX路交叉口 / 东100米.
-- The remaining brackets are dropped, their content kept ("(四期)", "(玉林北路12号)").
CREATE OR REPLACE MACRO addr_denoise(s) AS
    CASE WHEN NOT regexp_matches(s, '[()]|1[3-9][0-9]{9}|[0-9]{15}|0[0-9]{2,3}-[0-9]{7,8}|电|话|门|快递|丰巢|驿站|代收|前台|附近|旁|对面|隔壁|楼下|交叉|路口|米$|收件|放|物业|周边|联系|不在|先生|女士|小姐|师傅')
         THEN s
         ELSE regexp_replace(regexp_replace(regexp_replace(regexp_replace(s,
                  '(?:(?:公民)?身份证(?:号码|号)?|证件号码?)?[0-9]{17}[0-9X]|(?:(?:公民)?身份证(?:号码|号)?|证件号码?)[0-9]{15}'
                  || '|1[3-9][0-9]{9}|0[0-9]{2,3}-[0-9]{7,8}', '', 'g'),
                  '\((?:近|靠近|临|在|距|位于)[^()]*\)|\([^()]*(?:附近|旁边|旁|对面|交叉口|路口|代收|前台|电联|电话|门卫|快递|驿站|物业)[^()]*\)'
                  -- a last bracket that names no place ("(无人接听)", "(周末送)"); "(芳草小区)" is kept
                  || '|\((?:[^()0-9]*?[^()0-9小区花园苑大厦广场村期栋单元室号路街巷庭居府城寓心楼院里坊弄道])?\)$', '', 'g'),
                  '(?:与[^与]{1,12}交叉口|交叉口|路口|[东西南北]侧?[0-9]+米|[^0-9号栋幢座室楼层]{0,12}(?:附近|旁边|旁|对面|隔壁|周边)'
                  || '|收件人[^0-9]*|[^0-9]{0,4}不在家?[^0-9]*|放[^0-9]{0,6}|[^0-9]{1,3}(?:先生|女士|小姐|师傅)'
                  || '|楼下|门口|门卫室?|前台|物业|快递柜|快递点|快递|丰巢|菜鸟驿站|驿站|代收点?|收件|电联|请?电话联系|打电话|电话|联系)+$', ''),
              '[()]|^[,\-]+|[,\-]+$', '', 'g')
    END;

-- Rewrites that make a trailing "N号" mean what it means where it stands (号楼 is always 栋):
--   after a lane, a compound, a 新村 or a 里 ("1200弄5号601室", "曹杨一村12号201室", "康乐里3号501室")
--   it is the building;
--   after a road, 附 or a floor ("XX路100号501室", "6楼11号") it stays a door or room number.
-- And a building/unit/room written before the place ("3栋2单元501室 芳草小区", "201房 六运三街2号") moves
-- behind it; a door's sub-number written before its 号 (89之1号, 89之一) is 89号之1; a door and a flat written
-- with a dash after a road (东二巷4-402: three digits or more make a flat, 824-2 stays a door) are 4号402.
CREATE OR REPLACE MACRO addr_rewrite(s) AS
    CASE WHEN NOT regexp_matches(s, '号|之|^第?(?:[0-9]+|[A-Z][0-9]*|[〇零一二两三四五六七八九十]+)(?:栋|幢|座)'
                                 || '|^[0-9]+[A-Z]?(?:室|房|户)[^0-9]|(?:路|街|巷|道|条|里|坊)[0-9]+-[0-9]{3,4}$') THEN s
         ELSE regexp_replace(regexp_replace(regexp_replace(replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(s,
                  '^([0-9]+[A-Z]?(?:室|房|户))([^0-9].+)$', '\2\1'),
                  '([^0-9])([0-9]+)之([0-9]+|[一二三四五六七八九十]+)号([0-9])', '\1\2号之\3,\4'),
                  '([^0-9])([0-9]+)之([0-9]+|[一二三四五六七八九十]+)号?', '\1\2号之\3'),
                  '(路|街|巷|道|条|里|坊)([0-9]+)-([0-9]{3,4})$', '\1\2号\3'),
                  '号楼', '栋'),
                  '^(第?(?:[0-9]+|[A-Z][0-9]*|[〇零一二两三四五六七八九十]+)(?:栋|幢|座)(?:(?:[0-9]+|[〇零一二两三四五六七八九十]+)(?:单元|门))?(?:[0-9]+(?:楼|层|F))?(?:[0-9]+[A-Z]?(?:室|号|房|户)?)?)([^0-9].+)$',
                  '\2\1'),
                  '([^0-9路街巷道条甫楼层元门F附甲乙丙丁特\-])([0-9]+)号([0-9]+[A-Z]?(?:室|房|号|户)?)$', '\1\2栋\3'),
                  '弄([0-9]+)号$', '弄\1栋')
    END;

-- Noise dropped and trailing numbers rewritten (addr_denoise, addr_rewrite), only for the few texts one
-- cheap test says need it: the distinct texts of a city are millions, mostly clean.
CREATE OR REPLACE MACRO addr_clean(s) AS
    CASE WHEN regexp_matches(s, '[()]|1[3-9][0-9]{9}|[0-9]{15}|-[0-9]{7,8}|电|话|门|快递|丰巢|驿站|代收|前台|附近|旁|对面|隔壁|楼下|交叉|路口|米$|收件|放|物业|周边|联系|不在|先生|女士|小姐|师傅'
                             || '|号楼|[0-9]号[0-9]+[A-Z]?(?:室|房|号|户)?$|弄[0-9]+号$|^第?(?:[0-9]+|[A-Z][0-9]*|[〇零一二两三四五六七八九十]+)(?:栋|幢|座)'
                             || '|[0-9]之|^[0-9]+[A-Z]?(?:室|房|户)[^0-9]|(?:路|街|巷|道|条|里|坊)[0-9]+-[0-9]{3,4}$')
         THEN addr_rewrite(addr_denoise(s)) ELSE s END;

-- Chinese numerals 〇..九十九 (and digit-by-digit 一〇一, 五零一) to digits; digits lose
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
    addr_cn_num(nullif(regexp_replace(addr_fold(x), '^第|(号楼|栋|幢|座|#|号|单元|门|楼|层|F|室|房|户)$', '', 'g'), ''));

-- Building / unit / floor / room at the end: 3栋2单元5楼501室, 三栋二单元五零一, 第3幢, A座1201,
-- 3-2-501, 3栋2-501, 3#501, 2门501 (a Beijing unit), 8栋B座 (a wing), 5层, 16-3 (a Chongqing floor-flat), 501,
-- 8楼东户 (the flat on the east of floor 8, as Henan and Hebei write it: room 东).
-- The leftmost start that reaches the end is the tail; whatever precedes it is the head.
CREATE OR REPLACE MACRO addr_tail(s) AS
    regexp_extract(s,
        '(?:第?(?:[东西南北]?[0-9]+|[A-Z][0-9]*|[〇零一二两三四五六七八九十]+)(?:栋|幢|座|#|-))?(?:第?(?:[0-9]+|[A-Z]|[〇零一二两三四五六七八九十]+)(?:单元|门|座|-))?(?:(?:[0-9]+|[〇零一二两三四五六七八九十]+)(?:楼|层|F|-))?(?:(?:[0-9][0-9A-Z]*|[A-Z][0-9]+|[〇零一二三四五六七八九]{3,4})(?:室|号|房|户)?|[东西南北中]户)?$', 0);

CREATE OR REPLACE MACRO addr_tail_parts(tail) AS
    regexp_extract(tail,
        '^(?:第?([东西南北]?[0-9]+|[A-Z][0-9]*|[〇零一二两三四五六七八九十]+)(栋|幢|座|#|-))?(?:第?([0-9]+|[A-Z]|[〇零一二两三四五六七八九十]+)(单元|门|座|-))?(?:([0-9]+|[〇零一二两三四五六七八九十]+)(楼|层|F|-))?(?:([0-9][0-9A-Z]*|[A-Z][0-9]+|[〇零一二三四五六七八九]{3,4}|[东西南北中](?:户))(室|号|房|户)?)?$',
        ['building', 'b_mark', 'unit', 'u_mark', 'floor', 'f_mark', 'room', 'r_mark']);

-- The administrative levels before the place, as the regex sees them (the names of core.grids,
-- with their short forms, are stripped as well: pipelines/address/parse.py). Guards: 小区/社区/
-- 园区/校区/片区/营区 and a zone of a compound (四区, B区, 3期区, 龙泽苑东区) never end a district
-- unless it follows its city (郑州市二七区, 青岛市市北区); a direction ends one only after a short
-- name (渝中区, 江北区); a short city name stays with its district (杭州滨江区), and the district is
-- recognised by a known district name it ends with.
CREATE OR REPLACE MACRO addr_admin_parts(s) AS
    regexp_extract(s,
        '^(?:中国)?'
        || '((?:北京|天津|上海|重庆)市?|(?:河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|广东|海南|四川|贵州|云南|陕西|甘肃|青海|台湾)省?'
        || '|内蒙古(?:自治区)?|广西(?:壮族自治区)?|西藏(?:自治区)?|宁夏(?:回族自治区)?|新疆(?:维吾尔自治区)?|香港(?:特别行政区)?|澳门(?:特别行政区)?)?'
        || '(?:([^省市区县镇乡0-9]{1,9}?(?:市|自治州|地区|盟))(市[东西南北中]区|[^省市区县镇乡街0-9]{1,8}?(?:区|自治县|县|自治旗|旗)|[^省市区县镇乡街社0-9]{1,5}?市)?'
        || '|(市[东西南北中]区|[^省市区县镇乡0-9]{0,8}?新区|[^省市区县镇乡0-9]{0,8}?[^省市区县小社园校片营东西南北中一二三四五六七八九十期0-9A-Z]区'
        || '|[^省市区县镇乡0-9园苑城庭府居湾寓厦场里坊村]{1,2}[东西南北中]区'
        || '|[^省市区县镇乡0-9]{1,9}?(?:自治县|县|自治旗|旗)|[^省市区县镇乡街社0-9]{1,5}?市))?'
        || '([^省市区县镇乡0-9]{0,10}?(?:经济技术开发区|经济开发区|高新技术产业开发区|新技术产业开发区|新技术开发区|高新区|开发区|工业园区|产业园区|保税区))?'
        || '([^省市区县0-9]{1,9}?街道(?:办事处)?|[^省市区县镇乡街道路巷0-9]{1,7}?(?:镇|乡))?'
        || '([^省市区县镇乡0-9]{1,10}?(?:社区(?:居委会|居民委员会)?|居委会|居民委员会|村委会|村民委员会))?',
        ['province', 'city', 'district', 'district2', 'devzone', 'street', 'community']);

-- The place after the administrative levels, cut into segments: '|' after every word that cannot be
-- inside a road name (区, 镇, 村, 苑, 园, 期, 小区, 花园, 大厦 …) unless a road word or a digit follows it
-- (开发区路, 花园路, 光华村街, 中关村南大街, 白塔村5组 keep theirs).
CREATE OR REPLACE MACRO addr_segment_pass(s) AS
    regexp_replace(s,
        '(小区|社区|园区|片区|校区|新区|开发区|街道|办事处|居委会|村委会|委员会|花园|家园|公寓|大厦|广场|中心|大楼|[区镇乡苑园村期])'
        || '([^路街巷道大弄里坊条胡0-9东西南北中|]|[东西南北中][^路街巷道大|]|[东西南北中]$)',
        '\1|\2', 'g');

-- Two passes: the first consumes the character after each boundary (科技园南区科苑南路 needs both).
CREATE OR REPLACE MACRO addr_segments(s) AS addr_segment_pass(addr_segment_pass(s));

-- Road and door number anywhere in the segmented place; the road starts right after another road
-- (龙津西路逢源大街18号 → 逢源大街, but 大塘街五巷 stays whole: 五巷 is no name, and 新街口外大街 too: 街口 is
-- a place, no road) or at a segment start,
-- keeps its section (人民南路四段, 江南大道中) and may be numbered (2号大街, 兴园3路). A number needs
-- no 号 (体育场路824) when no digit follows; 附1号, 之一, 院, 弄, 支弄 stay with it.
CREATE OR REPLACE MACRO addr_road_parts(s) AS
    regexp_extract(s,
        '^(?:(.*(?:[路街道条]|巷子?))((?:[^|0-9口一二三四五六七八九十百零〇两东西南北中]|[^|0-9口][^|0-9]*?[^|0-9一二三四五六七八九十百零〇两东西南北中])[^|0-9]*?(?:大道|大街|路|街|巷子|巷|胡同|条|道|里|坊)'
        ||     '(?:[东西南北中]?[一二三四五六七八九十]*段|[东西南北中])?)'
        || '|(.*\||)((?:[^|0-9]*?[^|0-9大](?:大道|大街|路|街|巷子|巷|胡同|条|道|里|坊)|[^|0-9]*[0-9]+号?(?:大道|大街|路|街))'
        ||     '(?:[东西南北中]?[一二三四五六七八九十]*段|[东西南北中])?))'
        || '([甲乙丙丁特]?[0-9]+(?:-[0-9]+)?|[一二三四五六七八九十百零〇两]+号)'
        || '(?:(号(?:附([0-9]+)号?|之([0-9一二三四五六七八九十]+))?院?|弄(?:([0-9]+)支弄)?)(.*)|((?:[^0-9-].*)?))$',
        ['pre', 'road', 'pre2', 'road2', 'no', 'no_mark', 'annex', 'sub', 'lane', 'post', 'post2']);

-- Where no road carries the number, a village, group or 屯 does (白塔村5组128号, 那汉屯32号); the
-- number needs its 号 there unless it ends the address (新桥村11组 names a group, not a house).
CREATE OR REPLACE MACRO addr_carrier_parts(s) AS
    regexp_extract(s,
        '^(.*\||)([^|]*?[^|](?:村|组|社|队|屯|庄|寨))([0-9]+(?:-[0-9]+)?)(?:(号(?:附([0-9]+)号?)?)(.*)|())$',
        ['pre', 'road', 'no', 'no_mark', 'annex', 'post', 'post2']);

-- A road without a number (四新北路南湖一村, 迎宾路华南碧桂园…, 东风路): the first one at a segment start.
CREATE OR REPLACE MACRO addr_bare_road_parts(s) AS
    regexp_extract(s,
        '^((?:[^|]*\|)*?)([^|0-9]*?[^|0-9大](?:大道|大街|路|街|巷子|巷|胡同|条|道|坊)(?:[东西南北中]?[一二三四五六七八九十]*段)?)(.*)$',
        ['pre', 'road', 'post']);

-- Words that name no place by themselves: what is left of a compound when its name was the road's
-- ("幸福里" + "小区" is the compound 幸福里小区, not 幸福里 and a compound called 小区).
CREATE OR REPLACE MACRO addr_generic(x) AS
    regexp_full_match(x, '\|*(?:小区|花园|家园|公寓|新村|大厦|广场|苑|园|院|村|社区|大院|宿舍|公馆|中心|大楼)?\|*');

-- A segment that is a community or street level, dropped from the compound
-- ("玉林北路12号芳草社区芳草小区" → 芳草小区). A 区 there is a compound's zone, not a district.
CREATE OR REPLACE MACRO addr_is_admin_segment(x) AS
    regexp_matches(x, '(?:社区|街道|办事处|居委会|村委会|委员会|镇|乡)$');

-- A compound's name in one spelling: brackets dropped and a trailing phase or zone in digits
-- ("金域蓝湾(四期)" = "金域蓝湾四期" = "金域蓝湾4期"; "望京西园四区" = "望京西园4区").
CREATE OR REPLACE MACRO addr_compound_norm(c) AS
    list_transform([regexp_extract(replace(replace(c, '(', ''), ')', ''),
                                   '^(.*?)([〇零一二两三四五六七八九十]+|[0-9]+)?(期|区)?$', ['base', 'n', 'kind'])],
        lambda p: CASE WHEN p.n <> '' AND p.kind <> '' AND length(p.base) >= 2
                       THEN p.base || addr_cn_num(p.n) || p.kind
                       ELSE replace(replace(c, '(', ''), ')', '') END)[1];

-- The compound without its phase ("金域蓝湾4期" → "金域蓝湾"), for an address that names no phase.
CREATE OR REPLACE MACRO addr_compound_base(c) AS
    CASE WHEN regexp_matches(c, '[0-9]+期$') AND length(regexp_replace(c, '[0-9]+期$', '')) >= 2
         THEN regexp_replace(c, '[0-9]+期$', '') END;

-- A compound's names without its generic ending, for "芳草园" meaning "芳草小区" or
-- "芳草花园" ("桂花园" keeps "桂花": a key is at least two characters).
CREATE OR REPLACE MACRO addr_compound_keys(c) AS
    list_distinct(list_filter(
        [regexp_replace(c, '(小区|苑|园|院)$', ''), regexp_replace(c, '(花园|家园|公寓)$', '')],
        lambda k: length(k) >= 2));

-- A prefix dropped in front of a known compound or road must look like a division, a community,
-- a road number or a road, never part of another name ("东芳草小区" is not "芳草小区").
CREATE OR REPLACE MACRO addr_is_prefix(junk) AS
    junk = '' OR regexp_matches(junk, '(省|市|区|县|旗|街道|办事处|镇|乡|社区|居委会|村委会|号|院|弄|路|街|道|巷|\|)$');

-- Values that are not an address at all: a clerk's "same as above", "unknown", "none".
CREATE OR REPLACE MACRO addr_not_address(s) AS
    regexp_full_match(s, '(?:同上|同左|同户主|同前|同本人|同户籍地?|不详|不清楚|未知|无|暂无|没有|空|无固定住所|无房|待定|待补|待核实|略|见上|NULL|NONE|N/A|NA|-+|\.+|0+|/+|\?+|？+)');

-- ---------------------------------------------------------------------------------------------------
-- 依据 (contract §3): why an address matched a house or why not, in words a steward reads.
-- core.address_matches stores how each row decided; the sentence of a common case is spelled here,
-- where it is read (the extract, the queue, explain), the rare ones when the table is built.

-- The parts that decided a match, from its rule: 小区“芳草小区”、门牌“玉林北路12号”、3栋、2单元、501室.
CREATE OR REPLACE MACRO address_decided_by(rule, road, road_no, compound, building, unit, floor, room) AS
    array_to_string(list_filter([
        CASE WHEN list_contains(string_split(rule, '_'), 'compound') THEN '小区“' || compound || '”' END,
        CASE WHEN list_contains(string_split(rule, '_'), 'road')
             THEN '门牌“' || road || road_no || CASE WHEN road_no LIKE '%弄' THEN '' ELSE '号' END || '”' END,
        CASE WHEN list_contains(string_split(rule, '_'), 'building') THEN building || '栋' END,
        CASE WHEN list_contains(string_split(rule, '_'), 'unit') THEN unit || '单元' END,
        CASE WHEN list_contains(string_split(rule, '_'), 'floor') THEN floor || '楼' END,
        CASE WHEN list_contains(string_split(rule, '_'), 'room') THEN room || '室' END], lambda x: x IS NOT NULL), '、');

-- The place a text named, as a steward reads it: a compound as read, a road with its door number.
CREATE OR REPLACE MACRO address_place_label(zone, road, road_no) AS
    concat_ws('，', '小区“' || zone || '”',
              '门牌“' || road || road_no || CASE WHEN road_no LIKE '%弄' THEN '' ELSE '号' END || '”');

-- The 依据 of a text that named no one house, written when core.address_matches is built (``m``: a row
-- of addr_unmatched's inner query). A row settled by its own 社区名称 or 派出所 is spelled there too.
CREATE OR REPLACE MACRO address_basis_detail(m) AS
    CASE m.how
        WHEN 'alias' THEN '数据管理员 ' || m.alias_by || ' 于 ' || strftime(m.alias_at, '%Y-%m-%d')
                          || ' 认定此地址写法即房屋 ' || m.alias_house
        WHEN 'problem' THEN CASE m.problem
             WHEN 'too_long' THEN '地址过长（' || length(m.address) || '字），不像一个地址，请核对'
             WHEN 'no_text' THEN '地址只有符号，没有文字'
             WHEN 'not_address' THEN '“' || trim(m.address) || '”不是地址，请填写实际居住地址'
             WHEN 'too_short' THEN '地址过短（“' || trim(m.address) || '”），无法识别'
             ELSE '地址为空' END
        WHEN 'outside' THEN '地址中的“' || array_to_string(m.unknown_units, '、') || '”不是本辖区网格表中的区县或街道'
        WHEN 'without_room' THEN address_decided_by(m.w_rule, m.road_zone, m.road_no, m.zone, m.building, m.unit,
                                                    m.floor, m.room)
             || '，只有1处房屋符合，但地址未写户室，可能是实有房屋中还没有的户'
        WHEN 'multi' THEN address_decided_by(m.w_rule, m.road_zone, m.road_no, m.zone, m.building, m.unit, m.floor,
                                             m.room)
             || '，有 ' || m.n || ' 处房屋都符合'
             || CASE WHEN len(m.compounds) > 1 THEN '（小区名可指 ' || array_to_string(m.compounds, '、') || '）' ELSE '' END
             || CASE WHEN m.building IS NULL OR m.unit IS NULL OR m.room IS NULL
                     THEN '，地址未写' || concat_ws('、', CASE WHEN m.building IS NULL THEN '楼栋' END,
                                                 CASE WHEN m.unit IS NULL THEN '单元' END,
                                                 CASE WHEN m.room IS NULL THEN '户室' END) ELSE '' END
             || '，无法确定'
        WHEN 'no_house' THEN CASE
             WHEN m.building IS NOT NULL AND NOT coalesce(m.building_exists, false)
             THEN array_to_string(m.anchors, '、') || '没有' || m.building || '栋'
             ELSE array_to_string(m.anchors, '、') || '中没有'
                  || concat_ws('', m.building || '栋', m.unit || '单元', m.floor || '楼', m.room || '室') || '这一户' END
        ELSE CASE
             WHEN m.zone IS NOT NULL OR m.road_no IS NOT NULL
             THEN address_place_label(m.compound_read, m.road_zone, m.road_no) || '不在实有房屋中'
             WHEN m.road_zone IS NOT NULL THEN '只写了道路“' || m.road_zone || '”，没有门牌号和小区'
             ELSE '未能识别出小区或道路门牌' END
    END;

-- What is unknown about an address no house was found for, and the spelling a steward's one decision
-- would settle (the stewards' queue groups rows by both, with counts).
CREATE OR REPLACE MACRO address_unknown_kind(m) AS
    CASE WHEN m.how = 'problem' THEN 'not_address'
         WHEN m.how = 'outside' THEN 'outside'
         WHEN m.how IN ('without_room', 'multi') THEN 'ambiguous'
         WHEN m.how = 'no_house' THEN CASE WHEN m.building IS NOT NULL AND NOT coalesce(m.building_exists, false)
                                           THEN 'building' ELSE 'house' END
         WHEN m.zone IS NOT NULL THEN 'compound'
         WHEN m.road_no IS NOT NULL THEN 'road'
         ELSE 'unreadable' END;

CREATE OR REPLACE MACRO address_unknown_key(m) AS
    CASE WHEN m.how = 'problem' THEN coalesce(m.norm, trim(m.address))
         WHEN m.how = 'outside' THEN array_to_string(m.unknown_units, '、')
         WHEN m.how IN ('without_room', 'multi')
         THEN coalesce(nullif(array_to_string(list_concat(coalesce(m.compounds, []), coalesce(m.roads, [])), '、'), ''),
                       address_place_label(m.zone, m.road_zone, m.road_no))
              || CASE WHEN m.how = 'without_room' OR m.room IS NULL THEN ' 未写户室'
                      WHEN m.building IS NULL THEN ' 未写楼栋' ELSE '' END
         WHEN m.how = 'no_house' THEN array_to_string(m.anchors, '、') || ' '
              || CASE WHEN m.building IS NOT NULL AND NOT coalesce(m.building_exists, false) THEN m.building || '栋'
                      ELSE concat_ws('', m.building || '栋', m.unit || '单元', m.floor || '楼', m.room || '室') END
         WHEN m.zone IS NOT NULL THEN m.zone
         WHEN m.road_no IS NOT NULL THEN m.road_zone || '|' || m.road_no
         ELSE coalesce(m.norm, trim(m.address)) END;

-- The house a row of core.address_matches gives its record (core.person_records takes it when the row states no
-- known house): only a match names one.
CREATE OR REPLACE MACRO address_house(match_status, house_code) AS CASE WHEN match_status = 'matched' THEN house_code END;

-- The 依据 of a row of core.address_matches (contract §3): which parts decided, or why none could.
CREATE OR REPLACE MACRO address_basis(a) AS
    CASE a.how
        WHEN 'stated' THEN '本记录填写的房屋编码 ' || a.house_code || ' 在实有房屋中'
        WHEN 'text' THEN address_decided_by(a.rule, a.road, a.road_no, a.compound, a.building, a.unit, a.floor, a.room)
             || '，唯一对应此房屋'
             || CASE WHEN contains(a.rule, '_mention') THEN '（地址所写社区或街道排除了同名的其他房屋）' ELSE '' END
             || CASE WHEN contains(a.rule, '_alias') THEN '（按数据管理员认定的小区或道路写法）' ELSE '' END
        ELSE a.basis_detail END;
