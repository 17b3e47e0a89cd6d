-- One snapshot per grid for this build (variables as_of, built_at), appended to core.grid_history: the
-- series of 登记人口 − 实有人口 and of the verify tasks that the progress report draws. Every grid of
-- core.grids, zeros included, as in grid-population.
INSERT INTO core.grid_history
WITH grid AS (
    SELECT DISTINCT grid_code FROM core.grids
),
people AS (
    -- a grid's persons all have a house, so its 待核实 are those the verify tasks can visit
    SELECT grid_code, registered, resident AS verified, unverified
    FROM marts.population_by_grid
    WHERE as_of = getvariable('as_of') AND grid_code IS NOT NULL
),
tasks AS (
    SELECT grid_code,
           count(*) FILTER (WHERE kind = 'verify' AND state = 'open') AS verify_open,
           count(*) FILTER (WHERE kind = 'verify' AND overdue) AS verify_overdue,
           count(*) FILTER (WHERE kind = 'verify' AND state = 'closed') AS verify_closed,
           count(*) FILTER (WHERE kind = 'deregister' AND state = 'open') AS deregister_open
    FROM marts.tasks
    WHERE grid_code IS NOT NULL
    GROUP BY grid_code
)
SELECT getvariable('as_of')::DATE, getvariable('built_at')::TIMESTAMP, g.grid_code,
       coalesce(p.registered, 0), coalesce(p.verified, 0), coalesce(p.unverified, 0),
       coalesce(t.verify_open, 0), coalesce(t.verify_overdue, 0), coalesce(t.verify_closed, 0),
       coalesce(t.deregister_open, 0)
FROM grid g
LEFT JOIN people p USING (grid_code)
LEFT JOIN tasks t USING (grid_code);
