-- staging.hukou (户籍人口): the loaded rows of raw.hukou, typed and normalised (docs/architecture.md).
-- Column types follow sources/hukou.yaml; the expressions are in _columns.sql.
{% import 'staging/_columns.sql' as c with context %}
{{ c.create_table() }}
WITH typed AS (
    SELECT r.batch_id, r.row_no,
           {{ c.col('record_no') }},
           {{ c.col('id_number') }},
           {{ c.col('name') }},
           {{ c.col('sex') }},
           {{ c.col('birth_date') }},
           {{ c.col('ethnicity') }},
           {{ c.col('household_no') }},
           {{ c.col('relation') }},
           {{ c.col('hukou_address') }},
           {{ c.col('hukou_status') }},
           {{ c.col('change_date') }},
           {{ c.col('change_reason') }},
           {{ c.col('police_station') }},
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
