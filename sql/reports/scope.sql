-- A report for one jurisdiction: keep only grids, houses and persons inside it. Persons without a grid
-- cannot be placed in any jurisdiction, so they appear only in unscoped (whole-store) reports.
DELETE FROM rp_grids
WHERE NOT (CASE getvariable('scope_level')
               WHEN 'grid' THEN grid_code
               WHEN 'community' THEN community_code
               WHEN 'street' THEN street_code
               ELSE district_code END) = getvariable('scope_code');
DELETE FROM rp_houses WHERE microgrid_code NOT IN (SELECT microgrid_code FROM rp_grids);
DELETE FROM rp_persons WHERE microgrid_code IS NULL OR microgrid_code NOT IN (SELECT microgrid_code FROM rp_grids);
