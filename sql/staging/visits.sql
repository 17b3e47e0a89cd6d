-- staging.visits (走访记录): the loaded rows of raw.visits, typed and normalised (docs/architecture.md).
-- Column types follow sources/visits.yaml; the expressions are in _columns.sql.
{% import 'staging/_columns.sql' as c with context %}
{{ c.create_table() }}
WITH typed AS (
    SELECT r.batch_id, r.row_no,
           {{ c.col('record_no') }},
           {{ c.col('house_code') }},
           {{ c.col('name') }},
           {{ c.col('id_number') }},
           {{ c.col('visit_date') }},
           {{ c.col('visit_result') }},
           {{ c.col('grid_worker') }},
           {{ c.col('remark') }},
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
