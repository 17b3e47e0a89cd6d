-- A small street for publish/report tests, inserted by name into the product's own raw, staging and core tables
-- (tests/schema.py: a column the product renames fails here), so these tests do not depend on the pipeline that
-- fills them. core.evidence, core.person_status, core.grid_history and the contract marts are written with the
-- columns docs/architecture.md gives them; tests/publish/conftest.py load_world() builds the marts outputs read.
-- As-of date: 2026-10-31. Two streets: 草堂街道 (金沙社区, 银杏社区) and 东门街道 (河滨社区).
CREATE SCHEMA IF NOT EXISTS raw; CREATE SCHEMA IF NOT EXISTS staging; CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS marts;

INSERT INTO raw.batches BY NAME SELECT *, row_number() OVER (ORDER BY loaded_at)::INTEGER AS batch_no FROM (VALUES
  ('b_grids', 'grids', 'grids/网格.xlsx', 100::BIGINT, 'xlsx', NULL, 1, TIMESTAMP '2026-01-05 09:00:00', DATE '2026-01-05', 'loaded', NULL, 5, 5, 0, 'c'),
  ('b_house', 'housing', 'housing/房屋.xlsx', 100, 'xlsx', NULL, 1, TIMESTAMP '2026-01-06 09:00:00', DATE '2026-01-06', 'loaded', NULL, 9, 9, 0, 'c'),
  ('b_res', 'residents', 'residents/2026-10 金沙社区.xlsx', 100, 'xlsx', NULL, 3, TIMESTAMP '2026-10-20 09:00:00', DATE '2026-10-20', 'loaded', NULL, 20, 20, 0, 'c'),
  ('b_aid', 'assistance', 'assistance/救助.csv', 100, 'csv', 'utf-8', 1, TIMESTAMP '2026-10-21 09:00:00', DATE '2026-10-21', 'loaded', NULL, 4, 4, 0, 'c'),
  ('b_dis', 'disability', 'disability/残疾人.csv', 100, 'csv', 'gbk', 1, TIMESTAMP '2026-10-21 10:00:00', DATE '2026-10-21', 'loaded', NULL, 3, 3, 0, 'c'),
  ('b_flo', 'floating', 'floating/流动人口.csv', 100, 'csv', 'utf-8', 1, TIMESTAMP '2026-10-22 10:00:00', DATE '2026-10-22', 'loaded', NULL, 2, 2, 0, 'c'),
  ('b_bad', 'residents', 'residents/坏文件.csv', 10, 'csv', 'utf-8', 1, TIMESTAMP '2026-10-22 11:00:00', DATE '2026-10-22', 'rejected', '缺少必填列 房屋编码', 0, 0, 0, 'c')
) t(batch_id, template, file_name, file_size, file_format, encoding, header_row, loaded_at, loaded_on, status, message,
    rows_read, rows_loaded, rows_rejected, config_hash);

INSERT INTO core.grids BY NAME SELECT * FROM (VALUES
  ('M1A', '金沙1-1', 'G1', '金沙一网格', '一般网格', 'C1', '金沙社区', 'S1', '草堂街道', 'D1', '锦江区', '王网格', '13800001111'),
  ('M1B', '金沙1-2', 'G1', '金沙一网格', '一般网格', 'C1', '金沙社区', 'S1', '草堂街道', 'D1', '锦江区', '王网格', '13800001111'),
  ('M2',  '金沙2-1', 'G2', '金沙二网格', '一般网格', 'C1', '金沙社区', 'S1', '草堂街道', 'D1', '锦江区', '李网格', '13800002222'),
  ('M3',  '银杏1-1', 'G3', '银杏学校网格', '专属网格', 'C2', '银杏社区', 'S1', '草堂街道', 'D1', '锦江区', '赵网格', NULL),
  ('M4',  '河滨1-1', 'G4', '河滨一网格', '一般网格', 'C3', '河滨社区', 'S2', '东门街道', 'D1', '锦江区', '钱网格', '13800004444')
) t(microgrid_code, microgrid_name, grid_code, grid_name, grid_type, community_code, community_name, street_code,
    street_name, district_code, district_name, grid_worker, grid_worker_phone);

