-- The houses as the matcher reads them, step 1 of 2 (pipelines/address/__init__.py; step 2: address_houses.sql):
-- each distinct 标准地址 text once, in ap_in for pipelines/address/parse.py (tids 1..n; the addresses read next,
-- address_match_texts.sql, follow them). They are read before the rows are chosen: an incremental build compares
-- them with the last build's (address_reach.sql). With variable houses_delta, only the houses of addr_house_redo
-- (address_house_keep.sql) are read; the others keep their stored reading (address_houses.sql).
--
-- A house whose housing row gives its compound (found in its 标准地址), building, unit (or the 标准地址 has
-- none) and room needs from its 标准地址 only what precedes the end of the compound's last mention — the
-- road and door number — and a whole estate shares that text ("…玉林北路12号芳草小区"): read once, not
-- once per flat.
CREATE OR REPLACE TEMP TABLE addr_htexts AS
SELECT house_code, microgrid_code, batch_id, row_no, compound, building, unit, CAST(floor AS VARCHAR) AS floor, room,
       CASE WHEN nullif(trim(compound), '') IS NOT NULL AND building IS NOT NULL AND room IS NOT NULL
                 AND (unit IS NOT NULL OR NOT contains(std_address, '单元'))
                 AND contains(std_address, trim(compound))
            THEN left(std_address, length(std_address) - strpos(reverse(std_address), reverse(trim(compound))) + 1)
            ELSE std_address END AS ptext
FROM core.houses
WHERE getvariable('houses_delta') IS NOT TRUE OR house_code IN (SELECT house_code FROM addr_house_redo);

CREATE OR REPLACE TEMP TABLE addr_hp AS
SELECT row_number() OVER () AS tid, ptext FROM (SELECT DISTINCT ptext FROM addr_htexts WHERE ptext IS NOT NULL);

CREATE OR REPLACE TEMP TABLE ap_in AS SELECT tid, ptext AS raw FROM addr_hp;
