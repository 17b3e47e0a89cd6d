-- staging.residents (实有人口): the loaded rows of raw.residents, typed and normalised (docs/architecture.md).
-- Column types follow sources/residents.yaml; the expressions are in _columns.sql.
{% import 'staging/_columns.sql' as c with context %}
{{ c.create_table() }}
WITH typed AS (
    SELECT r.batch_id, r.row_no,
           {{ c.col('record_no') }},
           {{ c.col('name') }},
           {{ c.col('id_number') }},
           {{ c.col('sex') }},
           {{ c.col('birth_date') }},
           {{ c.col('ethnicity') }},
           {{ c.col('phone') }},
           {{ c.col('house_code') }},
           {{ c.col('relation') }},
           {{ c.col('category') }},
           {{ c.col('tags') }},
           {{ c.col('collector') }},
           {{ c.col('collected_on') }},
           r.loaded_on
    FROM {{ c.loaded_rows() }} r
), checked AS (
    SELECT typed.*, {{ c.id_check('id_number') }}
    FROM typed
), family AS (
    SELECT checked.* EXCLUDE (loaded_on), {{ c.id_family('id_number') }}
    FROM checked
)
SELECT *,
       {{ c.conflicts() }}
FROM family;