-- G2/M2 carry 520 houses (over both limits); the others a handful.
INSERT INTO core.houses BY NAME
SELECT *, '住宅' AS usage FROM (VALUES
  ('H1', 'M1A', '草堂路1号锦苑小区1栋1单元101', '锦苑小区', '1栋', '出租'),
  ('H2', 'M1A', '草堂路1号锦苑小区1栋1单元102', '锦苑小区', '1栋', '自住'),
  ('H3', 'M1B', '草堂路1号锦苑小区2栋1单元201', '锦苑小区', '2栋', '自住'),
  ('H4', 'M3',  '银杏路5号学校宿舍1栋101', '学校宿舍', '1栋', '借住'),
  ('H5', 'M4',  '河滨路9号滨江苑3栋301', '滨江苑', '3栋', '出租'),
  ('H6', 'M1B', '草堂路1号锦苑小区2栋1单元202', '锦苑小区', '2栋', '空置')
) t(house_code, microgrid_code, std_address, compound, building, occupancy)
UNION ALL
SELECT 'HX' || i, 'M2', '草堂路3号大院' || i || '号', '草堂大院', ((i % 10) + 1) || '栋', '自住', '住宅' FROM range(520) r(i);

-- person_key, name, id_number, birth_date, sex, status, category, registered, house_code
CREATE TEMP TABLE w AS SELECT * FROM (VALUES
  ('P01', '张一', '510104202005010011', DATE '2020-05-01', '男', '在住', '户籍人口', true, 'H1'),   -- started school September 2026
  ('P02', '张二', '510104202010010022', DATE '2020-10-01', '女', '在住', '户籍人口', true, 'H1'),   -- 6 after 31 Aug 2026: the September 2027 enrolment
  ('P03', '张三', '510104202401010033', DATE '2024-01-01', '男', '在住', '户籍人口', true, 'H2'),   -- 0-6
  ('P04', '李老', '510104194001010044', DATE '1940-01-01', '女', '在住', '户籍人口', true, 'H2'),   -- 86, living alone
  ('P05', '王五', '510104195801010055', DATE '1958-01-01', '男', '在住', '户籍人口', true, 'H3'),   -- 68
  ('P06', '赵六', '510104198001010066', DATE '1980-01-01', '男', '在住', '户籍人口', true, 'H3'),   -- party member
  ('P07', '钱七', '420102199001010077', DATE '1990-01-01', '女', '在住', '流动人口', true, 'H1'),   -- migrant, permit expiring
  ('P08', '孙八', '440103199201010088', DATE '1992-01-01', '男', '在住', '流动人口', false, 'H3'),  -- seen, never registered
  ('P09', '周九', '510104195001010099', DATE '1950-01-01', '男', '死亡', '户籍人口', false, 'H2'),  -- dead, still paid
  ('P10', '吴十', '510104196001010100', DATE '1960-01-01', '女', '已离开', '户籍人口', false, 'H3'), -- left, still paid
  ('P11', '郑十一', '510104197001010111', DATE '1970-01-01', '男', '待核实', '户籍人口', true, 'H6'), -- unconfirmed, paid
  ('P12', '冯十二', '510104200001010122', DATE '2000-01-01', '女', '在住', '户籍人口', true, 'H4'),
  ('P13', '陈十三', '510104194501010133', DATE '1945-01-01', '男', '在住', '户籍人口', true, 'H5'),  -- other street, 81
  ('P14', '褚十四', '510104198501010144', DATE '1985-01-01', '女', '在住', '户籍人口', true, 'H3'),
  ('P15', '何十五', '510104197501010155', DATE '1975-01-01', '男', '已离开', '户籍人口', false, 'H4')   -- left in September
) t(person_key, name, id_number, birth_date, sex, status, category, registered, house_code)
UNION ALL
-- the seed case: 1,600 persons on record in G2, only 200 seen in the window
SELECT 'Q' || lpad(i::VARCHAR, 4, '0'), '居民' || i, NULL, DATE '1985-06-01', CASE WHEN i % 2 = 0 THEN '男' ELSE '女' END,
       CASE WHEN i < 200 THEN '在住' ELSE '待核实' END, '户籍人口', true, 'HX' || (i % 520)
FROM range(1600) r(i);

INSERT INTO core.persons BY NAME SELECT person_key, name, id_number, birth_date, sex, 1 AS n_records FROM w;
CREATE TABLE core.person_status AS
SELECT w.person_key, DATE '2026-10-31' AS as_of, w.status, w.category, w.house_code, h.microgrid_code,
       g.grid_code, w.registered, '实有人口采集 2026-10-20 记录编号 R-' || w.person_key AS basis,
       -- the evidence that decided the status (core.evidence.record_key)
       CASE w.person_key WHEN 'P09' THEN 'deaths:b_dth:2' WHEN 'P10' THEN 'hukou:b_hk:3'
                         WHEN 'P15' THEN 'hukou:b_hk:4' WHEN 'P07' THEN 'floating:b_flo:2' END AS decision_key
