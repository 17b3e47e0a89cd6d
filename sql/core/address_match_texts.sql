-- A full build decides every row (an incremental one chose its rows in address_delta.sql) and keeps none.
CREATE TEMP TABLE IF NOT EXISTS addr_redo AS SELECT template, batch_id, row_no FROM addr_inputs;
CREATE TEMP TABLE IF NOT EXISTS addr_was (record_id BIGINT, house VARCHAR);
CREATE TEMP TABLE IF NOT EXISTS addr_kept_placed (template VARCHAR, batch_id VARCHAR, row_no INTEGER, house VARCHAR);


-- Each distinct address of the rows that are decided now and need a house (addr_inputs without a stated known
-- house; household members share one text), in ap_in for pipelines/address/parse.py: tids after the houses'.
CREATE OR REPLACE TEMP TABLE addr_texts AS
SELECT (SELECT count(*) FROM addr_hp) + row_number() OVER () AS tid, raw
FROM (SELECT DISTINCT address AS raw
      FROM addr_inputs SEMI JOIN addr_redo USING (template, batch_id, row_no) WHERE stated_house IS NULL);

CREATE OR REPLACE TEMP TABLE ap_in AS SELECT tid, raw FROM addr_texts;

