-- The dirty closure's seeds (identity_closure.sql) when person_records handed on no usable change set
-- (identity_seeds_handed.sql says when): every record's inputs this run (_link_inputs) compared with the last
-- run's (core.link_inputs). Records new, changed (a field identity reads, or their house's street) or gone, in both
-- versions: the old version's blocking keys reach the records it was compared with, the new version's those it
-- will be.
CREATE OR REPLACE TEMP TABLE _seed_rows AS
(SELECT * FROM _link_inputs EXCEPT SELECT * FROM core.link_inputs)
UNION ALL
(SELECT * FROM core.link_inputs EXCEPT SELECT * FROM _link_inputs);
