-- marts.grid_series: 登记人口 and 实有人口 per grid at every as-of a build recorded (core.grid_history), the
-- newest build's snapshot of each as-of: the series 走访核查进度 compares with and draws.
CREATE OR REPLACE TABLE marts.grid_series AS
SELECT as_of, grid_code, registered, verified
FROM core.grid_history
QUALIFY built_at = max(built_at) OVER (PARTITION BY as_of);
