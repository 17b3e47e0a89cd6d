-- Resident ID numbers (GB 11643-1999), validated here and not by a library (contract §2):
-- 17 digits (6 region, 8 birth date, 3 sequence; odd sequence = male) + ISO 7064 MOD 11-2 check.

-- Full-width to ASCII, no spaces/dashes/underscores, x -> X. NULL when nothing is left.
CREATE OR REPLACE MACRO id_compact(txt) AS
    NULLIF(upper(regexp_replace(fullwidth_fold(txt), '[\s\-_—–]', '', 'g')), '');

-- ISO 7064 MOD 11-2 over the 17 digits as one BIGINT n: weight 2^(17-i) mod 11 for digit i.
-- Integer arithmetic: per-character string functions cost several times more on millions of rows.
CREATE OR REPLACE MACRO id_check_char(n) AS substr('10X98765432', CAST(1 + (
    (n // 10000000000000000) % 10 * 7
    + (n // 1000000000000000) % 10 * 9
    + (n // 100000000000000) % 10 * 10
    + (n // 10000000000000) % 10 * 5
    + (n // 1000000000000) % 10 * 8
    + (n // 100000000000) % 10 * 4
    + (n // 10000000000) % 10 * 2
    + (n // 1000000000) % 10 * 1
    + (n // 100000000) % 10 * 6
    + (n // 10000000) % 10 * 3
    + (n // 1000000) % 10 * 7
    + (n // 100000) % 10 * 9
    + (n // 10000) % 10 * 10
    + (n // 1000) % 10 * 5
    + (n // 100) % 10 * 8
    + (n // 10) % 10 * 4
    + (n // 1) % 10 * 2) % 11 AS INTEGER), 1);

-- The check character for the first 17 digits; NULL when they are not 17 digits.
CREATE OR REPLACE MACRO id_check_digit(first17) AS CASE
    WHEN regexp_full_match(first17, '[0-9]{17}')
    THEN list_transform([CAST(first17 AS BIGINT)], lambda n: id_check_char(n))[1]
END;

-- Legacy 15-digit numbers (19YYMMDD era) become 18 digits with the century and a computed check.
CREATE OR REPLACE MACRO id_upgrade15(c) AS
    left(c, 6) || '19' || substr(c, 7) || id_check_digit(left(c, 6) || '19' || substr(c, 7));

-- list_transform([x], lambda ...)[1] binds x once: a macro that repeats its argument would
-- otherwise be expanded into every use and planning time grows with each nesting.
CREATE OR REPLACE MACRO id_normalize(txt) AS CASE
    WHEN regexp_full_match(txt, '[0-9]{17}[0-9X]') THEN txt   -- already clean: the common case, kept cheap
    ELSE list_transform([id_compact(txt)], lambda c:
        CASE WHEN regexp_full_match(c, '[0-9]{15}') THEN id_upgrade15(c) ELSE c END)[1]
END;

-- The birth date read without validation; id_birth_date() is the checked form.
CREATE OR REPLACE MACRO id_birth_text(id) AS try_strptime(substr(id, 7, 8), '%Y%m%d')::DATE;

-- NULL when the (normalised) ID is valid or empty, else the first problem found.
-- A birth date after on_date (the day the row was loaded; default today) is invalid.
-- Pass a column (or a cheap expression): `id` is used several times.
CREATE OR REPLACE MACRO id_problem(id, on_date := NULL) AS CASE
    WHEN id IS NULL THEN NULL
    WHEN length(id) <> 18 THEN '长度错误'
    WHEN NOT regexp_full_match(id, '[0-9]{17}[0-9X]') THEN '格式错误'
    -- the 17 digits are known to be digits here: no second regex (id_check_digit) needed
    WHEN list_transform([CAST(left(id, 17) AS BIGINT)], lambda n: id_check_char(n))[1] <> right(id, 1)
        THEN '校验码错误'
    -- no lambda here: a list_transform costs more per row than parsing 8 digits twice
    WHEN NOT coalesce(id_birth_text(id) BETWEEN DATE '1900-01-01' AND coalesce(on_date, current_date), false)
        THEN '出生日期无效'
END;

CREATE OR REPLACE MACRO id_valid(id, on_date := NULL) AS
    list_transform([id], lambda x: x IS NOT NULL AND id_problem(x, on_date) IS NULL)[1];

-- Derived from a valid ID only: a wrong ID says nothing about the person.
CREATE OR REPLACE MACRO id_birth_date(id, on_date := NULL) AS
    list_transform([id], lambda x: CASE WHEN id_valid(x, on_date) THEN id_birth_text(x) END)[1];

-- The sex digit read without validation; id_sex() is the checked form.
CREATE OR REPLACE MACRO id_sex_digit(id) AS
    CASE WHEN substr(id, 17, 1) IN ('1', '3', '5', '7', '9') THEN '男' WHEN substr(id, 17, 1) <> '' THEN '女' END;

CREATE OR REPLACE MACRO id_sex(id, on_date := NULL) AS
    list_transform([id], lambda x: CASE WHEN id_valid(x, on_date) THEN id_sex_digit(x) END)[1];

-- An unknown region is a warning only (contract §2); NULL when there is no 6-digit prefix.
CREATE OR REPLACE MACRO id_region_known(id) AS CASE
    WHEN regexp_matches(id, '^[0-9]{6}') THEN left(id, 6) IN (SELECT code FROM gb2260_region_codes)
END;

-- Text that Excel made of an ID typed into a number cell: scientific notation (5.10104E+17), or
-- 18 digits ending in 000 (Excel keeps 15 significant digits) whose check digit then fails.
CREATE OR REPLACE MACRO id_excel_mangled(txt) AS CASE
    WHEN NOT (contains(txt, '000') OR contains(txt, 'E') OR contains(txt, 'e')) THEN false
    ELSE list_transform([trim(txt)], lambda t:
        regexp_full_match(t, '[0-9](\.[0-9]+)?[eE]\+?[0-9]+')
        OR (regexp_full_match(t, '[0-9]{15}000') AND id_check_digit(left(t, 17)) <> right(t, 1)))[1]
END;

-- Outputs show 前6后4 (510104********0019) unless a grant says otherwise.
CREATE OR REPLACE MACRO id_mask(id) AS CASE
    WHEN length(id) > 10 THEN left(id, 6) || repeat('*', length(id) - 10) || right(id, 4)
    WHEN id IS NOT NULL THEN repeat('*', length(id))
END;

-- Masking by class (pipelines/publish/masking.py decides which of these an output uses; its Python
-- twins give the same answers, tests/publish/test_masking.py). Finding a valid ID inside any other text
-- is done in Python on the few cells a regular expression picks out (masking.scrub_arrow): the check
-- character as a macro here would cost more to plan than the scrub costs to run.

-- Full-width digits and X as ASCII: the only folding masking needs (other characters stay as typed).
CREATE OR REPLACE MACRO digits_fold(txt) AS CASE
    WHEN strlen(txt) = length(txt) OR NOT regexp_matches(txt, '[０-９Ｘｘ]') THEN txt
    ELSE translate(txt, '０１２３４５６７８９Ｘｘ', '0123456789Xx')
END;

-- A value of an identifier column (公民身份号码, 残疾证号, 居住证号码, 产权人身份证号, 备注): a code (digits
-- and letters, however spaced or typed full-width: "510104 19721212 1000") is masked whole, 前6后4; free
-- text keeps its words and each run of 15 or more digits in it is masked so.
CREATE OR REPLACE MACRO id_mask_text(txt) AS CASE
    WHEN txt IS NULL THEN NULL
    WHEN regexp_full_match(coalesce(id_compact(txt), ''), '[0-9A-Za-z]*') THEN id_mask(txt)
    ELSE regexp_replace(digits_fold(txt), '([0-9]{6})[0-9]{5,}([0-9]{3}[0-9Xx])', '\1********\2', 'g')
END;
