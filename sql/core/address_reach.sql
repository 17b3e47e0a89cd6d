-- What a change of the houses or of the grids' names can reach, for an incremental build of core.address_matches
-- (pipelines/address/__init__.py; docs/architecture.md, "Incremental builds"). Runs after address_houses.sql, with
-- addr_houses and addr_gaz of this build; core.address_house_reads and core.address_gaz are the last build's.
--
-- A text's decision is made from its reading and the houses its anchors lead to (address_matches.sql): its compound
-- zone names a known compound when a suffix of the zone is that compound, its phase-less base or shares a key with
-- it (addr_cmap), each a prefix of the compound's name at least two characters long; its road zone names a known
-- road when a suffix is that road (addr_rmap); a steward's decision names one through its spelling. The reading
-- itself strips the grids' names (and their short forms) from the text. So a changed house — added, removed, or
-- read otherwise (road, door number, compound, parts, grid units) — can reach a text only through a needle the
-- text contains: the first two characters of its compound (old or new), its road, the spelling of a steward's
-- decision naming its compound, road or code; and a changed name of the gazetteer only through that name.
-- address_delta.sql decides again every text holding a needle, in its cleaned text (as the reading sees it,
-- core.address_text_norms) or its stored reading.
-- (addr_gaz_change, addr_gaz_flipped: address_house_keep.sql.) The houses not read again are in addr_houses as
-- stored, so only those read again and those gone can differ.
CREATE OR REPLACE TEMP TABLE addr_house_change AS
WITH now AS (
    SELECT house_code, road, road_no, compound, building, unit, floor, room, community_code, street_code,
           district_code
    FROM addr_houses SEMI JOIN addr_house_redo USING (house_code)
), was AS (
    SELECT house_code, road, road_no, compound, building, unit, floor, room, community_code, street_code,
           district_code
    FROM core.address_house_reads r
    WHERE house_code IN (SELECT house_code FROM addr_house_redo)
       OR house_code NOT IN (SELECT house_code FROM core.houses)
)
(SELECT * FROM was EXCEPT SELECT * FROM now)
UNION ALL
(SELECT * FROM now EXCEPT SELECT * FROM was);

CREATE OR REPLACE TEMP TABLE addr_needles AS
SELECT DISTINCT needle FROM (
    SELECT left(compound, 2) AS needle FROM addr_house_change
    UNION ALL
    SELECT road FROM addr_house_change
    UNION ALL
    SELECT a.spelling_key
    FROM quality.active_address_aliases a
    WHERE (a.kind = 'compound' AND a.target_key IN (SELECT compound FROM addr_house_change))
       OR (a.kind = 'road' AND a.target_key IN (SELECT road FROM addr_house_change))
       OR (a.kind = 'house' AND a.target_key IN (SELECT house_code FROM addr_house_change))
    UNION ALL
    SELECT name FROM addr_gaz_change
)
WHERE nullif(needle, '') IS NOT NULL;

-- One pattern of every needle (address_delta.sql looks for any of them in each text at once).
SET VARIABLE addr_reach_re = (SELECT string_agg(regexp_escape(needle), '|' ORDER BY needle) FROM addr_needles);
