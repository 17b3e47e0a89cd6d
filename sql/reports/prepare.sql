-- The as-of view every report and extract reads: one row per person with a status on D, placed in
-- its house, micro-grid and the division columns of core.grids (the hierarchy never comes from codes).
-- Built once per render as TEMP tables so a report never re-derives status itself.
CREATE OR REPLACE TEMP TABLE rp_grids AS
SELECT microgrid_code, microgrid_name, grid_code, grid_name, grid_type, community_code, community_name,
       street_code, street_name, district_code, district_name, grid_worker, grid_worker_phone
FROM core.grids;

CREATE OR REPLACE TEMP TABLE rp_houses AS
SELECT h.house_code, h.microgrid_code, h.std_address, h.compound, h.building, h.usage, h.occupancy
FROM core.houses h;

-- Source rows tied to their person, for the templates whose attributes reports read beyond core.evidence
-- (tags and phone, disability, assistance, floating registrations). core.evidence already holds every
-- linked row with its person and record_id (a floating row twice: its registration is the 'presence'
-- one). Staging rows find theirs by record_id(batch_no, row_no) (sql/macros/keys.sql): an integer join,
-- where (batch_id, row_no) would compare 64-character batch ids row by row.
CREATE OR REPLACE TEMP TABLE rp_links AS
SELECT template, record_id, person_key
FROM core.evidence
WHERE template IN ('residents', 'assistance', 'disability') OR (template = 'floating' AND kind = 'presence');

CREATE OR REPLACE TEMP TABLE rp_batches AS
SELECT batch_id, batch_no FROM raw.batches;

-- "Newest row" as one number: the date, then the later batch and row (record_id grows with both);
-- arg_max over a struct key costs several times more over a million persons. Multiplied by 2^64, not
-- shifted: a date before 1900 (a typo) is a negative day, which DuckDB refuses to shift.
CREATE OR REPLACE TEMP MACRO rp_newest_key(d, record_id) AS
    (coalesce(d, DATE '1900-01-01') - DATE '1900-01-01')::HUGEINT * 18446744073709551616 + record_id;

CREATE OR REPLACE TEMP TABLE rp_persons AS
WITH st AS (
    SELECT person_key, status, category, registered, house_code, microgrid_code
    FROM core.person_status
    WHERE as_of = getvariable('as_of')
),
res AS (
    -- Tags and phone come from the newest residents row the grid worker collected on or before D
    -- (ties: the later batch, then the later row). Consent to publish the phone (公开联系方式) is read
    -- from the same row as the phone: a new number is not published on an old consent.
    SELECT k.person_key,
           arg_max(s.tags, rp_newest_key(s.collected_on, k.record_id)) AS tags,
           arg_max(s.phone, rp_newest_key(s.collected_on, k.record_id)) FILTER (WHERE s.phone IS NOT NULL) AS phone,
           arg_max(s.phone_public, rp_newest_key(s.collected_on, k.record_id))
               FILTER (WHERE s.phone IS NOT NULL) AS phone_public
    FROM staging.residents s
    JOIN rp_batches b USING (batch_id)
    JOIN rp_links k ON k.template = 'residents' AND k.record_id = record_id(b.batch_no, s.row_no)
    WHERE s.collected_on <= getvariable('as_of')
    GROUP BY k.person_key
),
dis AS (
    SELECT DISTINCT k.person_key
    FROM staging.disability s
    JOIN rp_batches b USING (batch_id)
    JOIN rp_links k ON k.template = 'disability' AND k.record_id = record_id(b.batch_no, s.row_no)
    WHERE s.issued_on IS NULL OR s.issued_on <= getvariable('as_of')
),
aid AS (
    SELECT k.person_key, list(DISTINCT s.assistance_type ORDER BY s.assistance_type) AS assistance_types
    FROM staging.assistance s
    JOIN rp_batches b USING (batch_id)
    JOIN rp_links k ON k.template = 'assistance' AND k.record_id = record_id(b.batch_no, s.row_no)
    WHERE s.start_date <= getvariable('as_of') AND (s.end_date IS NULL OR s.end_date >= getvariable('as_of'))
    GROUP BY k.person_key
)
SELECT p.person_key, p.name, p.id_number, p.sex, p.birth_date,
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
       list_contains(coalesce(res.tags, []), '党员') AS party_member
FROM st
JOIN core.persons p USING (person_key)
LEFT JOIN rp_houses h ON h.house_code = st.house_code
LEFT JOIN rp_grids g ON g.microgrid_code = coalesce(st.microgrid_code, h.microgrid_code)
LEFT JOIN res USING (person_key)
LEFT JOIN dis USING (person_key)
LEFT JOIN aid USING (person_key);