FROM w JOIN core.houses h USING (house_code) JOIN core.grids g USING (microgrid_code);

INSERT INTO staging.residents BY NAME
SELECT 'b_res' AS batch_id, row_number() OVER (ORDER BY person_key)::INTEGER + 1 AS row_no, 'R-' || person_key AS record_no,
       name, id_number, house_code, category,
       CASE person_key WHEN 'P04' THEN ['独居老人'] WHEN 'P06' THEN ['党员', '楼栋长'] WHEN 'P14' THEN ['居民骨干']
                       ELSE []::VARCHAR[] END AS tags,
       CASE person_key WHEN 'P06' THEN '13912345678' WHEN 'P14' THEN '13687654321' WHEN 'P04' THEN '13511112222' END AS phone,
       -- the building head consented to publish his phone to the courtyard; the 居民骨干 declined
       CASE person_key WHEN 'P06' THEN '是' WHEN 'P14' THEN '否' END AS phone_public,
       -- the spring census; 钱七 (P07) was first collected this month, after her police registration
       CASE person_key WHEN 'P07' THEN DATE '2026-10-20' ELSE DATE '2026-03-20' END AS collected_on
FROM w WHERE person_key LIKE 'P%';

INSERT INTO staging.assistance BY NAME SELECT * FROM (VALUES
  ('b_aid', 2, 'A-001', '510104195001010099', '周九', '城市低保', 1, 800.00::DECIMAL(12,2), DATE '2024-01-01', NULL::DATE),
  ('b_aid', 3, 'A-002', '510104196001010100', '吴十', '特困供养', 1, 1200.50, DATE '2023-05-01', NULL),
  ('b_aid', 4, 'A-003', '510104197001010111', '郑十一', '农村低保', 2, 650.00, DATE '2025-01-01', NULL),
  ('b_aid', 5, 'A-004', '510104194001010044', '李老', '城市低保', 1, 900.00, DATE '2022-01-01', NULL)
) t(batch_id, row_no, record_no, id_number, name, assistance_type, covered_persons, monthly_amount, start_date, end_date);

INSERT INTO staging.disability BY NAME SELECT * FROM (VALUES
  -- a 残疾证号 is the holder's ID and two digits (类别, 等级)
  ('b_dis', 2, 'D-001', '510104194001010044', '李老', '肢体', '二级', '51010419400101004442', DATE '2010-01-01'),
  ('b_dis', 3, 'D-002', '510104195001010099', '周九', '视力', '一级', 'CJ002', DATE '2012-01-01'),
  ('b_dis', 4, 'D-003', '510104199901019999', '查无人', '听力', '三级', 'CJ003', DATE '2015-01-01')
) t(batch_id, row_no, record_no, id_number, name, disability_type, disability_grade, disability_cert_no, issued_on);

INSERT INTO staging.floating BY NAME SELECT * FROM (VALUES
  ('b_flo', 2, 'F-001', '420102199001010077', '钱七', '湖北省武汉市江岸区', '草堂路1号锦苑小区1栋1单元101', 'H1',
   DATE '2025-03-01', '务工', 'JZ001', DATE '2026-11-15', NULL::DATE, NULL::VARCHAR)
) t(batch_id, row_no, record_no, id_number, name, origin, current_address, house_code, registered_on, stay_reason,
    permit_no, permit_valid_until, deregistered_on, deregistration_reason);

-- person_records / person_links for every staging row above (D-003 stays unlinked).
INSERT INTO core.person_records BY NAME
SELECT 'residents:' || batch_id || ':' || row_no AS record_key, 'residents' AS template, batch_id, row_no, record_no,
       name, id_number, house_code, collected_on AS event_date FROM staging.residents
