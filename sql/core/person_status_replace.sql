-- The rows of core.person_status of the persons of _status_delta replaced by what status_rules.sql decided
-- for them (core/person_status_delta.sql).
DELETE FROM core.person_status WHERE person_key IN (SELECT person_key FROM _status_delta);
INSERT INTO core.person_status SELECT * FROM status_result;

DROP VIEW status_result;
DROP TABLE status_newest;
DROP TABLE status_facts;
DROP TABLE status_death;
DROP TABLE status_departure;
DROP TABLE status_p;
DROP TABLE _status_delta;
