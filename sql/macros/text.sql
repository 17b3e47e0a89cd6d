-- Names, phone numbers and numbers as typed by clerks.

-- Empty and blank cells are the same thing: missing.
CREATE OR REPLACE MACRO clean_text(txt) AS NULLIF(trim(txt), '');

-- Codes (grid, house, division codes) are opaque text: fold full-width, drop spaces, keep zeros.
CREATE OR REPLACE MACRO code_normalize(txt) AS
    NULLIF(regexp_replace(fullwidth_fold(txt), '\s+', '', 'g'), '');

-- Chinese names: no spaces at all (张 三 = 张三), and every middle-dot look-alike of minority and
-- foreign names (· • ‧ ・ ･ ∙ ⋅ ., full-width included) becomes U+00B7.
CREATE OR REPLACE MACRO name_normalize(txt) AS NULLIF(list_transform([fullwidth_fold(txt)], lambda t: CASE
    WHEN regexp_matches(t, '[\s•‧・･∙⋅.]')
    THEN translate(regexp_replace(t, '\s+', '', 'g'), '•‧・･∙⋅.', '·······')
    ELSE t
END)[1], '');

-- Digits only, without a +86 / 0086 / 86 country prefix on a mobile number.
CREATE OR REPLACE MACRO phone_normalize(txt) AS NULLIF(regexp_replace(
    regexp_replace(fullwidth_fold(txt), '[^0-9]', '', 'g'), '^(0086|86)(1[0-9]{10})$', '\2'), '');

-- 138****1234; numbers shorter than 8 digits are masked whole (with 7, "first 3 + last 4" would show all).
CREATE OR REPLACE MACRO phone_mask(phone) AS CASE
    WHEN length(phone) >= 8 THEN left(phone, 3) || repeat('*', length(phone) - 7) || right(phone, 4)
    WHEN phone IS NOT NULL THEN repeat('*', length(phone))
END;

-- Mobile numbers standing on their own inside a text (not in a longer run of digits, nor glued to ASCII
-- letters), masked like phone_mask (hide: all stars). Run twice: a match takes the character before and
-- after it, so "13…,13…" needs a second pass.
CREATE OR REPLACE MACRO phone_scrub_once(txt, hide) AS regexp_replace(txt,
    '(^|[^0-9A-Za-z])(1[3-9][0-9])([0-9]{4})([0-9]{4})($|[^0-9A-Za-z])',
    CASE WHEN hide THEN '\1***********\5' ELSE '\1\2****\4\5' END, 'g');
CREATE OR REPLACE MACRO phone_scrub(txt, hide) AS CASE
    WHEN txt IS NULL OR NOT regexp_matches(digits_fold(txt), '(^|[^0-9A-Za-z])1[3-9][0-9]{9}($|[^0-9A-Za-z])')
    THEN txt
    ELSE phone_scrub_once(phone_scrub_once(digits_fold(txt), hide), hide)
END;

-- 张**: the first character of a name and a star for each further one.
CREATE OR REPLACE MACRO name_mask(name) AS CASE
    WHEN name IS NOT NULL THEN left(name, 1) || repeat('*', length(name) - 1)
END;

-- Numbers typed as text: thousands separators and a trailing 元/人 are tolerated.
CREATE OR REPLACE MACRO cn_decimal(txt) AS
    TRY_CAST(regexp_replace(fullwidth_fold(trim(txt)), '[,，\s]|[元人]$', '', 'g') AS DECIMAL(12, 2));

CREATE OR REPLACE MACRO cn_integer(txt) AS
    CASE WHEN cn_decimal(txt) = trunc(cn_decimal(txt)) THEN cn_decimal(txt)::INTEGER END;
