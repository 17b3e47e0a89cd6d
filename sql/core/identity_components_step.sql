-- One round of min-label propagation over _uu_edges; run until _comp_changed is 0.
CREATE OR REPLACE TEMP TABLE _comp_next AS
SELECT c.record_key, least(c.comp, coalesce(min(n.comp), c.comp)) AS comp
FROM _comp c
LEFT JOIN _uu_edges e ON e.record_key = c.record_key
LEFT JOIN _comp n ON n.record_key = e.other_key
GROUP BY c.record_key, c.comp;

CREATE OR REPLACE TEMP TABLE _comp_changed AS
SELECT count(*) AS n FROM _comp_next x JOIN _comp c USING (record_key) WHERE x.comp <> c.comp;

CREATE OR REPLACE TEMP TABLE _comp AS SELECT * FROM _comp_next;
DROP TABLE _comp_next;
