-- addr_gaz: the names of the districts, streets and communities of core.grids, each also in its short
-- forms (武侯区/武侯, 玉林街道/玉林, 芳草社区/芳草, 白塔村/白塔), so an address's administrative levels
-- are stripped by the names they really have, not by regular expressions alone
-- (pipelines/address/parse.py). A name two units of one level share is stripped but names neither
-- (code NULL).
-- Reads TEMP addr_units(level, code, name): the units of core.grids, or those a caller names.
CREATE OR REPLACE TEMP TABLE addr_gaz AS
WITH units AS (
    SELECT DISTINCT level, code, addr_fold(name) AS name FROM addr_units WHERE name IS NOT NULL
), forms AS (
    SELECT level, code, name AS form, false AS is_short FROM units WHERE name <> ''
    UNION
    SELECT level, code, unnest(list_distinct(list_filter([
               regexp_replace(name, CASE level WHEN 'district' THEN '(自治县|自治旗|新区|区|县|市|旗)$'
                                               WHEN 'street' THEN '(街道办事处|街道|镇|乡)$'
                                               ELSE '(社区居委会|社区居民委员会|社区|居委会|居民委员会|村委会|村民委员会)$' END, ''),
               CASE WHEN level = 'community' THEN regexp_replace(name, '(村社区|村委会|村民委员会|村)$', '') END],
           lambda f: f IS NOT NULL AND f <> name AND length(f) >= 2))), true
    FROM units WHERE name <> ''
)
SELECT DISTINCT level, CASE WHEN n = 1 THEN code END AS code, form AS name, is_short, length(form) AS len
FROM (SELECT *, count(DISTINCT code) OVER (PARTITION BY level, form) AS n FROM forms);
