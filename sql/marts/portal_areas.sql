-- marts.portal_areas: the streets and communities a portal user may choose (pipelines/web/data.py), from
-- core.grids once per store version instead of on every page.
CREATE OR REPLACE TABLE marts.portal_areas AS
SELECT DISTINCT 'street' AS level, street_code AS code, street_name AS name, street_code FROM core.grids
UNION ALL
SELECT DISTINCT 'community', community_code, community_name, street_code FROM core.grids;
