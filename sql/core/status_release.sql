-- After status_result has been stored (core/person_status.sql whole or for _status_delta, or a report's TEMP table:
-- pipelines.status.status_at):
-- the steps hold a row per person: free the memory now rather than when the connection closes.
DROP VIEW status_result;
DROP TABLE status_newest;
DROP TABLE status_facts;
DROP TABLE status_death;
DROP TABLE status_departure;
DROP TABLE status_p;
DROP TABLE IF EXISTS _status_delta;
DROP TABLE IF EXISTS _status_evidence_delta;
