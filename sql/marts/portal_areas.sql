-- marts.portal_areas: the streets and communities a portal user may choose (pipelines/web/data.py), from
-- core.grids once per store version instead of on every page. A query, not a statement: the portal reads it as
-- a subquery of a store published before the mart existed.
SELECT DISTINCT 'street' AS level, street_code AS code, street_name AS name, street_code FROM core.grids
UNION ALL
SELECT DISTINCT 'community', community_code, community_name, street_code FROM core.grids
