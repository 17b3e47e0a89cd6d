-- core.person_status: one row per person with evidence on or before D (status_rules.sql must
-- have been run on this connection with the same variables).
CREATE OR REPLACE TABLE core.person_status AS
SELECT * FROM status_result;

-- the steps hold a row per person: free the memory now rather than when the connection closes
DROP VIEW status_result;
DROP TABLE status_newest;
DROP TABLE status_facts;
DROP TABLE status_death;
DROP TABLE status_departure;
DROP TABLE status_p;
