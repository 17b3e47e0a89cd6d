-- The as-of tables every output reads (reports, person lists, extracts, portal pages), built once per build for
-- D: marts.persons, one row per person with a status on D placed in their house, micro-grid and grid
-- (marts.houses, marts.grids: sql/marts/places.sql), with the category, flags and attributes outputs print.
-- Outputs count and list from these and never re-derive a status (pipelines/publish/grants.py prepare() copies
-- them for a jurisdiction).
--
-- The view persons_rows is every person's row, or with variable marts_delta only those of TEMP _marts_delta
-- (an incremental build, sql/marts/delta.sql); pipelines/marts/__init__.py stores it whole or adds it.
CREATE TEMP TABLE IF NOT EXISTS _marts_delta (person_key VARCHAR);
CREATE OR REPLACE TEMP MACRO in_marts_delta(k) AS
    getvariable('marts_delta') IS NOT TRUE OR k IN (SELECT person_key FROM _marts_delta);

-- Source rows tied to their person, for the templates whose attributes outputs read beyond core.evidence
-- (tags and phone, disability, assistance, floating registrations). core.evidence already holds every
-- linked row with its person and record_id (a floating row twice: its registration is the 'presence'
-- one). Staging rows find theirs by record_id(batch_no, row_no) (sql/macros/keys.sql): an integer join,
-- where (batch_id, row_no) would compare 64-character batch ids row by row.
CREATE OR REPLACE TEMP TABLE mp_links AS
SELECT template, record_id, person_key
FROM core.evidence
WHERE (template IN ('residents', 'assistance', 'disability') OR (template = 'floating' AND kind = 'presence'))
  AND in_marts_delta(person_key);

-- "Newest row" as one number: the date, then the later batch and row (record_id grows with both);
-- arg_max over a struct key costs several times more over a million persons. Multiplied by 2^64, not
-- shifted: a date before 1900 (a typo) is a negative day, which DuckDB refuses to shift.
CREATE OR REPLACE TEMP MACRO newest_key(d, record_id) AS
    (coalesce(d, DATE '1900-01-01') - DATE '1900-01-01')::HUGEINT * 18446744073709551616 + record_id;

