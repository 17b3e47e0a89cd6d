"""A small store with exactly the documented raw/staging/core columns (architecture.md),
built in SQL so the quality code is tested against real DuckDB files."""
from __future__ import annotations

import pytest

_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def make_id(body17: str) -> str:
    """An ID with a right ISO 7064 MOD 11-2 check digit (computed independently of the macros)."""
    return body17 + "10X98765432"[sum(int(c) * w for c, w in zip(body17, _WEIGHTS)) % 11]


ID_A = make_id("51010419800101001")     # the person a typo'd record most likely is
ID_B = make_id("51010419900202002")
ID_TYPO = ID_A[:-2] + ("9" if ID_A[-2] != "9" else "8") + ID_A[-1]   # one digit off: check digit fails
OLD = "1900-01-01"                       # birth date making P3 older than 110


def build(conn, *, typo_batch="b_res1"):
    c = conn
    c.execute("""
    CREATE TABLE raw.batches (batch_id VARCHAR, template VARCHAR, file_name VARCHAR, file_size BIGINT,
        file_format VARCHAR, encoding VARCHAR, header_row INTEGER, loaded_at TIMESTAMP, loaded_on DATE,
        status VARCHAR, message VARCHAR, rows_read INTEGER, rows_loaded INTEGER, rows_rejected INTEGER,
        config_hash VARCHAR);
    INSERT INTO raw.batches VALUES
      ('b_grid','grids','grids/网格.csv',1,'csv','utf-8',1,'2026-09-01','2026-09-01','loaded',NULL,2,2,0,'h'),
      ('b_house','housing','housing/房屋.csv',1,'csv','utf-8',1,'2026-09-01','2026-09-01','loaded',NULL,3,3,0,'h'),
      ('b_res1','residents','residents/2026-09 金沙社区.csv',1,'csv','utf-8',1,'2026-10-01 08:00','2026-10-01','loaded',NULL,4,3,1,'h');
    CREATE TABLE raw.row_errors (batch_id VARCHAR, template VARCHAR, row_no INTEGER, record_no VARCHAR,
        field VARCHAR, column_name VARCHAR, value VARCHAR, rule VARCHAR, severity VARCHAR, message VARCHAR);
    INSERT INTO raw.row_errors VALUES
      ('b_res1','residents',5,'R4','出生日期','birth_date','2024-02-30','date_invalid','reject',
       'residents/2026-09 金沙社区.csv 第5行 出生日期 "2024-02-30" 不是有效日期');
    CREATE TABLE raw.residents (batch_id VARCHAR, row_no INTEGER, record_no VARCHAR, name VARCHAR,
        id_number VARCHAR, sex VARCHAR, birth_date VARCHAR, ethnicity VARCHAR, phone VARCHAR, house_code VARCHAR,
        relation VARCHAR, category VARCHAR, tags VARCHAR, collector VARCHAR, collected_on VARCHAR,
        phone_public VARCHAR, extra_fields MAP(VARCHAR, VARCHAR), cell_types MAP(VARCHAR, VARCHAR));
    """)
    c.execute(f"""
    INSERT INTO raw.residents VALUES
      ('b_res1',2,'R1','张三','{ID_A}','男','1980-01-01',NULL,'13800000000','H1',NULL,'户籍人口',NULL,NULL,'2026-09-20','是',NULL,NULL),
      ('b_res1',3,'R2','张三','{ID_TYPO}','男','1980-01-01',NULL,'12345','H1',NULL,'户籍','党员',NULL,'2026-09-20',NULL,NULL,NULL),
      ('b_res1',4,'R3','李四',NULL,'女','2027-01-01',NULL,NULL,'H3',NULL,'流动人口',NULL,NULL,'2026-09-20',NULL,NULL,NULL),
      ('b_res1',5,'R4','王五',NULL,'男','2024-02-30',NULL,NULL,'H2',NULL,'流动人口',NULL,NULL,'2026-09-20',NULL,NULL,NULL);
    CREATE TABLE staging.residents AS
    SELECT batch_id, row_no, record_no, name, name AS name_raw,
           CASE WHEN row_no = 3 THEN NULL ELSE category END AS category, row_no = 3 AS category_unknown,
           CASE WHEN row_no < 4 THEN sex END AS sex, false AS sex_unknown,
           TRY_CAST(birth_date AS DATE) AS birth_date, CAST(collected_on AS DATE) AS collected_on,
           ethnicity, phone, house_code, relation, CASE WHEN tags IS NULL THEN NULL ELSE [tags] END AS tags, collector,
           phone_public, false AS phone_public_unknown,
           id_number, id_number AS id_raw,
           CASE WHEN id_number IS NULL THEN NULL ELSE id_number = '{ID_A}' END AS id_valid,
           CASE WHEN id_number = '{ID_TYPO}' THEN '校验码错误' END AS id_problem,
           CASE WHEN id_number IS NULL THEN NULL ELSE true END AS id_region_known,
           CASE WHEN id_number = '{ID_A}' THEN DATE '1980-01-01' END AS id_birth_date,
           CASE WHEN id_number = '{ID_A}' THEN '男' END AS id_sex,
           false AS birth_date_conflict, false AS sex_conflict
    FROM raw.residents WHERE row_no < 5;
    CREATE TABLE core.grids (microgrid_code VARCHAR, microgrid_name VARCHAR, grid_code VARCHAR, grid_name VARCHAR,
        grid_type VARCHAR, community_code VARCHAR, community_name VARCHAR, street_code VARCHAR, street_name VARCHAR,
        district_code VARCHAR, district_name VARCHAR, grid_worker VARCHAR, grid_worker_phone VARCHAR,
        batch_id VARCHAR, row_no INTEGER);
    INSERT INTO core.grids VALUES
      ('MG1','一号微网格','G1','一网格','一般网格','C1','金沙社区','S1','金沙街道','D1','青羊区',NULL,NULL,'b_grid',2),
      ('MG2','二号微网格','G2','二网格','一般网格','C2','银河社区','S1','金沙街道','D1','青羊区',NULL,NULL,'b_grid',3);
    CREATE TABLE core.houses (house_code VARCHAR, microgrid_code VARCHAR, std_address VARCHAR, compound VARCHAR,
        building VARCHAR, unit VARCHAR, floor VARCHAR, room VARCHAR, usage VARCHAR, occupancy VARCHAR,
        owner_name VARCHAR, owner_id_number VARCHAR, collected_on DATE, batch_id VARCHAR, row_no INTEGER);
    INSERT INTO core.houses VALUES
      ('H1','MG1','金沙路1号1栋1单元101',NULL,'1','1','1','101','住宅','自住',NULL,NULL,'2026-09-01','b_house',2),
      ('H2','MG1','金沙路1号1栋1单元102',NULL,'1','1','1','102','住宅','自住',NULL,NULL,'2026-09-01','b_house',3),
      ('H9','MGX','银河路9号',NULL,NULL,NULL,NULL,NULL,'住宅','出租',NULL,NULL,'2026-09-01','b_house',4);
    CREATE TABLE core.person_records (record_key VARCHAR, template VARCHAR, batch_id VARCHAR, row_no INTEGER,
        record_no VARCHAR, name VARCHAR, name_raw VARCHAR, id_number VARCHAR, id_raw VARCHAR, id_valid BOOLEAN,
        id_problem VARCHAR, birth_date DATE, sex VARCHAR, house_code VARCHAR, house_source VARCHAR,
        address VARCHAR, event_date DATE);
    INSERT INTO core.person_records SELECT 'residents:' || batch_id || ':' || row_no, 'residents', batch_id, row_no,
        record_no, name, name_raw, id_number, id_raw, id_valid, id_problem, birth_date, sex,
        CASE WHEN house_code IN ('H1','H2','H9') THEN house_code END, 'stated', NULL, collected_on
      FROM staging.residents;
    INSERT INTO core.person_records VALUES ('floating:b_flo:2','floating','b_flo',2,'F1','赵六','赵六',NULL,NULL,
        NULL,NULL,NULL,NULL,NULL,NULL,'金沙路1号1栋',DATE '2026-09-01');
    CREATE TABLE core.persons (person_key VARCHAR, name VARCHAR, id_number VARCHAR, birth_date DATE, sex VARCHAR,
        n_records INTEGER);
    INSERT INTO core.persons VALUES ('P1','张三','{ID_A}','1980-01-01','男',1), ('P2','李四',NULL,NULL,'女',1),
        ('P3','钱七',NULL,'{OLD}','女',0);
    CREATE TABLE core.person_links (record_key VARCHAR, person_key VARCHAR, rule VARCHAR, score DOUBLE);
    INSERT INTO core.person_links VALUES ('residents:b_res1:2','P1','id_exact',NULL),
        ('residents:b_res1:3',NULL,'ambiguous',NULL), ('residents:b_res1:4','P2','singleton',NULL),
        ('floating:b_flo:2',NULL,'unlinkable',NULL);
    CREATE TABLE core.link_candidates (record_key VARCHAR, rank BIGINT, candidate_person_key VARCHAR,
        candidate_record_key VARCHAR, match_probability DOUBLE, match_weight DOUBLE, reason VARCHAR);
    INSERT INTO core.link_candidates VALUES ('residents:b_res1:3',1,'P1','residents:b_res1:2',0.93,8.5,NULL),
        ('residents:b_res1:3',2,'P2','residents:b_res1:4',0.2,-1.0,NULL);
    CREATE TABLE core.address_matches (template VARCHAR, batch_id VARCHAR, row_no INTEGER, record_key VARCHAR,
        address VARCHAR, road VARCHAR, road_no VARCHAR, compound VARCHAR, building VARCHAR, unit VARCHAR,
        floor VARCHAR, room VARCHAR, match_status VARCHAR, house_code VARCHAR, candidates VARCHAR[], rule VARCHAR,
        how VARCHAR, basis_detail VARCHAR);
    INSERT INTO core.address_matches VALUES ('floating','b_flo',2,'floating:b_flo:2','金沙路1号1栋','金沙路','1',
        NULL,'1',NULL,NULL,NULL,'multi_match',NULL,['H1','H2'],'road_building', 'multi',
        '门牌“金沙路1号”、1栋，有 2 处房屋都符合，地址未写单元、户室，无法确定');
    CREATE TABLE core.person_status (person_key VARCHAR, as_of DATE, status VARCHAR, category VARCHAR,
        house_code VARCHAR, microgrid_code VARCHAR, grid_code VARCHAR, registered BOOLEAN, basis VARCHAR);
    INSERT INTO core.person_status VALUES ('P1','2026-10-31','在住','户籍人口','H1','MG1','G1',true,'实有人口 2026-09-20'),
        ('P2','2026-10-31','待核实','流动人口',NULL,NULL,NULL,false,'-'),
        ('P3','2026-10-31','待核实','户籍人口',NULL,NULL,NULL,false,'-');
    """)


@pytest.fixture
def small_store(store):
    with store.connect() as conn:
        build(conn)
    return store