UNION ALL SELECT 'assistance:' || batch_id || ':' || row_no, 'assistance', batch_id, row_no, record_no, name, id_number, NULL, start_date FROM staging.assistance
UNION ALL SELECT 'disability:' || batch_id || ':' || row_no, 'disability', batch_id, row_no, record_no, name, id_number, NULL, issued_on FROM staging.disability
UNION ALL SELECT 'floating:' || batch_id || ':' || row_no, 'floating', batch_id, row_no, record_no, name, id_number, house_code, registered_on FROM staging.floating;
INSERT INTO core.person_links BY NAME
SELECT r.record_key, p.person_key, CASE WHEN p.person_key IS NULL THEN 'singleton' ELSE 'id_exact' END AS rule, NULL::DOUBLE AS score
FROM core.person_records r LEFT JOIN core.persons p ON p.id_number = r.id_number;

-- evidence for the period's changes: P07 moved in this month, P10 left, P09 died. P15 left in September
-- (the deciding hukou 迁出); the October visit 已搬离 at a house not his own decides nothing. The floating
-- row F-001 carries presence and (after D) its 注销 under one record_key.
CREATE TABLE core.evidence AS SELECT * FROM (VALUES
  ('P07', 'floating:b_flo:2', 'presence', 'floating', 'b_flo', 2, 'F-001', DATE '2026-10-05', 'H1', '流动人口登记'),
  ('P07', 'floating:b_flo:2', 'departure', 'floating', 'b_flo', 2, 'F-001', DATE '2026-12-01', 'H1', '流动人口注销'),
  ('P10', 'residents:b_res:11', 'presence', 'residents', 'b_res', 11, 'R-P10', DATE '2025-01-01', 'H3', '采集'),
  ('P10', 'hukou:b_hk:3', 'departure', 'hukou', 'b_hk', 3, 'HK-1', DATE '2026-10-10', NULL, '户籍迁出'),
  ('P09', 'deaths:b_dth:2', 'death', 'deaths', 'b_dth', 2, 'DT-1', DATE '2026-10-03', NULL, '死亡登记'),
  ('P06', 'residents:b_res:7', 'presence', 'residents', 'b_res', 7, 'R-P06', DATE '2020-01-01', 'H3', '采集'),
  ('P06', 'residents:b_res:20', 'presence', 'residents', 'b_res', 20, 'R-P06b', DATE '2026-11-03', 'H3', '采集（截止日期之后）'),
  ('P15', 'residents:b_res:16', 'presence', 'residents', 'b_res', 16, 'R-P15', DATE '2024-05-01', 'H4', '采集'),
  ('P15', 'hukou:b_hk:4', 'departure', 'hukou', 'b_hk', 4, 'HK-2', DATE '2026-09-10', NULL, '户籍迁出'),
  ('P15', 'visits:b_vis:7', 'departure', 'visits', 'b_vis', 7, 'V-7', DATE '2026-10-20', 'H2', '走访 已搬离（非本人住房）')
) t(person_key, record_key, kind, template, batch_id, row_no, record_no, evidence_date, house_code, detail);
-- as in the real table, every linked source row is evidence of some kind (reports find a person's
-- residents, floating, assistance and disability rows through it)
INSERT INTO core.evidence
SELECT l.person_key, r.record_key,
       CASE WHEN r.template IN ('residents', 'floating') THEN 'presence' ELSE 'other' END,
       r.template, r.batch_id, r.row_no, r.record_no, r.event_date, r.house_code, r.template || ' 记录'
