-- Stable person keys. A person keeps the key registered for its valid ID, else a key
-- registered for one of its records; contested keys go to the strongest claim (an ID beats
-- a record, then the smallest anchor). Variables: run_date.
CREATE TABLE IF NOT EXISTS core.person_key_registry (
    person_key VARCHAR NOT NULL,
    anchor_kind VARCHAR NOT NULL,   -- 'id' (a valid ID number) or 'record' (a record_key)
    anchor VARCHAR NOT NULL,
    issued_on DATE NOT NULL
);

CREATE OR REPLACE TABLE scratch.link_clusters AS
SELECT cluster_id, min(id_anchor) AS id_anchor FROM _link_all GROUP BY cluster_id;

CREATE OR REPLACE TABLE scratch.link_claims AS
SELECT cluster_id, person_key, prio, anchor FROM (
    SELECT c.cluster_id, g.person_key, 0 AS prio, g.anchor
    FROM scratch.link_clusters c JOIN core.person_key_registry g ON g.anchor_kind = 'id' AND g.anchor = c.id_anchor
    UNION ALL
    SELECT l.cluster_id, g.person_key, 1 AS prio, g.anchor
    FROM _link_all l JOIN core.person_key_registry g ON g.anchor_kind = 'record' AND g.anchor = l.record_key
)
QUALIFY row_number() OVER (PARTITION BY cluster_id, person_key ORDER BY prio, anchor) = 1;

CREATE OR REPLACE TABLE scratch.link_keys AS
SELECT cluster_id, person_key FROM (
    SELECT * FROM scratch.link_claims
    QUALIFY row_number() OVER (PARTITION BY person_key ORDER BY prio, anchor, cluster_id) = 1
)
QUALIFY row_number() OVER (PARTITION BY cluster_id ORDER BY prio, person_key) = 1;

-- Second round: a cluster that lost its claims may take a key its winner did not use.
INSERT INTO scratch.link_keys
SELECT cluster_id, person_key FROM (
    SELECT * FROM scratch.link_claims c
    WHERE c.cluster_id NOT IN (SELECT cluster_id FROM scratch.link_keys)
      AND c.person_key NOT IN (SELECT person_key FROM scratch.link_keys)
    QUALIFY row_number() OVER (PARTITION BY person_key ORDER BY prio, anchor, cluster_id) = 1
)
QUALIFY row_number() OVER (PARTITION BY cluster_id ORDER BY prio, person_key) = 1;

INSERT INTO scratch.link_keys
SELECT c.cluster_id,
       'P' || lpad(CAST(
           (SELECT coalesce(max(CAST(substr(person_key, 2) AS BIGINT)), 0) FROM core.person_key_registry)
           + row_number() OVER (ORDER BY c.cluster_id) AS VARCHAR), 10, '0')
FROM scratch.link_clusters c ANTI JOIN scratch.link_keys a USING (cluster_id);

-- The anchors this run adds (_registered: also what an incremental run adds to its closure's edges,
-- identity_edges_add.sql).
CREATE OR REPLACE TEMP TABLE _registered AS
SELECT n.person_key, 'id' AS anchor_kind, n.anchor, getvariable('run_date') AS issued_on
FROM (
    SELECT DISTINCT a.person_key, c.id_anchor AS anchor
    FROM scratch.link_keys a JOIN scratch.link_clusters c USING (cluster_id)
    WHERE c.id_anchor IS NOT NULL
) n
ANTI JOIN (SELECT person_key, anchor FROM core.person_key_registry WHERE anchor_kind = 'id') g
    USING (person_key, anchor);

-- Persons known only from records are anchored on every record, so they keep their key
-- even when the founding record is later corrected or moves to another person.
INSERT INTO _registered
SELECT n.person_key, 'record', n.anchor, getvariable('run_date')
FROM (
    SELECT a.person_key, l.record_key AS anchor
    FROM scratch.link_keys a JOIN scratch.link_clusters c USING (cluster_id) JOIN _link l USING (cluster_id)
    WHERE c.id_anchor IS NULL
) n
ANTI JOIN (SELECT person_key, anchor FROM core.person_key_registry WHERE anchor_kind = 'record') g
    USING (person_key, anchor);

INSERT INTO core.person_key_registry SELECT * FROM _registered;
