-- A full build decides every row (an incremental one chose its rows in address_delta.sql) and keeps none.
CREATE TEMP TABLE IF NOT EXISTS addr_redo AS SELECT template, batch_id, row_no FROM addr_inputs;
CREATE TEMP TABLE IF NOT EXISTS addr_was (record_id BIGINT, house VARCHAR);
CREATE TEMP TABLE IF NOT EXISTS addr_kept_placed (template VARCHAR, batch_id VARCHAR, row_no INTEGER, house VARCHAR);

-- Every text the matcher reads, once: the 标准地址 of the houses and each distinct address of the rows that
-- are decided now and need a house (addr_inputs without a stated known house; household members share one text).
-- ap_in is what pipelines/address/parse.py reads; tids 1..n are the houses' texts, the addresses follow.
--
-- A house whose housing row gives its compound (found in its 标准地址), building, unit (or the 标准地址 has
-- none) and room needs from its 标准地址 only what precedes the end of the compound's last mention — the
-- road and door number — and a whole estate shares that text ("…玉林北路12号芳草小区"): read once, not
-- once per flat.
CREATE OR REPLACE TEMP TABLE addr_htexts AS
SELECT house_code, microgrid_code, compound, building, unit, CAST(floor AS VARCHAR) AS floor, room,
       CASE WHEN nullif(trim(compound), '') IS NOT NULL AND building IS NOT NULL AND room IS NOT NULL
                 AND (unit IS NOT NULL OR NOT contains(std_address, '单元'))
                 AND contains(std_address, trim(compound))
            THEN left(std_address, length(std_address) - strpos(reverse(std_address), reverse(trim(compound))) + 1)
            ELSE std_address END AS ptext
FROM core.houses;

CREATE OR REPLACE TEMP TABLE addr_hp AS
SELECT row_number() OVER () AS tid, ptext FROM (SELECT DISTINCT ptext FROM addr_htexts WHERE ptext IS NOT NULL);

CREATE OR REPLACE TEMP TABLE addr_texts AS
SELECT (SELECT count(*) FROM addr_hp) + row_number() OVER () AS tid, raw
FROM (SELECT DISTINCT address AS raw
      FROM addr_inputs SEMI JOIN addr_redo USING (template, batch_id, row_no) WHERE stated_house IS NULL);

CREATE OR REPLACE TEMP TABLE ap_in AS
SELECT tid, ptext AS raw FROM addr_hp
UNION ALL
SELECT tid, raw FROM addr_texts;

