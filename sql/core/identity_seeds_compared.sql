-- The dirty closure's seeds (identity_closure.sql) when person_records handed on no usable change set
-- (identity_seeds_handed.sql says when): every record's inputs this run (_link_inputs) compared with the last
-- run's (core.link_inputs). Records new, changed (a field identity reads, or their house's street) or gone, in both
-- versions: the old version's blocking keys reach the records it was compared with, the new version's those it
-- will be.
CREATE OR REPLACE TEMP TABLE _seed_rows AS
(SELECT * FROM _link_inputs EXCEPT SELECT * FROM core.link_inputs)
UNION ALL
(SELECT * FROM core.link_inputs EXCEPT SELECT * FROM _link_inputs);

-- The last run's inputs brought up to this run's (what the next run compares with): every record's row from here
-- on (_link_inputs; a stored table, cheaper to read than the view over scratch.link_records it equals now).
DELETE FROM core.link_inputs WHERE record_key IN (SELECT record_key FROM _seed_rows);
INSERT INTO core.link_inputs SELECT * FROM _link_inputs SEMI JOIN _seed_rows USING (record_key);
CREATE OR REPLACE TEMP VIEW _link_inputs AS SELECT * FROM core.link_inputs;
