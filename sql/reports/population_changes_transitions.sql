-- 人口变动月报's transitions (sql/reports/population_changes.sql reads them as rc_transitions): one row per person
-- whose status or grid differs between 期初 (the TEMP view or table rc_start: every person's status on the eve of
-- the period) and 期末 (marts.persons for D, variable as_of), with what the report prints of them. Every person
-- with a record on the eve also has one on D (evidence only accumulates), so the rows start from marts.persons.
-- Variable transitions_delta: only the persons of TEMP _chg_delta (pipelines/marts/period_start.py keeps the rows
-- of the period a build reports in marts.period_changes and decides again only the persons whose 期初 or 期末
-- row was replaced since).
CREATE TEMP TABLE IF NOT EXISTS _chg_delta (person_key VARCHAR);
CREATE OR REPLACE TEMP VIEW rc_transition_rows AS
SELECT e.person_key, s.status AS s_status, s.grid_code AS s_grid, s.house_code AS s_house,
       e.status AS e_status, e.grid_code AS e_grid, e.house_code AS e_house, e.basis, e.decision_source,
       e.decision_ref, e.decision_date, e.name, e.id_number, e.sex, e.birth_date,
       coalesce(s.status = '在住', false) AS s_in, e.status = '在住' AS e_in
FROM marts.persons e
LEFT JOIN rc_start s USING (person_key)
WHERE e.as_of = getvariable('as_of')
  AND (getvariable('transitions_delta') IS NOT TRUE OR e.person_key IN (SELECT person_key FROM _chg_delta))
  AND (s.status IS DISTINCT FROM e.status OR s.grid_code IS DISTINCT FROM e.grid_code);
