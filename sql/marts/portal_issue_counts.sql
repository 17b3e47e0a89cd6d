-- marts.portal_issue_counts: the steward queue's size by community, status and rule (the portal's home page,
-- the queue page's rule list and total).
CREATE OR REPLACE TABLE marts.portal_issue_counts AS
SELECT community_code, status, rule, count(*) AS n FROM quality.issues GROUP BY ALL;
