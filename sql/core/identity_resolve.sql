-- Decide the undecided records from the scored pairs in _pairs (Splink output).
-- Variables: link_threshold, ambiguity_margin_bits, cannot_found_person (VARCHAR[]).

-- Every pair seen from each of its undecided sides.
CREATE OR REPLACE TEMP TABLE _pair_sides AS
SELECT s.* FROM (
    SELECT record_key_l AS record_key, record_key_r AS other_key, match_weight, match_probability, rule, guard
    FROM _pairs
    UNION ALL
    SELECT record_key_r, record_key_l, match_weight, match_probability, rule, guard FROM _pairs
) s SEMI JOIN _unresolved u ON u.record_key = s.record_key;

-- Identified persons each undecided record resembles, best profile per person, ranked.
-- Persons are ranked only after each is cut to its best profile: a rank taken over all
-- profiles would count one person twice (the runner-up person hidden at rank 3) and, on a
-- tie between two profiles of the same person, could leave it without a rank 1 at random.
-- A guarded pair (two members of one household) is no candidate at all: it neither links nor,
-- as a runner-up, makes the record ambiguous; it waits for the stewards (identity_publish.sql).
CREATE OR REPLACE TEMP TABLE _person_cands AS
SELECT *, row_number() OVER (PARTITION BY record_key ORDER BY match_weight DESC, id_anchor) AS person_rank
FROM (
    SELECT s.record_key, p.id_anchor, s.other_key, s.match_weight, s.match_probability, s.rule
    FROM _pair_sides s JOIN _profiles p ON p.record_key = s.other_key
    WHERE s.guard IS NULL
    QUALIFY row_number() OVER (PARTITION BY s.record_key, p.id_anchor ORDER BY s.match_weight DESC, s.other_key) = 1
);

-- Linked when the best person is likely enough and clearly ahead of the runner-up.
CREATE OR REPLACE TEMP TABLE _direct AS
SELECT c1.record_key, c1.id_anchor, c1.other_key, c1.match_probability, c1.rule,
       c2.match_weight IS NOT NULL
       AND c2.match_weight >= c1.match_weight - getvariable('ambiguity_margin_bits') AS ambiguous
FROM _person_cands c1
LEFT JOIN _person_cands c2 ON c2.record_key = c1.record_key AND c2.person_rank = 2
WHERE c1.person_rank = 1 AND c1.match_probability >= getvariable('link_threshold');

INSERT INTO _link
SELECT record_key, id_anchor, rule, match_probability, other_key, id_anchor, 'id:' || id_anchor
FROM _direct WHERE NOT ambiguous;

CREATE OR REPLACE TEMP TABLE _ambiguous AS
SELECT record_key FROM _direct WHERE ambiguous;

-- Undecided records that match each other form components (the same person seen twice
-- without an ID). Linked members carry their person to the rest of the component.
CREATE OR REPLACE TEMP TABLE _nodes AS
SELECT record_key FROM _unresolved ANTI JOIN _ambiguous USING (record_key);

-- Neither a guarded pair nor a pair whose names disagree or are missing (score_match) ties two
-- undecided records together: a record without a name would bridge two members of one household.
CREATE OR REPLACE TEMP TABLE _uu_edges AS
SELECT s.record_key, s.other_key, s.match_probability, s.rule
FROM _pair_sides s
SEMI JOIN _nodes a ON a.record_key = s.record_key
SEMI JOIN _nodes b ON b.record_key = s.other_key
WHERE s.match_probability >= getvariable('link_threshold') AND s.guard IS NULL AND s.rule <> 'score_match';

CREATE OR REPLACE TEMP TABLE _comp AS
SELECT record_key, record_key AS comp FROM _nodes;
