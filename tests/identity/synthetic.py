"""A synthetic core.person_records of n persons (~3 records each) for timing the linkage.

About 5% of the records need the probabilistic pass: visits without an ID (name + house),
residents with a homophone name and no ID, death rows with a mistyped ID, and 1% of persons
who never show an ID at all.
"""
from __future__ import annotations

SQL = """
CREATE OR REPLACE TEMP TABLE _syn_persons AS
WITH base AS (
    SELECT
        i,
        '5' || lpad(CAST(i // 1000 AS VARCHAR), 5, '0') AS region,
        DATE '1940-01-01' + CAST(CAST(hash(i, 'b') % 25000 AS INTEGER) AS INTEGER) AS birth,
        lpad(CAST(i % 1000 AS VARCHAR), 3, '0') AS seq,
        ['张','王','李','赵','刘','陈','杨','黄','周','吴','徐','孙','胡','朱','高','林','何','郭','马','单'][1 + CAST(hash(i, 's') % 20 AS INTEGER)] AS surname,
        ['伟','芳','娜','敏','静','丽','强','磊','军','洋','勇','艳','杰','娟','涛','明','超','秀','霞','平',
         '刚','桂','英','华','建','文','辉','力','玲','萍','红','鹏','飞','宇','浩','鑫','波','斌','宁','琳'][1 + CAST(hash(i, 'g1') % 40 AS INTEGER)]
        || CASE WHEN CAST(hash(i, 'len') % 2 AS INTEGER) = 0 THEN '' ELSE
        ['国','海','晓','春','玉','金','志','德','新','兰','凤','云','梅','永','荣','雪','成','小','东','光'][1 + CAST(hash(i, 'g2') % 20 AS INTEGER)] END AS given,
        'H' || CAST(i // 3 AS VARCHAR) AS house,
        CASE WHEN i % 2 = 0 THEN '男' ELSE '女' END AS sex
    FROM range(getvariable('n_persons')) t(i)
), body AS (
    SELECT *, region || strftime(birth, '%Y%m%d') || seq AS body17 FROM base
)
SELECT *, body17 || substr('10X98765432', CAST(1 + list_sum(list_transform(range(1, 18),
        lambda k: CAST(body17[k] AS INTEGER) * [7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2][k])) % 11 AS INTEGER), 1) AS id_number
FROM body;
DELETE FROM core.person_records;
INSERT INTO core.person_records (record_key, record_id, template, batch_id, row_no, record_no, name, name_raw,
    id_number, id_raw, id_valid, id_problem, birth_date, sex, house_code, house_source, address, event_date)
SELECT
    t || ':syn:' || CAST(i AS VARCHAR) AS record_key, row_number() OVER (ORDER BY t, i) AS record_id,
    t AS template, 'syn', i, NULL,
    name, name, id, id, id_valid, NULL, birth_date, sex, house, 'stated', NULL, DATE '2024-01-01'
FROM (
    -- every person who has an ID: a residents row and a hukou row
    SELECT 'residents' AS t, i, surname || given AS name, id_number AS id, true AS id_valid, birth AS birth_date,
           sex, house FROM _syn_persons WHERE CAST(hash(i, 'noid') % 100 AS INTEGER) <> 0
    UNION ALL
    SELECT 'hukou', i, surname || given, id_number, true, birth, sex, NULL FROM _syn_persons
    WHERE CAST(hash(i, 'noid') % 100 AS INTEGER) <> 0
    UNION ALL
    -- ~8%: a visit without an ID
    SELECT 'visits', i, surname || given, NULL, false, NULL, NULL, house FROM _syn_persons
    WHERE CAST(hash(i, 'v') % 100 AS INTEGER) < 8
    UNION ALL
    -- ~4%: a residents row without ID, homophone given name 伟 -> 玮 (same birth date and house)
    SELECT 'floating', i, surname || replace(given, '伟', '玮'), NULL, false, birth, sex, house FROM _syn_persons
    WHERE CAST(hash(i, 'f') % 100 AS INTEGER) < 4
    UNION ALL
    -- ~2%: a death row whose ID has one digit wrong
    SELECT 'deaths', i, surname || given,
           id_number[1:15] || CAST((CAST(id_number[16] AS INTEGER) + 1) % 10 AS VARCHAR) || id_number[17:18],
           false, NULL, NULL, NULL FROM _syn_persons
    WHERE CAST(hash(i, 'd') % 100 AS INTEGER) < 2
    UNION ALL
    -- 1%: persons who never show an ID: a residents row and a visit
    SELECT 'residents', i, surname || given, NULL, false, birth, sex, house FROM _syn_persons
    WHERE CAST(hash(i, 'noid') % 100 AS INTEGER) = 0
);
DROP TABLE _syn_persons;
"""


def make_synthetic(conn, n_persons: int) -> int:
    conn.execute("SET VARIABLE n_persons = ?", [n_persons])
    conn.execute(SQL)
    return conn.execute("SELECT count(*) FROM core.person_records").fetchall()[0][0]
