{#
  Row checks for one new batch of a template, generated from sources/<template>.yaml (jinja2,
  rendered by pipelines/ingest). Input: the batch's rows in _incoming (raw columns, all VARCHAR,
  NULL for blank). Variables: batch_id, file_name, loaded_on.
  reject: the row never reaches staging. warn: it does, and stewards see the warning.
#}
{% set fields = t.fields %}
{% set columns = t.columns %}
{% set rec = 'r.record_no' if 'record_no' in columns else 'NULL' %}
{# The checks are collected first, then written out twice: as the list of problems a row has, and as
   the filter that lets only rows with a problem build that list (most rows have none). #}
{% set found = namespace(checks=[]) %}
{% macro check(f, rule, severity, condition, problem) %}
{% set found.checks = found.checks + [{'f': f, 'rule': rule, 'severity': severity, 'condition': condition,
                                       'problem': problem}] %}
{% endmacro %}
{# Every parse the checks need, once per row (a view: the checks read it in one scan). The typed values come from _typed (the
   batch's rows typed by the staging SQL, `typed` = its columns), so checks and staging agree and
   nothing is parsed twice; a field staging does not type is parsed here. #}
{% macro id_prefix(column) %}{{ column[:-9] }}{% endmacro %}
CREATE OR REPLACE TEMP VIEW _prepared AS
SELECT p.*
{% for f in fields if f.type == 'id_number' %}
{% if id_prefix(f.column) ~ 'id_problem' in typed and f.column in typed %}
       , p._tp_{{ f.column }} AS _problem_{{ f.column }}
{% else %}
       , id_problem(p._id_{{ f.column }}, getvariable('loaded_on')) AS _problem_{{ f.column }}
{% endif %}
{% endfor %}
FROM (
    SELECT r.*
{% for f in fields %}
{% if f.type == 'date' %}
           , {{ 't.' ~ f.column if f.column in typed else 'cn_date(r.' ~ f.column ~ ')' }} AS _date_{{ f.column }}
{% elif f.type == 'id_number' %}
           , {{ 't.' ~ f.column if f.column in typed else 'id_normalize(r.' ~ f.column ~ ')' }} AS _id_{{ f.column }}
{% if id_prefix(f.column) ~ 'id_problem' in typed and f.column in typed %}
           , t.{{ id_prefix(f.column) }}id_problem AS _tp_{{ f.column }}
{% endif %}
           , (r.{{ f.column }} IS NOT NULL AND (coalesce(r.cell_types['{{ f.column }}'] = 'number', false)
              OR id_excel_mangled(r.{{ f.column }}))) AS _mangled_{{ f.column }}
{% elif f.type in ('value', 'tags') and f.column ~ '_unknown' in typed %}
           , t.{{ f.column }}_unknown AS _unknown_{{ f.column }}
{% endif %}
{% endfor %}
    FROM _incoming r
{% if typed %}
    JOIN _typed t ON t.row_no = r.row_no
{% endif %}
) p;

{% for f in fields %}
{% set v = 'r.' ~ f.column %}
{% if f.required %}
{{ check(f, 'required_missing', 'reject', v ~ ' IS NULL', "'为空，此项必填'") }}
{% endif %}
{% if f.type == 'date' %}
{{ check(f, 'date_invalid', 'reject', v ~ ' IS NOT NULL AND r._date_' ~ f.column ~ ' IS NULL',
         "'不是有效日期（可写作 2024-03-05、2024/3/5、20240305 或 2024年3月5日）'") }}
{% if f.not_future %}
{{ check(f, 'date_future', 'reject', 'r._date_' ~ f.column ~ " > getvariable('loaded_on')",
         "'晚于导入日期 ' || strftime(getvariable('loaded_on'), '%Y-%m-%d') || '，不可能发生'") }}
{% endif %}
{% elif f.type == 'integer' %}
{{ check(f, 'number_invalid', 'reject', v ~ ' IS NOT NULL AND cn_integer(' ~ v ~ ') IS NULL', "'不是整数'") }}
{% elif f.type == 'decimal' %}
{{ check(f, 'number_invalid', 'reject', v ~ ' IS NOT NULL AND cn_decimal(' ~ v ~ ') IS NULL', "'不是数字'") }}
{% elif f.type == 'id_number' %}
{% set mangled = 'r._mangled_' ~ f.column %}
{% set norm = 'r._id_' ~ f.column %}
{% set problem = 'r._problem_' ~ f.column %}
{{ check(f, 'id_numeric_cell', 'reject', mangled,
         "'是数字格式，Excel已丢失末几位，请以文本格式重新录入'") }}
{{ check(f, 'id_invalid', 'warn', 'NOT ' ~ mangled ~ ' AND ' ~ problem ~ ' IS NOT NULL', "'无效：' || " ~ problem) }}
{{ check(f, 'id_region_unknown', 'warn',
         norm ~ ' IS NOT NULL AND ' ~ problem ~ ' IS NULL AND NOT id_region_known(' ~ norm ~ ')',
         "'的前6位 ' || left(" ~ norm ~ ", 6) || ' 不是已知的行政区划代码，请核对'") }}
{% elif f.type == 'value' %}
{# staging's <column>_unknown is the same test: a non-blank cell whose folded spelling is not listed. #}
{{ check(f, 'value_unknown', 'warn',
         'r._unknown_' ~ f.column if f.column ~ '_unknown' in typed else
         v ~ ' IS NOT NULL AND ' ~ value_map(f.values) ~ '[value_key(' ~ v ~ ')] IS NULL',
         (('不在取值范围内（可选：' ~ catalog.canonical_values(f.values)|join('、') ~ '）')|q)) }}
{% elif f.type == 'tags' %}
{% set unknown = 'list_filter(regexp_split_to_array(' ~ v ~ ", '[;；,，、/\\s]+'), lambda x: x <> '' AND "
                 ~ value_map(f.values) ~ '[value_key(x)] IS NULL)' %}
{{ check(f, 'tag_unknown', 'warn',
         'r._unknown_' ~ f.column if f.column ~ '_unknown' in typed else v ~ ' IS NOT NULL AND len(' ~ unknown ~ ') > 0',
         "'中的标签 ' || array_to_string(" ~ unknown ~ ", '、') || "
         ~ ((' 不在标签列表中（可选：' ~ catalog.canonical_values(f.values)|join('、') ~ '）')|q)) }}
{% endif %}
{% endfor %}
{# The stated birth date and sex against a valid ID of the same row. #}
{% set valid_id = 'r._id_id_number IS NOT NULL AND r._problem_id_number IS NULL' %}
{% if 'id_number' in columns and 'birth_date' in columns %}
{{ check(t.field('birth_date'), 'birth_date_conflict', 'warn',
         valid_id ~ ' AND r._date_birth_date <> id_birth_text(r._id_id_number)',
         "'与身份证号中的出生日期 ' || strftime(id_birth_text(r._id_id_number), '%Y-%m-%d') || ' 不一致'") }}
{% endif %}
{% if 'id_number' in columns and 'sex' in columns %}
{{ check(t.field('sex'), 'sex_conflict', 'warn',
         valid_id ~ ' AND ' ~ value_map(t.field('sex').values) ~ '[value_key(r.sex)] <> id_sex_digit(r._id_id_number)',
         "'与身份证号中的性别 ' || id_sex_digit(r._id_id_number) || ' 不一致'") }}
{% endif %}
INSERT INTO raw.row_errors (batch_id, template, row_no, record_no, field, column_name, value, rule, severity, message)
WITH checks AS (
{% if found.checks %}
    SELECT r.row_no, {{ rec }} AS record_no, unnest(list_filter([
{% for c in found.checks %}
        CASE WHEN {{ c.condition }} THEN {'field': {{ c.f.name|q }}, 'column_name': {{ c.f.column|q }},
             'value': r.{{ c.f.column }}, 'shown': {{ masked('r.' ~ c.f.column, c.f.name) }},
             'rule': '{{ c.rule }}', 'severity': '{{ c.severity }}', 'problem': {{ c.problem }}} END,
{% endfor %}
    ], lambda e: e IS NOT NULL), recursive := true)
    FROM _prepared r
    WHERE {% for c in found.checks %}{{ '\n       OR ' if not loop.first }}coalesce({{ c.condition }}, false){% endfor %}

{% else %}
    SELECT NULL::INTEGER AS row_no, NULL AS record_no, NULL AS field, NULL AS column_name, NULL AS value,
           NULL AS shown, NULL AS rule, NULL AS severity, NULL AS problem WHERE false
{% endif %}
)
SELECT getvariable('batch_id'), {{ t.name|q }}, row_no, record_no, field, column_name, value, rule, severity,
       getvariable('file_name') || ' 第' || row_no || '行 ' || field
       -- the message quotes the cell masked by its field's class; `value` keeps it verbatim for stewards
       || CASE WHEN value IS NULL THEN ' ' ELSE ' "' || shown || '" ' END || problem
FROM checks;

DROP VIEW _prepared;
