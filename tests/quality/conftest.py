"""A small store on the product's own raw/staging/core tables (tests/schema.py: rows inserted by name, so a column
the product renames fails here), built in SQL so the quality code is tested against real DuckDB files."""
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
    INSERT INTO raw.batches BY NAME SELECT * FROM (VALUES
      ('b_grid','grids','grids/网格.csv',1,'csv','utf-8',1,'2026-09-01','2026-09-01','loaded',NULL,2,2,0,'h'),
      ('b_house','housing','housing/房屋.csv',1,'csv','utf-8',1,'2026-09-01','2026-09-01','loaded',NULL,3,3,0,'h'),
      ('b_res1','residents','residents/2026-09 金沙社区.csv',1,'csv','utf-8',1,'2026-10-01 08:00','2026-10-01','loaded',NULL,4,3,1,'h')
    ) v(batch_id, template, file_name, file_size, file_format, encoding, header_row, loaded_at, loaded_on, status, message, rows_read, rows_loaded, rows_rejected, config_hash);
    INSERT INTO raw.row_errors BY NAME SELECT * FROM (VALUES
      ('b_res1','residents',5,'R4','出生日期','birth_date','2024-02-30','date_invalid','reject',
       'residents/2026-09 金沙社区.csv 第5行 出生日期 "2024-02-30" 不是有效日期')
    ) v(batch_id, template, row_no, record_no, field, column_name, value, rule, severity, message);
    """)
    c.execute(f"""
    INSERT INTO raw.residents BY NAME SELECT * FROM (VALUES
      ('b_res1',2,'R1','张三','{ID_A}','男','1980-01-01',NULL,'13800000000','H1',NULL,'户籍人口',NULL,NULL,'2026-09-20','是',NULL,NULL),
      ('b_res1',3,'R2','张三','{ID_TYPO}','男','1980-01-01',NULL,'12345','H1',NULL,'户籍','党员',NULL,'2026-09-20',NULL,NULL,NULL),
      ('b_res1',4,'R3','李四',NULL,'女','2027-01-01',NULL,NULL,'H3',NULL,'流动人口',NULL,NULL,'2026-09-20',NULL,NULL,NULL),
      ('b_res1',5,'R4','王五',NULL,'男','2024-02-30',NULL,NULL,'H2',NULL,'流动人口',NULL,NULL,'2026-09-20',NULL,NULL,NULL)
    ) v(batch_id, row_no, record_no, name, id_number, sex, birth_date, ethnicity, phone, house_code, relation, category, tags, collector, collected_on, phone_public, extra_fields, cell_types);
    INSERT INTO staging.residents BY NAME
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
    INSERT INTO core.grids BY NAME SELECT * FROM (VALUES
      ('MG1','一号微网格','G1','一网格','一般网格','C1','金沙社区','S1','金沙街道','D1','青羊区',NULL,NULL,'b_grid',2),
      ('MG2','二号微网格','G2','二网格','一般网格','C2','银河社区','S1','金沙街道','D1','青羊区',NULL,NULL,'b_grid',3)
    ) v(microgrid_code, microgrid_name, grid_code, grid_name, grid_type, community_code, community_name, street_code, street_name, district_code, district_name, grid_worker, grid_worker_phone, batch_id, row_no);
    INSERT INTO core.houses BY NAME SELECT * FROM (VALUES
      ('H1','MG1','金沙路1号1栋1单元101',NULL,'1','1','1','101','住宅','自住',NULL,NULL,'2026-09-01','b_house',2),
      ('H2','MG1','金沙路1号1栋1单元102',NULL,'1','1','1','102','住宅','自住',NULL,NULL,'2026-09-01','b_house',3),
      ('H9','MGX','银河路9号',NULL,NULL,NULL,NULL,NULL,'住宅','出租',NULL,NULL,'2026-09-01','b_house',4)
    ) v(house_code, microgrid_code, std_address, compound, building, unit, floor, room, usage, occupancy, owner_name, owner_id_number, collected_on, batch_id, row_no);
    INSERT INTO core.person_records BY NAME SELECT 'residents:' || batch_id || ':' || row_no AS record_key,
        'residents' AS template, batch_id, row_no, record_no, name, name_raw, id_number, id_raw, id_valid, id_problem,
        birth_date, sex, CASE WHEN house_code IN ('H1','H2','H9') THEN house_code END AS house_code,
        'stated' AS house_source, collected_on AS event_date
      FROM staging.residents;
    INSERT INTO core.person_records BY NAME SELECT * FROM (VALUES ('floating:b_flo:2','floating','b_flo',2,'F1','赵六','赵六',NULL,NULL,
        NULL,NULL,NULL,NULL,NULL,NULL,'金沙路1号1栋',DATE '2026-09-01')
    ) v(record_key, template, batch_id, row_no, record_no, name, name_raw, id_number, id_raw, id_valid, id_problem,
        birth_date, sex, house_code, house_source, address, event_date);
    INSERT INTO core.persons BY NAME SELECT * FROM (VALUES ('P1','张三','{ID_A}','1980-01-01','男',1), ('P2','李四',NULL,NULL,'女',1),
        ('P3','钱七',NULL,'{OLD}','女',0)
    ) v(person_key, name, id_number, birth_date, sex, n_records);
    INSERT INTO core.person_links BY NAME SELECT * FROM (VALUES ('residents:b_res1:2','P1','id_exact',NULL),
        ('residents:b_res1:3',NULL,'ambiguous',NULL), ('residents:b_res1:4','P2','singleton',NULL),
        ('floating:b_flo:2',NULL,'unlinkable',NULL)
    ) v(record_key, person_key, rule, score);
    INSERT INTO core.link_candidates BY NAME SELECT * FROM (VALUES ('residents:b_res1:3',1,'P1','residents:b_res1:2',0.93,8.5,NULL),
        ('residents:b_res1:3',2,'P2','residents:b_res1:4',0.2,-1.0,NULL)
    ) v(record_key, rank, candidate_person_key, candidate_record_key, match_probability, match_weight, reason);
    INSERT INTO core.address_matches BY NAME SELECT * FROM (VALUES ('floating','b_flo',2,'floating:b_flo:2','金沙路1号1栋','金沙路','1',
        NULL,'1',NULL,NULL,NULL,'multi_match',NULL,['H1','H2'],'road_building', 'multi',
        '门牌“金沙路1号”、1栋，有 2 处房屋都符合，地址未写单元、户室，无法确定')
    ) v(template, batch_id, row_no, record_key, address, road, road_no, compound, building, unit, floor, room, match_status, house_code, candidates, rule, how, basis_detail);
    CREATE TABLE core.person_status (person_key VARCHAR, as_of DATE, status VARCHAR, category VARCHAR,
        house_code VARCHAR, microgrid_code VARCHAR, grid_code VARCHAR, registered BOOLEAN, basis VARCHAR);
    INSERT INTO core.person_status VALUES ('P1','2026-10-31','在住','户籍人口','H1','MG1','G1',true,'实有人口 2026-09-20'),
        ('P2','2026-10-31','待核实','流动人口',NULL,NULL,NULL,false,'-'),
        ('P3','2026-10-31','待核实','户籍人口',NULL,NULL,NULL,false,'-');
    """)


@pytest.fixture
def small_store(schema_store):
    store = schema_store
    with store.connect() as conn:
        build(conn)
    return store
