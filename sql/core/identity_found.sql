-- Settle each component of undecided records (after identity_components_step.sql converged).
CREATE OR REPLACE TEMP TABLE _comp_info AS
SELECT
    c.comp,
    count(DISTINCT l.id_anchor) AS n_persons,
    min(l.id_anchor) AS id_anchor,
    -- A person may be founded by a record that says enough about who it is, from a
    -- template allowed to found persons.
    min(c.record_key) FILTER (
        WHERE NOT list_contains(getvariable('cannot_found_person'), i.template)
          AND i.name IS NOT NULL AND (i.house_code IS NOT NULL OR i.birth_date IS NOT NULL)
    ) AS founder
FROM _comp c
JOIN scratch.link_records i USING (record_key)
LEFT JOIN _link l USING (record_key)
GROUP BY c.comp;

-- The best edge of each record inside its component: what it matched.
CREATE OR REPLACE TEMP TABLE _best_edge AS
SELECT e.record_key, e.other_key, e.match_probability
FROM _uu_edges e
QUALIFY row_number() OVER (PARTITION BY e.record_key ORDER BY e.match_probability DESC, e.other_key) = 1;

CREATE OR REPLACE TEMP TABLE _comp_open AS
SELECT c.record_key, c.comp, ci.n_persons, ci.id_anchor, ci.founder, b.other_key, b.match_probability
FROM _comp c
JOIN _comp_info ci USING (comp)
LEFT JOIN _best_edge b USING (record_key)
ANTI JOIN _link l ON l.record_key = c.record_key;

INSERT INTO _link
SELECT record_key, id_anchor, 'name_match', match_probability, other_key, id_anchor, 'id:' || id_anchor
FROM _comp_open WHERE n_persons = 1;

INSERT INTO _link
SELECT record_key, NULL,
       CASE WHEN record_key = founder THEN 'singleton' ELSE 'name_match' END,
       CASE WHEN record_key = founder THEN NULL ELSE match_probability END,
       CASE WHEN record_key = founder THEN NULL ELSE other_key END,
       NULL,
       'rec:' || founder
FROM _comp_open WHERE n_persons = 0 AND founder IS NOT NULL;

INSERT INTO _ambiguous
SELECT record_key FROM _comp_open WHERE n_persons > 1;