FROM core.person_records r JOIN core.person_links l USING (record_key)
WHERE l.person_key IS NOT NULL AND r.record_key NOT IN (SELECT record_key FROM core.evidence);
-- record_id (sql/macros/keys.sql): reports find staging rows by it (the hukou, deaths and visits batches
-- above are not in raw.batches, so theirs stay NULL: no report reads those rows from staging)
ALTER TABLE core.evidence ADD COLUMN record_id BIGINT;
ALTER TABLE core.evidence ADD COLUMN outcome VARCHAR;      -- what the row says (救助类别 for assistance rows)
ALTER TABLE core.evidence ADD COLUMN loaded_at TIMESTAMP;
UPDATE core.evidence SET outcome = a.assistance_type FROM staging.assistance a
WHERE core.evidence.template = 'assistance' AND a.batch_id = core.evidence.batch_id AND a.row_no = core.evidence.row_no;
UPDATE core.evidence SET loaded_at = b.loaded_at FROM raw.batches b WHERE b.batch_id = core.evidence.batch_id;
UPDATE core.evidence SET record_id = record_id(b.batch_no, core.evidence.row_no)
FROM raw.batches b WHERE b.batch_id = core.evidence.batch_id;
-- the rest of core.evidence's columns, which the status rules read (the 人口变动月报 decides 期初 with them); the rows of
-- batches not in raw.batches get a record_id of their own and a load time
UPDATE core.evidence SET record_id = row_no, loaded_at = TIMESTAMP '2026-10-31 08:00:00' WHERE record_id IS NULL;
ALTER TABLE core.evidence ADD COLUMN file_name VARCHAR;
ALTER TABLE core.evidence ADD COLUMN order_date DATE;
ALTER TABLE core.evidence ADD COLUMN source_label VARCHAR;
ALTER TABLE core.evidence ADD COLUMN category VARCHAR;
ALTER TABLE core.evidence ADD COLUMN registered_on DATE;
ALTER TABLE core.evidence ADD COLUMN permit_valid_until DATE;
ALTER TABLE core.evidence ADD COLUMN deregistered_on DATE;
ALTER TABLE core.evidence ADD COLUMN deregistration_reason VARCHAR;
ALTER TABLE core.evidence ADD COLUMN end_date DATE;
ALTER TABLE core.evidence ADD COLUMN source_rank INTEGER;
UPDATE core.evidence SET order_date = evidence_date, source_label = detail,
    deregistered_on = CASE WHEN template = 'floating' AND kind <> 'presence' THEN evidence_date END,
    source_rank = CASE template WHEN 'visits' THEN 1 WHEN 'residents' THEN 2 WHEN 'floating' THEN 3
                                WHEN 'deaths' THEN 0 WHEN 'hukou' THEN 4 ELSE 5 END;
ALTER TABLE core.person_status ADD COLUMN freshness_days INTEGER DEFAULT 365;

CREATE TABLE marts.person_sources AS
SELECT l.person_key AS 人员主键, r.template AS 来源, r.batch_id AS 批次, r.row_no AS 行号, r.record_no AS 记录编号,
       s.status AS 状态
FROM core.person_records r JOIN core.person_links l USING (record_key) LEFT JOIN core.person_status s USING (person_key);

CREATE TABLE marts.assistance_check AS
SELECT a.record_no AS 记录编号, a.id_number AS 公民身份号码, a.name AS 姓名, a.assistance_type AS 救助类别,
       a.monthly_amount AS 月救助金额, s.status AS 状态, s.basis AS 依据
FROM staging.assistance a JOIN core.persons p ON p.id_number = a.id_number JOIN core.person_status s USING (person_key)
WHERE s.status IN ('死亡', '已离开', '待核实');

INSERT INTO core.address_matches VALUES
  ('floating', 'b_flo', 2, 'F-001', NULL, NULL, '草堂路1号锦苑小区1栋1单元101', '草堂路', '1', '锦苑小区', '1', '1', NULL,
   '101', 'matched', 'H1', NULL, 1, 'compound_road_building_unit_room', 'text', NULL, NULL, NULL, NULL),
  ('floating', 'b_flo', 3, 'F-002', NULL, NULL, '草堂路1号锦苑小区1栋1单元102', NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, 'matched', 'H2', NULL, 1, 'stated_house', 'stated', NULL, NULL, NULL, NULL),
  ('hukou', 'b_hk', 3, 'HK-2', NULL, NULL, '河滨路9号滨江苑3栋301', '河滨路', '9', '滨江苑', '3', NULL, NULL, '301',
   'matched', 'H5', NULL, 1, 'compound_road_building_room', 'text', NULL, NULL, NULL, NULL),
  ('assistance', 'b_as', 4, 'JZ-9', NULL, NULL, '锦苑小区1栋1单元', NULL, NULL, '锦苑小区', '1', '1', NULL, NULL,
   'multi_match', NULL, ['H1', 'H2'], 2, 'compound_building_unit', 'multi',
   '小区“锦苑小区”、1栋、1单元，有 2 处房屋都符合，地址未写户室，无法确定', 'ambiguous', '锦苑小区 未写户室', NULL),
  ('hukou', 'b_hk', 5, 'HK-3', NULL, NULL, '同上', NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'no_match', NULL, NULL, 0,
   'not_an_address', 'problem', '“同上”不是地址，请填写实际居住地址', 'not_address', '同上', NULL);
CREATE TABLE marts.assistance_flagged AS
SELECT a.*, p.person_key, a.记录编号 AS record FROM marts.assistance_check a JOIN core.persons p ON p.id_number = a.公民身份号码;

