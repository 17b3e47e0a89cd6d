-- The as-of tables every report and extract reads, copied from the marts (sql/marts/persons.sql) once per
-- connection and date, so that scope.sql can cut a jurisdiction out of them. basis, the long text of why a
-- status holds, and the deciding record's citation stay in marts.persons (21M rows of them at city scale): the
-- outputs that print them read them there. Left out by name, not by EXCLUDE: a version built before the
-- citation columns has none to exclude.
CREATE OR REPLACE TEMP TABLE rp_grids AS SELECT * FROM marts.grids;
CREATE OR REPLACE TEMP TABLE rp_houses AS SELECT * FROM marts.houses;
CREATE OR REPLACE TEMP TABLE rp_persons AS
SELECT COLUMNS(lambda c: c NOT IN ('as_of', 'basis') AND NOT starts_with(c, 'decision_'))
FROM marts.persons WHERE as_of = getvariable('as_of');
