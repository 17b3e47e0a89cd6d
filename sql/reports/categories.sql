-- The code lists of the categories reports group by, in their natural order: a table lists them by rank, never as
-- text (as text, 18-34岁 sorts before 18岁以下 and 一至三年 before 半年以内). Bands are defined here once, with their
-- bounds, and the reports that band a value read them (floating_stats.sql). Needs rp_provinces (provinces.sql).

-- 年龄段 (full years on D): from_age <= age < below_age.
CREATE OR REPLACE TEMP TABLE rp_age_bands AS
SELECT * FROM (VALUES
  (1, '18岁以下', 0, 18), (2, '18-34岁', 18, 35), (3, '35-59岁', 35, 60), (4, '60岁以上', 60, NULL)
) t(ord, label, from_age, below_age);

-- 居住时长 (full months since the registration on D): from_months <= months < below_months.
CREATE OR REPLACE TEMP TABLE rp_stay_bands AS
SELECT * FROM (VALUES
  (1, '半年以内', 0, 6), (2, '半年至一年', 6, 12), (3, '一至三年', 12, 36), (4, '三年以上', 36, NULL)
) t(ord, label, from_months, below_months);

-- dim, value, rank. Provinces rank by their GB/T 2260 code; fixed lists in the order of their standard
-- (残疾类别: GB/T 26341-2010, in the full and the short spelling; 状态: contract §2, the living first).
CREATE OR REPLACE TEMP TABLE rp_category_order AS
SELECT '年龄段' AS dim, label AS value, ord FROM rp_age_bands
UNION ALL SELECT '居住时长', label, ord FROM rp_stay_bands
UNION ALL SELECT '户籍省份', name, code::INTEGER FROM rp_provinces
UNION ALL SELECT dim, value, ord FROM (VALUES
  ('状态', '在住', 1), ('状态', '待核实', 2), ('状态', '已离开', 3), ('状态', '死亡', 4),
  ('人员类别', '户籍人口', 1), ('人员类别', '流动人口', 2), ('人员类别', '境外人员', 3), ('人员类别', '未落户人员', 4),
  ('性别', '男', 1), ('性别', '女', 2),
  ('是否租住', '是', 1), ('是否租住', '否', 2),
  ('救助类别', '城市低保', 1), ('救助类别', '农村低保', 2), ('救助类别', '特困供养', 3), ('救助类别', '临时救助', 4),
  ('残疾类别', '视力残疾', 1), ('残疾类别', '听力残疾', 2), ('残疾类别', '言语残疾', 3), ('残疾类别', '肢体残疾', 4),
  ('残疾类别', '智力残疾', 5), ('残疾类别', '精神残疾', 6), ('残疾类别', '多重残疾', 7),
  ('残疾类别', '视力', 1), ('残疾类别', '听力', 2), ('残疾类别', '言语', 3), ('残疾类别', '肢体', 4),
  ('残疾类别', '智力', 5), ('残疾类别', '精神', 6), ('残疾类别', '多重', 7),
  ('残疾等级', '一级', 1), ('残疾等级', '二级', 2), ('残疾等级', '三级', 3), ('残疾等级', '四级', 4)
) t(dim, value, ord);

-- Values that say "not known" or "none of the above" come last, in this order, in every category; a value the
-- code list does not know (a new spelling) comes after the listed ones and before these.
CREATE OR REPLACE TEMP TABLE rp_category_last AS
SELECT * FROM (VALUES ('其他', 1), ('其他或不详', 2), ('不详', 3), ('性别不详', 4), ('未登记', 5), ('无法关联到人员', 6))
t(value, ord);

CREATE OR REPLACE TEMP MACRO category_rank(d, v) AS coalesce(
    (SELECT ord FROM rp_category_order WHERE dim = d AND value = v),
    (SELECT 1000000 + ord FROM rp_category_last WHERE value = v),
    999999);