-- Follow-up tasks (sql/marts/tasks.sql) as the ledger shows them on 2026-10-31: every 待核实 person with a house
-- (郑十一 and the seed case) has an open verify task, opened by the 2026-09-30 build (31 days: overdue); 吴十's
-- verify task was closed by his hukou 迁出; each flagged assistance record is an open 民政 check.
CREATE TABLE marts.tasks AS
SELECT 'HS-' || s.person_key AS task_id, 'verify' AS kind, 'open' AS state, s.person_key, s.house_code, s.grid_code,
       '2025-06-01' AS subject, DATE '2026-09-30' AS opened_on, NULL::DATE AS closed_on, 31 AS days, 30 AS overdue_days,
       true AS overdue, '最近一次在住证据为 2025-06-01 的实有人口采集，已超过 365 天未核实' AS basis,
       NULL::VARCHAR AS resolution, NULL::VARCHAR AS closing_key, NULL::VARCHAR AS closing_template,
       NULL::VARCHAR AS closing_batch_id, NULL::INTEGER AS closing_row_no, NULL::VARCHAR AS closing_record_no,
       NULL::DATE AS closing_date, NULL::VARCHAR AS closing_detail, NULL::VARCHAR AS assistance_type
FROM core.person_status s WHERE s.status = '待核实' AND s.house_code IS NOT NULL
UNION ALL
SELECT 'HS-P10', 'verify', 'closed', 'P10', 'H3', 'G1', '2025-01-01', DATE '2026-09-30', DATE '2026-10-31', 10, 30, false,
       '最近一次在住证据为 2025-01-01 的实有人口采集，已超过 365 天未核实', '已离开', 'hukou:b_hk:3', 'hukou', 'b_hk', 3,
       'HK-1', DATE '2026-10-10', '户籍登记 2026-10-10 户籍状态迁出 (记录编号 HK-1)', NULL
UNION ALL
SELECT 'JZ-' || a.record, 'assistance', 'open', a.person_key, s.house_code, s.grid_code, a.record, DATE '2026-10-31',
       NULL, 0, 30, false, a.依据, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM marts.assistance_flagged a JOIN core.person_status s ON s.person_key = a.person_key;

CREATE TABLE marts.verification_tasks AS
SELECT s.grid_code AS 网格编码, g.grid_name AS 网格名称, s.house_code AS 房屋编码, h.std_address AS 地址,
       s.person_key AS 人员主键, p.name AS 姓名, p.id_number AS 公民身份号码, DATE '2025-06-01' AS 最近在住证据日期,
       '上门核实是否仍在此居住（任务 ' || t.task_id || '，2026-09-30 起，已逾期 1 天）' AS 任务, t.basis AS 依据
FROM core.person_status s
JOIN marts.tasks t ON t.kind = 'verify' AND t.state = 'open' AND t.person_key = s.person_key
JOIN core.persons p ON p.person_key = s.person_key
JOIN core.houses h ON h.house_code = s.house_code
JOIN (SELECT DISTINCT grid_code, grid_name FROM core.grids) g ON g.grid_code = s.grid_code;

-- nobody here counts in 登记人口 while 已离开 (吴十 and 何十五 were deregistered by the police)
CREATE TABLE marts.deregistration_feedback (人员主键 VARCHAR, 姓名 VARCHAR, 公民身份号码 VARCHAR, 警方记录编号 VARCHAR,
                                            建议 VARCHAR, 依据 VARCHAR);

-- the 2026-09-30 build's snapshot per grid (core.grid_history): the previous point of the progress series
CREATE TABLE core.grid_history AS SELECT * FROM (VALUES
  (DATE '2026-09-30', TIMESTAMP '2026-10-01 06:00:00', 'G1', 9::BIGINT, 7::BIGINT, 1::BIGINT, 1::BIGINT, 0::BIGINT, 0::BIGINT, 0::BIGINT),
  (DATE '2026-09-30', TIMESTAMP '2026-10-01 06:00:00', 'G2', 1600, 180, 1420, 1420, 0, 0, 0),
  (DATE '2026-09-30', TIMESTAMP '2026-10-01 06:00:00', 'G3', 2, 2, 0, 0, 0, 0, 0),
  (DATE '2026-09-30', TIMESTAMP '2026-10-01 06:00:00', 'G4', 1, 1, 0, 0, 0, 0, 0)
) t(as_of, built_at, grid_code, registered, verified, unverified, verify_open, verify_overdue, verify_closed, deregister_open);
