-- Working set for one linkage run: every person record with its name forms and link fields (identity_link_rows,
-- identity_macros.sql). Kept narrow (no character lists): it is as long as core.person_records, so it is a scratch
-- table. An incremental run that starts from the records person_records handed on does not make it
-- (identity_seeds_handed.sql: core.link_inputs, brought up to date, is every record's row then).
CREATE OR REPLACE TABLE scratch.link_records AS SELECT * FROM identity_link_rows('core.person_records');

-- What identity reads of each record, with the street of its house (which bounds the name key's blocking):
-- kept as core.link_inputs by each run, so the next one finds the records a new batch added or changed
-- (identity_closure.sql). A view: it follows scratch.link_records.
CREATE OR REPLACE TEMP VIEW _link_inputs AS
SELECT i.*, s.street_code FROM scratch.link_records i LEFT JOIN _house_street s USING (house_code);
