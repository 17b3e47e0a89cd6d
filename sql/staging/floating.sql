-- staging.floating (流动人口): the loaded rows of raw.floating, typed and normalised (docs/architecture.md).
-- Column types follow sources/floating.yaml; the expressions are in _columns.sql.
{% import 'staging/_columns.sql' as c with context %}
{{ c.create_table() }}
WITH typed AS (
    SELECT r.batch_id, r.row_no,
           {{ c.col('record_no') }},
           {{ c.col('id_number') }},
           {{ c.col('name') }},
           {{ c.col('sex') }},
           {{ c.col('birth_date') }},
           {{ c.col('origin') }},
           {{ c.col('current_address') }},
           {{ c.col('house_code') }},
           {{ c.col('registered_on') }},
           {{ c.col('stay_reason') }},
           {{ c.col('permit_no') }},
           {{ c.col('permit_valid_until') }},
           {{ c.col('deregistered_on') }},
           {{ c.col('deregistration_reason') }},
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
