-- staging.grids (网格): the loaded rows of raw.grids, typed and normalised (docs/architecture.md).
-- Column types follow sources/grids.yaml; the expressions are in _columns.sql.
{% import 'staging/_columns.sql' as c with context %}
{{ c.create_table() }}
WITH typed AS (
    SELECT r.batch_id, r.row_no,
           NULL::VARCHAR AS record_no,  -- this template has no 记录编号
           {{ c.col('district_code') }},
           {{ c.col('district_name') }},
           {{ c.col('street_code') }},
           {{ c.col('street_name') }},
           {{ c.col('community_code') }},
           {{ c.col('community_name') }},
           {{ c.col('grid_code') }},
           {{ c.col('grid_name') }},
           {{ c.col('grid_type') }},
           {{ c.col('microgrid_code') }},
           {{ c.col('microgrid_name') }},
           {{ c.col('grid_worker') }},
           {{ c.col('grid_worker_phone') }},
           r.loaded_on
    FROM {{ c.loaded_rows() }} r
)
SELECT typed.* EXCLUDE (loaded_on)
FROM typed;
