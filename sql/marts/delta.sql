-- The persons whose rows of the marts an incremental build replaces (pipelines/marts/__init__.py), after
-- sql/marts/places.sql rebuilt marts.houses and marts.grids and before the person marts' rows are added.
--
-- A person's row of marts.persons is made of their row of core.person_status, their linked records (core.evidence,
-- core.persons, the staging rows those name) and the marts.houses/marts.grids rows of their place. Status hands on
-- in scratch.person_delta every person whose status row it replaced — those with a link added or removed or a
-- record rehoused, and those whose house moved micro-grid or grid (sql/core/person_status_delta.sql); records of
-- earlier batches change only with a steward's fix or new code, and either makes the build a full one. What is
-- left is a house or micro-grid whose own row changed (a newer housing or grids row): its persons, as the last
-- build placed them and as status places them now.
CREATE OR REPLACE TEMP TABLE _marts_delta AS
WITH houses AS (
    SELECT house_code FROM ((SELECT * FROM _marts_houses_was EXCEPT SELECT * FROM marts.houses)
                            UNION ALL (SELECT * FROM marts.houses EXCEPT SELECT * FROM _marts_houses_was))
),
grids AS (
    SELECT microgrid_code FROM ((SELECT * FROM _marts_grids_was EXCEPT SELECT * FROM marts.grids)
                                UNION ALL (SELECT * FROM marts.grids EXCEPT SELECT * FROM _marts_grids_was))
)
SELECT person_key FROM scratch.person_delta
UNION
SELECT s.person_key
FROM core.person_status s
LEFT JOIN marts.houses h USING (house_code)
WHERE s.house_code IN (SELECT house_code FROM houses)
   OR coalesce(s.microgrid_code, h.microgrid_code) IN (SELECT microgrid_code FROM grids)
UNION
SELECT person_key
FROM marts.persons
WHERE house_code IN (SELECT house_code FROM houses) OR microgrid_code IN (SELECT microgrid_code FROM grids);

-- the grids those persons were counted in (sql/marts/delta_grids.sql adds those they are counted in now)
CREATE OR REPLACE TEMP TABLE _marts_grids AS
SELECT DISTINCT grid_code FROM marts.persons WHERE person_key IN (SELECT person_key FROM _marts_delta);

DELETE FROM marts.persons WHERE person_key IN (SELECT person_key FROM _marts_delta);
-- lineage rows are per record: a record linked to no person (before or now) has no person to name it by
DELETE FROM marts.person_sources
WHERE "人员主键" IS NULL OR "人员主键" IN (SELECT person_key FROM _marts_delta);
DELETE FROM marts.deregistration_feedback WHERE "人员主键" IN (SELECT person_key FROM _marts_delta);

DROP TABLE _marts_houses_was;
DROP TABLE _marts_grids_was;
