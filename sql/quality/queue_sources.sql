-- Steward-queue candidates from every source of problems, into TEMP q_candidates.
-- Run by pipelines.quality.queue.build_queue after it has pointed the q_* TEMP views at the
-- store's tables (or at empty stand-ins for tables a partial build has not written yet).
CREATE OR REPLACE TEMP TABLE q_candidates AS
-- 1. reader errors (minus cells a steward already fixed); an invalid ID that identity linked as a
--    one-digit typo of a known person's valid ID gets that ID as the suggested fix
SELECT 1 AS priority, 'row_error' AS source, e.rule,
       CASE e.severity WHEN 'reject' THEN 'error' ELSE 'warn' END AS severity,
       e.template, e.batch_id, e.row_no::INTEGER AS row_no, e.record_no, NULL::VARCHAR AS row_key,
       e.field, e.column_name, e.value, e.message, typo.id_number AS suggested_fix,
       NULL::VARCHAR AS house_code, NULL::VARCHAR AS microgrid_code, typo.person_key
FROM q_row_errors e
LEFT JOIN (
    SELECT r.template, r.batch_id, r.row_no, any_value(p.id_number) AS id_number, any_value(p.person_key) AS person_key
    FROM q_person_links l
    JOIN q_person_records r USING (record_key)
    JOIN q_persons p ON p.person_key = l.person_key
    WHERE l.rule = 'id_typo' AND p.id_number IS NOT NULL
    GROUP BY ALL
) typo ON e.rule = 'id_invalid' AND e.column_name = 'id_number'
      AND typo.template = e.template AND typo.batch_id = e.batch_id AND typo.row_no = e.row_no
UNION ALL
-- 2. failing rows of the expectation suites
SELECT 2, 'expectation', f.rule, CASE f.level WHEN 'structural' THEN 'error' ELSE 'warn' END,
       f.template, f.batch_id, f.row_no, f.record_no, f.row_key,
       coalesce(f.field, fn.field), f.column_name, f.value,
       trim(concat_ws('', coalesce(b.file_name, f.row_key), CASE WHEN f.row_no IS NOT NULL THEN ' 第' || f.row_no || '行' END,
                 CASE WHEN f.value IS NOT NULL THEN ' ' || coalesce(f.field, fn.field, '') || ' "' || f.value || '"' END,
                 '：', f.description)),
       NULL, f.house_code, f.microgrid_code, f.person_key
FROM q_expectation_failures f
LEFT JOIN q_batches b ON b.batch_id = f.batch_id
LEFT JOIN q_fields fn ON fn.template = f.template AND fn.column_name = f.column_name
UNION ALL
-- 3. records identity resolution left for a steward, with the most likely person's valid ID; and records
--    the household guard kept apart from a household member (identity.yaml, household_guard): founded
--    as a person of their own, but only a steward can tell twins from one person written twice
SELECT 3, 'linkage', 'link_' || CASE WHEN l.rule IN ('ambiguous', 'unlinkable') THEN l.rule ELSE c.reason END,
       'warn', r.template, r.batch_id, r.row_no, r.record_no,
       row_name(r.template, r.batch_id, r.row_no),
       '公民身份号码', 'id_number', coalesce(r.id_raw, r.name_raw),
       concat_ws('', b.file_name, ' 第', r.row_no, '行 ', r.name_raw, '（公民身份号码 "', coalesce(r.id_raw, '空'), '"）：',
                 CASE WHEN l.rule IN ('ambiguous', 'unlinkable') THEN
                      CASE l.rule WHEN 'ambiguous' THEN '可能是多个人中的一个，无法自动确定'
                                  ELSE '找不到对应的人员，无法自动归并' END
                      || CASE WHEN c.person_key IS NOT NULL THEN '；最可能是 ' || coalesce(p.name, '') ||
                              CASE WHEN p.id_number IS NOT NULL THEN '（' || p.id_number || '）' ELSE '' END ELSE '' END
                      || '。请填写正确的公民身份号码，或选择忽略'
                 ELSE '与 ' || coalesce(p.name, '') ||
                      CASE WHEN p.id_number IS NOT NULL THEN '（' || p.id_number || '）' ELSE '' END ||
                      CASE c.reason WHEN 'likely_twin' THEN ' 同一房屋、同一出生日期，名字不同，可能是双胞胎'
                           ELSE ' 同一房屋、出生日期只差一位数字，名字不同，可能是同户家人' END
                      || '，已按两人处理。如确是同一人，请填写其公民身份号码；确是两人，请选择忽略' END),
       CASE WHEN l.rule IN ('ambiguous', 'unlinkable') THEN p.id_number END, r.house_code, NULL, c.person_key
FROM q_person_links l
JOIN q_person_records r USING (record_key)
LEFT JOIN (SELECT record_key, arg_max(person_key, score) AS person_key,
                  arg_max(reason, score) FILTER (WHERE reason IS NOT NULL) AS reason
           FROM q_link_candidates GROUP BY 1) c
       USING (record_key)
LEFT JOIN q_persons p ON p.person_key = c.person_key
LEFT JOIN q_batches b ON b.batch_id = r.batch_id
WHERE l.rule IN ('ambiguous', 'unlinkable') OR (l.person_key IS NOT NULL AND c.reason IS NOT NULL)
UNION ALL
-- 4. free-text addresses that match no house, or several
SELECT 4, 'address', 'address_' || m.match_status, 'warn', m.template, m.batch_id, m.row_no, r.record_no,
       row_name(m.template, m.batch_id, m.row_no),
       fn.field, fn.column_name, m.address,
       concat_ws('', b.file_name, ' 第', m.row_no, '行 ', fn.field, ' "', m.address, '"：',
                 coalesce(address_basis(m),
                          CASE m.match_status WHEN 'no_match' THEN '找不到对应的实有房屋'
                               ELSE '对应多处房屋（' || array_to_string(m.candidates, '、') || '），无法确定' END),
                 CASE m.match_status WHEN 'no_match' THEN '。请核对地址或先补录房屋；同一写法的地址可由数据管理员一次认定'
                      ELSE '。请补全地址，或认定为其中一处房屋' END),
       CASE WHEN m.match_status = 'multi_match' THEN array_to_string(m.candidates, ';') END,
       NULL, NULL, NULL
FROM q_address_matches m
LEFT JOIN q_person_records r ON r.record_key = m.record_key
LEFT JOIN q_batches b ON b.batch_id = m.batch_id
LEFT JOIN q_fields fn ON fn.template = m.template
     AND fn.column_name = CASE m.template WHEN 'floating' THEN 'current_address' WHEN 'assistance' THEN 'address'
                                          WHEN 'hukou' THEN 'hukou_address' END
WHERE m.match_status IN ('no_match', 'multi_match');
