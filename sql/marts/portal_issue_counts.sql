-- marts.portal_issue_counts: the steward queue's size by community, status and rule (the portal's home page,
-- the queue page's rule list and total). A query (see portal_areas.sql).
SELECT community_code, status, rule, count(*) AS n FROM quality.issues GROUP BY ALL
