-- staging.housing (实有房屋): the loaded rows of raw.housing, typed and normalised (docs/architecture.md).
-- Column types follow sources/housing.yaml; the expressions are in _columns.sql.
{% import 'staging/_columns.sql' as c with context %}
{{ c.create_table() }}
WITH typed AS (
    SELECT r.batch_id, r.row_no,
           NULL::VARCHAR AS record_no,  -- this template has no 记录编号
           {{ c.col('house_code') }},
           {{ c.col('microgrid_code') }},
           {{ c.col('std_address') }},
           {{ c.col('compound') }},
           {{ c.col('building') }},
           {{ c.col('unit') }},
           {{ c.col('floor') }},
           {{ c.col('room') }},
           {{ c.col('usage') }},
           {{ c.col('occupancy') }},
           {{ c.col('owner_name') }},
           {{ c.col('owner_id_number') }},
           {{ c.col('collected_on') }},
           r.loaded_on
    FROM {{ c.loaded_rows() }} r
), checked AS (
    SELECT typed.*, {{ c.id_check('owner_id_number') }}
    FROM typed
), family AS (
    SELECT checked.* EXCLUDE (loaded_on), {{ c.id_family('owner_id_number') }}
    FROM checked
)
SELECT *
FROM family;
