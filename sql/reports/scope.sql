-- A report for one jurisdiction: only grids, houses and persons inside it, copied from the whole-store tables
-- (renamed rp_*_whole by pipelines/publish/grants.py narrow(), so another jurisdiction needs no new preparation).
-- Persons without a grid cannot be placed in any jurisdiction, so they appear only in unscoped (whole-store) reports.
CREATE OR REPLACE TEMP TABLE rp_grids AS
SELECT * FROM rp_grids_whole
WHERE (CASE getvariable('scope_level')
           WHEN 'grid' THEN grid_code
           WHEN 'community' THEN community_code
           WHEN 'street' THEN street_code
           ELSE district_code END) = getvariable('scope_code');
CREATE OR REPLACE TEMP TABLE rp_houses AS
SELECT * FROM rp_houses_whole WHERE microgrid_code IN (SELECT microgrid_code FROM rp_grids);
CREATE OR REPLACE TEMP TABLE rp_persons AS
SELECT * FROM rp_persons_whole
WHERE microgrid_code IS NOT NULL AND microgrid_code IN (SELECT microgrid_code FROM rp_grids);
