-- Every text the matcher reads: each house's 标准地址 (tid 1..houses, with the house's columns) and each
-- distinct address of the rows that need a house (addr_inputs without a stated known house; household
-- members share one text). ap_in is what pipelines/address/parse.py reads.
CREATE OR REPLACE TEMP TABLE addr_htexts AS
SELECT row_number() OVER () AS tid, house_code, microgrid_code, std_address AS raw,
       compound, building, unit, CAST(floor AS VARCHAR) AS floor, room
FROM core.houses;

CREATE OR REPLACE TEMP TABLE addr_texts AS
SELECT (SELECT count(*) FROM addr_htexts) + row_number() OVER () AS tid, raw
FROM (SELECT DISTINCT address AS raw FROM addr_inputs WHERE stated_house IS NULL);

CREATE OR REPLACE TEMP TABLE ap_in AS
SELECT tid, raw FROM addr_htexts WHERE raw IS NOT NULL
UNION ALL
SELECT tid, raw FROM addr_texts;

-- Each source row with its text's id (NULL: a stated known house, not read).
CREATE OR REPLACE TEMP TABLE addr_in AS
SELECT i.*, t.tid FROM addr_inputs i LEFT JOIN addr_texts t ON t.raw = i.address AND i.stated_house IS NULL;
