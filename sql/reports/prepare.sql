-- The as-of tables every report and extract reads, copied from the marts (sql/marts/persons.sql) once per
-- connection and date, so that scope.sql can cut a jurisdiction out of them. basis, the long text of why a
-- status holds, stays in marts.persons (21M rows of it at city scale): the outputs that print it read it there.
CREATE OR REPLACE TEMP TABLE rp_grids AS SELECT * FROM marts.grids;
CREATE OR REPLACE TEMP TABLE rp_houses AS SELECT * FROM marts.houses;
CREATE OR REPLACE TEMP TABLE rp_persons AS
SELECT * EXCLUDE (as_of, basis) FROM marts.persons WHERE as_of = getvariable('as_of');
