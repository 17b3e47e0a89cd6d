-- marts.portal_dates: the as-of dates the store holds statuses for, for the portal's date choices: one row per
-- date, where core.person_status holds one per person (21M at city scale).
CREATE OR REPLACE TABLE marts.portal_dates AS
SELECT as_of, count(*) AS persons FROM core.person_status GROUP BY as_of;
