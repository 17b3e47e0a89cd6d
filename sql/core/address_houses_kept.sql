-- An incremental build's houses not read again (address_house_keep.sql): as the last build read them
-- (core.address_house_reads), after the houses read now (address_houses.sql), numbered on from them.
INSERT INTO addr_houses
SELECT (SELECT coalesce(max(hid), 0) FROM addr_houses) + row_number() OVER () AS hid,
       r.house_code, r.road, r.road_no, r.compound, r.building, r.unit, r.floor, r.room,
       r.community_code, r.street_code, r.district_code, r.batch_id, r.row_no, r.norm
FROM core.address_house_reads r
SEMI JOIN core.houses h USING (house_code)
ANTI JOIN addr_house_redo d USING (house_code);
