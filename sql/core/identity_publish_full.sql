-- A full linkage run's tables, written whole (what they hold: identity_publish.sql).
-- record_id beside record_key: evidence and the marts join on it (sql/macros/keys.sql)
CREATE OR REPLACE TABLE core.person_links AS
SELECT record_key, record_id, person_key, rule, score FROM scratch.link_final;

CREATE OR REPLACE TABLE core.persons AS SELECT * FROM _persons_new;
CREATE OR REPLACE TABLE core.link_candidates AS SELECT * FROM _candidates_new ORDER BY record_key, rank;
CREATE OR REPLACE TABLE core.link_comparisons AS SELECT * FROM _comparisons_new;

CREATE OR REPLACE VIEW core.link_comparison_levels AS
SELECT c.record_key, c.other_record_key, c.role, v.position, v.comparison, v.title, v.key, v.label AS level,
       v.m, v.u, v.weight
FROM core.link_comparisons c
JOIN core.link_levels v ON v.position = 0 OR v.level = c.levels[v.position];

-- Every link row may have changed: a NULL record_key tells core/evidence_delta.sql to compare them all.
CREATE OR REPLACE TABLE scratch.link_delta AS SELECT NULL::VARCHAR AS record_key;
