-- How a row of core.evidence is cited to a clerk. Spelled where it is read (status basis, explain), not
-- stored: at city scale core.evidence holds 56M rows and a person's basis cites one or two of them, so a
-- stored text column was a third of the table's build time for words almost nobody reads.

-- Both take a row of core.evidence (a table alias, or any struct with the fields they read:
-- `evidence_detail(e)` in `FROM core.evidence e`).

-- src_ref: the source's own 记录编号 when it has one, else file and row.
CREATE OR REPLACE MACRO evidence_ref(e) AS
    coalesce('记录编号 ' || e.record_no, coalesce(e.file_name, e.template) || ' 第' || e.row_no || '行');

-- detail: what the row says, then its src_ref in brackets. A floating row yields two evidence rows; the
-- second (kind other than presence) is its 注销, dated evidence_date = 注销日期.
CREATE OR REPLACE MACRO evidence_detail(e) AS
    trim(CASE WHEN e.template = 'floating' AND e.kind <> 'presence' THEN
                   '流动人口注销 ' || e.evidence_date::VARCHAR || ' 注销原因' || coalesce(e.deregistration_reason, '未填写')
              ELSE CASE e.template
              WHEN 'residents' THEN '实有人口采集 ' || coalesce(e.evidence_date::VARCHAR, '日期缺失') || ' '
                                    || coalesce(e.outcome, '人员类别未知')
              WHEN 'visits' THEN '走访记录 ' || coalesce(e.evidence_date::VARCHAR, '日期缺失') || ' '
                                 || coalesce(e.outcome, '结果未知')
              WHEN 'hukou' THEN '户籍登记 ' || CASE WHEN e.evidence_date IS NOT NULL THEN e.evidence_date::VARCHAR || ' '
                                                   ELSE '' END
                                || '户籍状态' || coalesce(e.outcome, '未知')
                                || CASE WHEN e.evidence_date IS NULL AND e.outcome IS DISTINCT FROM '正常'
                                        THEN '（变动日期缺失）' ELSE '' END
              WHEN 'floating' THEN '流动人口登记 ' || coalesce(e.registered_on::VARCHAR, '日期缺失')
                                   || CASE WHEN e.permit_valid_until IS NOT NULL
                                           THEN ' 居住证有效期至 ' || e.permit_valid_until::VARCHAR ELSE '' END
              WHEN 'assistance' THEN '社会救助 ' || coalesce(e.evidence_date::VARCHAR, '') || ' ' || coalesce(e.outcome, '')
                                     || CASE WHEN e.end_date IS NOT NULL THEN ' 至 ' || e.end_date::VARCHAR ELSE '' END
              WHEN 'deaths' THEN '死亡登记 ' || coalesce(e.evidence_date::VARCHAR, '日期缺失')
              WHEN 'disability' THEN '残疾人登记 ' || coalesce(e.evidence_date::VARCHAR, '')
              END END)
    || ' (' || evidence_ref(e) || ')';
