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

-- A component holding both ends of a guarded pair (two members of one household chained together by
-- records that resemble each of them) is not merged either: its open records go to the stewards.
CREATE OR REPLACE TEMP TABLE _comp_conflict AS
SELECT DISTINCT c.comp
FROM _pair_sides g
JOIN _comp c ON c.record_key = g.record_key
JOIN _comp_info ci ON ci.comp = c.comp
LEFT JOIN _comp o ON o.record_key = g.other_key
LEFT JOIN _profiles p ON p.record_key = g.other_key
WHERE g.guard IS NOT NULL AND (o.comp = c.comp OR (ci.n_persons = 1 AND p.id_anchor = ci.id_anchor));

-- The best edge of each record inside its component: what it matched.
CREATE OR REPLACE TEMP TABLE _best_edge AS
SELECT e.record_key, e.other_key, e.match_probability, e.rule
FROM _uu_edges e
QUALIFY row_number() OVER (PARTITION BY e.record_key ORDER BY e.match_probability DESC, e.other_key) = 1;

CREATE OR REPLACE TEMP TABLE _comp_open AS
SELECT c.record_key, c.comp, ci.n_persons, ci.id_anchor, ci.founder, b.other_key, b.match_probability, b.rule,
       x.comp IS NOT NULL AS conflict
FROM _comp c
JOIN _comp_info ci USING (comp)
LEFT JOIN _comp_conflict x USING (comp)
LEFT JOIN _best_edge b USING (record_key)
ANTI JOIN _link l ON l.record_key = c.record_key;

INSERT INTO _link
SELECT record_key, id_anchor, rule, match_probability, other_key, id_anchor, 'id:' || id_anchor
FROM _comp_open WHERE n_persons = 1 AND NOT conflict;

-- The founder is 'kept_apart' instead of 'singleton' when the household guard kept it from a record it
-- would otherwise have joined (a guarded pair at or above the link threshold): it founds its own person
-- all the same, and the stewards are asked (identity_publish.sql).
INSERT INTO _link
SELECT o.record_key, NULL,
       CASE WHEN o.record_key <> o.founder THEN o.rule
            WHEN EXISTS (SELECT 1 FROM _pair_sides g WHERE g.record_key = o.record_key AND g.guard IS NOT NULL
                                   AND g.match_probability >= getvariable('link_threshold'))
            THEN 'kept_apart' ELSE 'singleton' END,
       CASE WHEN o.record_key = o.founder THEN NULL ELSE o.match_probability END,
       CASE WHEN o.record_key = o.founder THEN NULL ELSE o.other_key END,
       NULL,
       'rec:' || o.founder
FROM _comp_open o WHERE o.n_persons = 0 AND o.founder IS NOT NULL AND NOT o.conflict;

INSERT INTO _ambiguous
SELECT record_key FROM _comp_open WHERE n_persons > 1 OR conflict;