CREATE OR REPLACE TEMP VIEW persons_rows AS
WITH st AS (
    SELECT person_key, status, category, registered, house_code, microgrid_code, basis, decision_key
    FROM core.person_status
    WHERE as_of = getvariable('as_of')
      AND in_marts_delta(person_key)
),
res AS (
    -- Tags and phone come from the newest residents row the grid worker collected on or before D
    -- (ties: the later batch, then the later row). Consent to publish the phone (公开联系方式) is read
    -- from the same row as the phone: a new number is not published on an old consent.
    SELECT k.person_key,
           arg_max(s.tags, newest_key(s.collected_on, k.record_id)) AS tags,
           arg_max(s.phone, newest_key(s.collected_on, k.record_id)) FILTER (WHERE s.phone IS NOT NULL) AS phone,
           arg_max(s.phone_public, newest_key(s.collected_on, k.record_id))
               FILTER (WHERE s.phone IS NOT NULL) AS phone_public
    FROM staging.residents s
    JOIN raw.batches b USING (batch_id)
    JOIN mp_links k ON k.template = 'residents' AND k.record_id = record_id(b.batch_no, s.row_no)
    WHERE s.collected_on <= getvariable('as_of')
    GROUP BY k.person_key
),
dis AS (
    SELECT DISTINCT k.person_key
    FROM staging.disability s
    JOIN raw.batches b USING (batch_id)
    JOIN mp_links k ON k.template = 'disability' AND k.record_id = record_id(b.batch_no, s.row_no)
    WHERE s.issued_on IS NULL OR s.issued_on <= getvariable('as_of')
),
aid AS (
    SELECT k.person_key, list(DISTINCT s.assistance_type ORDER BY s.assistance_type) AS assistance_types
    FROM staging.assistance s
    JOIN raw.batches b USING (batch_id)
    JOIN mp_links k ON k.template = 'assistance' AND k.record_id = record_id(b.batch_no, s.row_no)
    WHERE s.start_date <= getvariable('as_of') AND (s.end_date IS NULL OR s.end_date >= getvariable('as_of'))
    GROUP BY k.person_key
),
flo AS (
    -- the newest police registration on or before D supplies origin, reason and permit
    SELECT k.person_key,
           arg_max(s.origin, newest_key(s.registered_on, k.record_id)) AS origin,
           max(s.registered_on) AS registered_on,
           arg_max(s.stay_reason, newest_key(s.registered_on, k.record_id)) AS stay_reason,
           arg_max(s.permit_valid_until, newest_key(s.registered_on, k.record_id)) AS permit_valid_until
    FROM staging.floating s
    JOIN raw.batches b USING (batch_id)
    JOIN mp_links k ON k.template = 'floating' AND k.record_id = record_id(b.batch_no, s.row_no)
    WHERE s.registered_on <= getvariable('as_of')
    GROUP BY k.person_key
),
first_presence AS (
    SELECT person_key, min(evidence_date) AS first_presence
    FROM core.evidence
    WHERE kind = 'presence' AND evidence_date <= getvariable('as_of') AND in_marts_delta(person_key)
    GROUP BY person_key
),
decided AS (
    -- the record that decided the status, cited as explain and the status basis cite it (a floating row is two
    -- evidence rows with one record_key: the one of the kind that decided)
    SELECT st.person_key,
           arg_min({'source': e.source_label, 'ref': evidence_ref(e), 'date': e.evidence_date},
                   {'kind': e.kind IS DISTINCT FROM CASE st.status WHEN '死亡' THEN 'death'
                                                                   WHEN '已离开' THEN 'departure'
                                                                   ELSE 'presence' END,
                    'date': e.evidence_date, 'row': e.row_no}) AS ev
    FROM st
    JOIN core.evidence e ON e.record_key = st.decision_key AND e.person_key = st.person_key
    GROUP BY st.person_key
)
SELECT getvariable('as_of')::DATE AS as_of,
       p.person_key, p.name, p.id_number, p.sex, p.birth_date,
       CASE WHEN p.birth_date <= getvariable('as_of')
            THEN date_sub('year', p.birth_date, getvariable('as_of')::DATE) END::INTEGER AS age,
       st.status, st.category, st.registered,
       st.house_code, h.std_address, h.compound, h.building, h.usage, h.occupancy,
       g.microgrid_code, g.microgrid_name, g.grid_code, g.grid_name, g.grid_type,
       g.community_code, g.community_name, g.street_code, g.street_name, g.district_code, g.district_name,
       coalesce(res.tags, []::VARCHAR[]) AS tags, res.phone, coalesce(res.phone_public = '是', false) AS phone_public,
       dis.person_key IS NOT NULL AS disabled,
       coalesce(aid.assistance_types, []::VARCHAR[]) AS assistance_types,
       list_has_any(coalesce(aid.assistance_types, []), ['城市低保', '农村低保']) AS dibao,
       list_contains(coalesce(aid.assistance_types, []), '特困供养') AS tekun,
       list_contains(coalesce(res.tags, []), '独居老人') AS living_alone,
       list_contains(coalesce(res.tags, []), '党员') AS party_member,
       fp.first_presence, CASE WHEN st.status IN ('已离开', '死亡') THEN d.ev.date END AS decided_on,
       flo.origin AS floating_origin, flo.registered_on AS floating_registered_on,
       flo.stay_reason AS floating_stay_reason, flo.permit_valid_until AS floating_permit_valid_until,
       st.basis, st.decision_key, d.ev.source AS decision_source, d.ev.ref AS decision_ref,
       d.ev.date AS decision_date
FROM st
JOIN core.persons p USING (person_key)
LEFT JOIN marts.houses h ON h.house_code = st.house_code
LEFT JOIN marts.grids g ON g.microgrid_code = coalesce(st.microgrid_code, h.microgrid_code)
LEFT JOIN res USING (person_key)
LEFT JOIN dis USING (person_key)
LEFT JOIN aid USING (person_key)
LEFT JOIN flo USING (person_key)
LEFT JOIN first_presence fp USING (person_key)
LEFT JOIN decided d USING (person_key);

-- Disability records known on D with the person each links to (none: 残联 should know its register has an
-- unplaceable entry).
CREATE OR REPLACE TABLE marts.disability_records AS
SELECT getvariable('as_of')::DATE AS as_of, s.record_no, s.disability_cert_no, s.id_number, s.name,
       s.disability_type, s.disability_grade, k.person_key
FROM staging.disability s
JOIN raw.batches b USING (batch_id)
LEFT JOIN core.evidence k ON k.template = 'disability' AND k.record_id = record_id(b.batch_no, s.row_no)
WHERE s.issued_on IS NULL OR s.issued_on <= getvariable('as_of');
