-- staging.disability (残疾人): the loaded rows of raw.disability, typed and normalised (docs/architecture.md).
-- Column types follow sources/disability.yaml; the expressions are in _columns.sql.
{% import 'staging/_columns.sql' as c with context %}
{{ c.create_table() }}
WITH typed AS (
    SELECT r.batch_id, r.row_no,
           {{ c.col('record_no') }},
           {{ c.col('id_number') }},
           {{ c.col('name') }},
           {{ c.col('disability_type') }},
           {{ c.col('disability_grade') }},
           {{ c.col('disability_cert_no') }},
           {{ c.col('issued_on') }},
           r.loaded_on
    FROM {{ c.loaded_rows() }} r
), checked AS (
    SELECT typed.*, {{ c.id_check('id_number') }}
    FROM typed
), family AS (
    SELECT checked.* EXCLUDE (loaded_on), {{ c.id_family('id_number') }}
    FROM checked
)
SELECT *
FROM family;
