-- Folding shared by every text macro. DuckDB has no NFKC, and what clerks type differs from
-- ASCII mostly by full-width forms (Ｘ, １２３, （）, the ideographic space), so those are folded
-- explicitly: U+FF01..U+FF5E -> U+0021..U+007E and U+3000 -> space.
-- Named _fold.sql so that it loads before every other macro file (they load sorted; a macro is
-- bound when it is created, so what it calls must exist already).
-- translate() is slow on long mappings, so it only runs on text that holds a full-width character;
-- pure ASCII (codes, dates, IDs: byte length = character length) skips even the regex.
CREATE OR REPLACE MACRO fullwidth_fold(txt) AS CASE
    WHEN strlen(txt) = length(txt) OR NOT regexp_matches(txt, '[\x{FF01}-\x{FF5E}\x{3000}]') THEN txt
    ELSE translate(txt,
    '！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～　',
    '!"#$%&''()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~ ')
END;

-- The key a free-text spelling is looked up by (value lists, tags, headers): folded, no white space.
-- Mirrors pipelines.sources.normalize_header on the Python side.
CREATE OR REPLACE MACRO value_key(txt) AS
    NULLIF(regexp_replace(fullwidth_fold(txt), '\s+', '', 'g'), '');
