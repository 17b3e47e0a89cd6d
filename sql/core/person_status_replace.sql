-- The rows of core.person_status of the persons of _status_delta replaced by what status_rules.sql decided
-- for them (core/person_status_delta.sql; core/status_release.sql follows).
DELETE FROM core.person_status WHERE person_key IN (SELECT person_key FROM _status_delta);
INSERT INTO core.person_status SELECT * FROM status_result;
