-- core.person_records: every loaded row of a person-bearing template in one schema,
-- the input of identity resolution and of the evidence table.
-- house_code is the stated 房屋编码 when it is a known house, else the house its free-text
-- address matched (core.address_matches); an unknown stated code is never trusted.
-- Birth date and sex come from a valid ID first: the stated ones are typed by hand.
-- record_id is the compact join key (sql/macros/keys.sql); record_key the readable one.
-- Not sorted: nothing reads it in table order, and at 21M persons the sort of 56M wide rows spilled.
-- The columns after event_date are what the row says about its person (read by core.evidence):
-- stated_house_code as written, outcome (人员类别, 走访结果, 户籍状态 or 救助类别), and the
-- floating registration's dates, so evidence needs no second pass over the staging tables.
--
-- A view, read whole by core/person_records_build.sql (a full build) or, with variable records_delta, only for the
-- batches of TEMP _records_batches and the records of TEMP _records_dirty by core/person_records_delta.sql (an
-- incremental build: pipelines/records.py). The delta's rows are chosen in each staging table, before the joins
-- with raw.batches, core.houses and core.address_matches (a filter after them joined every row of the store):
-- TEMP _records_scan holds the batches read (a full build: every batch), a semi join that DuckDB pushes into the
-- scans, so row groups of other batches are skipped; the records of a batch read for a few are chosen below.
CREATE OR REPLACE TEMP TABLE _records_batches (batch_id VARCHAR);
CREATE OR REPLACE TEMP TABLE _records_dirty (record_id BIGINT);
CREATE OR REPLACE TEMP TABLE _records_scan (batch_id VARCHAR);
CREATE OR REPLACE TEMP VIEW person_record_rows AS
WITH rows AS (
    SELECT 'residents' AS template, batch_id, row_no, record_no, name, name_raw,
           id_number, id_raw, id_valid, id_problem, id_birth_date, id_sex, birth_date, sex, house_code,
           NULL::VARCHAR AS address, collected_on AS event_date,
           category AS outcome, NULL::DATE AS registered_on, NULL::DATE AS permit_valid_until,
           NULL::DATE AS deregistered_on, NULL::VARCHAR AS deregistration_reason, NULL::DATE AS end_date
    FROM staging.residents WHERE batch_id IN (SELECT batch_id FROM _records_scan)
    UNION ALL BY NAME
    SELECT 'visits' AS template, batch_id, row_no, record_no, name, name_raw,
           id_number, id_raw, id_valid, id_problem, id_birth_date, id_sex, house_code, visit_date AS event_date,
           visit_result AS outcome
    FROM staging.visits WHERE batch_id IN (SELECT batch_id FROM _records_scan)
    UNION ALL BY NAME
    SELECT 'hukou' AS template, batch_id, row_no, record_no, name, name_raw,
           id_number, id_raw, id_valid, id_problem, id_birth_date, id_sex, birth_date, sex,
           hukou_address AS address, change_date AS event_date, hukou_status AS outcome
    FROM staging.hukou WHERE batch_id IN (SELECT batch_id FROM _records_scan)
    UNION ALL BY NAME
    SELECT 'floating' AS template, batch_id, row_no, record_no, name, name_raw,
           id_number, id_raw, id_valid, id_problem, id_birth_date, id_sex, birth_date, sex, house_code,
           current_address AS address, registered_on AS event_date,
           registered_on, permit_valid_until, deregistered_on, deregistration_reason
    FROM staging.floating WHERE batch_id IN (SELECT batch_id FROM _records_scan)
    UNION ALL BY NAME
    SELECT 'assistance' AS template, batch_id, row_no, record_no, name, name_raw,
           id_number, id_raw, id_valid, id_problem, id_birth_date, id_sex, address, start_date AS event_date,
           assistance_type AS outcome, end_date
    FROM staging.assistance WHERE batch_id IN (SELECT batch_id FROM _records_scan)
    UNION ALL BY NAME
    SELECT 'deaths' AS template, batch_id, row_no, record_no, name, name_raw,
           id_number, id_raw, id_valid, id_problem, id_birth_date, id_sex, death_date AS event_date
    FROM staging.deaths WHERE batch_id IN (SELECT batch_id FROM _records_scan)
    UNION ALL BY NAME
    SELECT 'disability' AS template, batch_id, row_no, record_no, name, name_raw,
           id_number, id_raw, id_valid, id_problem, id_birth_date, id_sex, issued_on AS event_date
    FROM staging.disability WHERE batch_id IN (SELECT batch_id FROM _records_scan)
)
SELECT record_key(r.template, b.batch_no, r.row_no) AS record_key,
       record_id(b.batch_no, r.row_no) AS record_id,
       r.template, r.batch_id, r.row_no, r.record_no,
       r.name, r.name_raw, r.id_number, r.id_raw, r.id_valid, r.id_problem,
       coalesce(r.id_birth_date, r.birth_date) AS birth_date,
       coalesce(r.id_sex, r.sex) AS sex,
       CASE WHEN h.house_code IS NOT NULL THEN h.house_code
            ELSE address_house(m.match_status, m.house_code) END AS house_code,
       CASE WHEN h.house_code IS NOT NULL THEN 'stated'
            WHEN m.match_status = 'matched' THEN 'address' END AS house_source,
       r.address, r.event_date,
       r.house_code AS stated_house_code, r.outcome, r.registered_on, r.permit_valid_until,
       r.deregistered_on, r.deregistration_reason, r.end_date
FROM rows r
LEFT JOIN raw.batches b USING (batch_id)
LEFT JOIN core.houses h ON h.house_code = r.house_code
LEFT JOIN core.address_matches m ON m.record_id = record_id(b.batch_no, r.row_no)
WHERE getvariable('records_delta') IS NOT TRUE
   OR r.batch_id IN (SELECT batch_id FROM _records_batches)
   OR (b.batch_no IN (SELECT DISTINCT record_id >> 32 FROM _records_dirty)
       AND record_id(b.batch_no, r.row_no) IN (SELECT record_id FROM _records_dirty));
