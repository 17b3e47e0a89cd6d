{#- The blocking keys of identity.yaml (`blocking`) as the two macros that must agree on them, rendered by
    pipelines/identity/model.py (blocking_macros): the pairs the probabilistic pass scores and the records an
    incremental run's closure grows by. A key's `within_street`: its pairs are in one street (or either of no
    known street); a key with a NULL part blocks nothing (the pairs are equality joins). -#}
{%- macro col(t, c) -%}{{ 'year(' ~ t ~ '.birth_date)' if c == 'birth_year' else t ~ '.' ~ c }}{%- endmacro -%}
-- The sid pairs (a, b) of table `side` (sql/core/identity_candidates.sql's _block_side) sharing a blocking key: each
-- undecided record with every identified one and every undecided one of a larger sid.
CREATE OR REPLACE TEMP MACRO identity_block_hits(side) AS TABLE
WITH u AS (SELECT * FROM query_table(side) WHERE NOT resolved)
{% for key in blocking %}
{{ 'UNION ALL\n' if not loop.first }}SELECT u.sid AS a, s.sid AS b  -- {{ key.key }}
FROM u JOIN query_table(side) s ON {% for c in key.columns %}{{ ' AND ' if not loop.first }}s.{{ c }} = u.{{ c }}{% endfor %}{{ '\n AND (s.street_code = u.street_code OR u.street_code IS NULL OR s.street_code IS NULL)' if key.get("within_street") }}
WHERE s.resolved OR s.sid > u.sid
{% endfor %};

-- The records of `records` the pairs above join with a row of `probes` (both with street_code, as _link_inputs
-- has it): what an incremental run's closure grows by (identity_closure*.sql).
CREATE OR REPLACE TEMP MACRO identity_blocked(records, probes) AS TABLE
SELECT r.* FROM query_table(records) r
WHERE false
{% for key in blocking %}
{% set cols = key.columns %}
{% set tuple_r %}({% for c in cols %}{{ ', ' if not loop.first }}{{ col('r', c) }}{% endfor %}){% endset %}
{% set tuple_p %}({% for c in cols %}{{ ', ' if not loop.first }}{{ col('p', c) }}{% endfor %}){% endset %}
   OR ({% for c in cols %}{{ col('r', c) }} IS NOT NULL AND {% endfor %}(  -- {{ key.key }}
{% if key.get("within_street") %}
          ({{ tuple_r[1:-1] }}, r.street_code) IN (SELECT ({{ tuple_p[1:-1] }}, p.street_code) FROM query_table(probes) p)
       OR {{ tuple_r }} IN (SELECT {{ tuple_p }} FROM query_table(probes) p WHERE p.street_code IS NULL)
       OR (r.street_code IS NULL AND {{ tuple_r }} IN (SELECT {{ tuple_p }} FROM query_table(probes) p))))
{% else %}
          {{ tuple_r }} IN (SELECT {{ tuple_p }} FROM query_table(probes) p)))
{% endif %}
{% endfor %};
