-- Dates as clerks write them (contract §1). cn_date() returns NULL for anything it cannot read
-- with certainty; validation turns a NULL from non-empty text into a row error, never a silent null.
--   2024-03-05  2024/3/5  2024.03.05  20240305  2024年3月5日  2024-03-05 10:30:00 / 2024-03-05T10:30
--   45356 (an Excel serial number that lost its date format: days since 1899-12-30)

-- y, m, d as text; NULL unless it is a real calendar day (2024-02-30 is not).
CREATE OR REPLACE MACRO cn_ymd(y, m, d) AS
    try_strptime(concat_ws('-', y, m, d), '%Y-%m-%d')::DATE;

CREATE OR REPLACE MACRO cn_date_clean(txt) AS trim(fullwidth_fold(txt));

CREATE OR REPLACE MACRO cn_date_parse(t) AS CASE
    WHEN regexp_full_match(t, '\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(( +|T)\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?') THEN
        cn_ymd(regexp_extract(t, '^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})', 1),
               regexp_extract(t, '^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})', 2),
               regexp_extract(t, '^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})', 3))
    WHEN regexp_full_match(t, '\d{8}') THEN
        cn_ymd(substr(t, 1, 4), substr(t, 5, 2), substr(t, 7, 2))
    WHEN regexp_full_match(t, '\d{4} *年 *\d{1,2} *月 *\d{1,2} *[日号]') THEN
        cn_ymd(regexp_extract(t, '^(\d{4}) *年 *(\d{1,2}) *月 *(\d{1,2})', 1),
               regexp_extract(t, '^(\d{4}) *年 *(\d{1,2}) *月 *(\d{1,2})', 2),
               regexp_extract(t, '^(\d{4}) *年 *(\d{1,2}) *月 *(\d{1,2})', 3))
    -- Five digits only (1927-05-18 .. 2173-10-14): a bare 3- or 4-digit number is not a date.
    WHEN regexp_full_match(t, '\d{5}(\.0+)?') THEN
        (DATE '1899-12-30' + CAST(CAST(t AS DOUBLE) AS INTEGER))::DATE
END;

-- The forms the demo and real exports mostly use are recognised by one anchored regex each and
-- parsed by strptime with a fixed format, which is cheap when it succeeds (it is slow only on
-- failure, i.e. for impossible days). Everything else (full-width text, spaces, times, serials)
-- takes the general path above; CASE evaluates a branch only for the rows that reach it.
CREATE OR REPLACE MACRO cn_date(txt) AS CASE
    WHEN regexp_full_match(txt, '[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}') THEN
        try_strptime(replace(replace(txt, '/', '-'), '.', '-'), '%Y-%m-%d')::DATE
    WHEN regexp_full_match(txt, '[0-9]{8}') THEN try_strptime(txt, '%Y%m%d')::DATE
    WHEN regexp_full_match(txt, '[0-9]{4}年[0-9]{1,2}月[0-9]{1,2}日') THEN try_strptime(txt, '%Y年%m月%d日')::DATE
    ELSE list_transform([cn_date_clean(txt)], lambda t: cn_date_parse(t))[1]
END;

-- The year of the next September enrolment that D's school year prepares. A school year runs 1 September to
-- 31 August: on 2026-10-31 (school year 2026–2027) the cohort to plan for enters in September 2027, not the
-- one that started school in September 2026; on 2026-05-31 it is the one entering in September 2026.
CREATE OR REPLACE MACRO school_enrolment_year(d) AS
    year(d::DATE) + CASE WHEN month(d::DATE) >= 9 THEN 1 ELSE 0 END;
