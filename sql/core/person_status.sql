-- core.person_status: one row per person with evidence on or before D (status_rules.sql must
-- have been run on this connection with the same variables; core/status_release.sql follows).
CREATE OR REPLACE TABLE core.person_status AS
SELECT * FROM status_result;
