-- An incremental run's new edges (scratch.link_edges: identity_edges.sql), after it published: the links that are
-- new or moved to another person (_links_moved, identity_publish.sql), and the registry's new anchors
-- (_registered, identity_keys.sql) — a record's, or an ID's with every record of that valid ID. The closure's
-- other edges were there: a link it kept, a key anchored before. An edge no longer true stays (it only widens).
INSERT INTO scratch.link_edges
SELECT hash(record_key), hash(person_key) FROM _links_moved
UNION ALL
SELECT hash(anchor), hash(person_key) FROM _registered WHERE anchor_kind = 'record'
UNION ALL
SELECT hash(i.record_key), hash(g.person_key)
FROM _registered g JOIN _link_inputs i ON g.anchor_kind = 'id' AND g.anchor = i.id_number
WHERE i.id_valid;
