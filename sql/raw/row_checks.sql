{#
  Row checks for one new batch of a template, generated from sources/<template>.yaml (jinja2,
  rendered by pipelines/ingest). Input: the batch's rows in _incoming (raw columns, all VARCHAR,
  NULL for blank). Variables: batch_id, file_name, loaded_on.
  Per file (pipelines/ingest): fmt (csv / xlsx / xls), broken (some CSV record's quotes do not pair up),
  unnamed (extra_fields keys of columns without a header), dups (a field's second column: its
  extra_fields key and both columns' labels), mask(f, expr) (how a message shows a cell of f), scan (what
  the file holds at all: error_text (a cell starting with #), control (a control character), marks (a
  workbook cell typed formula / error), long (the columns with a cell longer in bytes than its field allows)).
  reject: the row never reaches staging. warn: it does, and stewards see the warning.
  A message names file, row and field and says what to do; it quotes at most the offending cell,
  an ID masked 前6后4 (pipelines/publish/masking.py).
#}
{% set fields = t.fields %}
{% set columns = t.columns %}
{% set rec = 'r.record_no' if 'record_no' in columns else 'NULL' %}
{# The checks are collected first, then written out twice: as the list of problems a row has, and as
   the filter that lets only rows with a problem build that list (most rows have none).
   f: the field (none for a problem of the whole row); shown: how the message quotes the cell
   (default: the cell, masked per field; '' quotes nothing); stored: what row_errors.value keeps. #}
{% set found = namespace(checks=[]) %}
{# A row that could not be split into its fields (quotes), or whose values shifted (extra fields), is
   refused for that alone: what its cells would say field by field is noise. #}
{% set row_split_wrong = broken or (fmt == 'csv' and unnamed) %}
{% macro check(f, rule, severity, condition, problem, shown=none, stored=none) %}
{% set condition = '(' ~ condition ~ ') AND NOT r._split_wrong' if f and row_split_wrong else condition %}
{% set found.checks = found.checks + [{'f': f, 'rule': rule, 'severity': severity, 'condition': condition,
                                       'problem': problem, 'shown': shown, 'stored': stored}] %}
{% endmacro %}
{# Excel's error values, written into a cell by calamine (type 'error') or by an export to CSV. #}
{% set excel_error = "'^#(N/A|VALUE!|REF!|DIV/0!|NAME\\?|NUM!|NULL!|GETTING_DATA|SPILL!|CALC!|FIELD!|BLOCKED!|UNKNOWN!|BUSY!|CONNECT!|EXTERNAL!|PYTHON!|ERROR)$'" %}
{# C0 controls but tab and line ends, and DEL: invisible, and never part of a name, code or date. #}
{% set control = "'[\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F]'" %}
{% set extra_cells = 'list_filter([' ~ unnamed|map('q')|join(', ') ~ '], lambda k: r.extra_fields[k] IS NOT NULL)' %}
{# The cell-level tests a field needs: pipelines/ingest scanned the file (scan) and left out those that
   cannot find anything in it, so a clean file pays for none. #}
{% macro cell_tests(f) %}{% set v = 'r.' ~ f.column %}{% set parts = [] %}
{% if scan.error_text %}{% set _ = parts.append('starts_with(' ~ v ~ ", '#') AND regexp_full_match(" ~ v ~ ', ' ~ excel_error ~ ')') %}{% endif %}
{% if scan.control %}{% set _ = parts.append('regexp_matches(' ~ v ~ ', ' ~ control ~ ')') %}{% endif %}
{% if f.column in scan.long %}{% set _ = parts.append('strlen(' ~ v ~ ') > ' ~ f.max_length ~ ' AND length(' ~ v ~ ') > ' ~ f.max_length) %}{% endif %}
{% if scan.marks %}{% set _ = parts.append("r.cell_types['" ~ f.column ~ "'] IN ('formula', 'error')") %}{% endif %}
{{ parts | join(' OR ') }}{% endmacro %}
{% macro guard(f) %}{{ ' AND NOT r._bad_' ~ f.column if cell_tests(f) | trim else '' }}{% endmacro %}
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
{% if broken %}
           , coalesce(r.cell_types['_row'] = 'quote_broken', false) AS _broken
{% endif %}
{% if row_split_wrong %}
           , {{ "coalesce(r.cell_types['_row'] = 'quote_broken', false)" if broken else 'false' }}
             {% if fmt == 'csv' and unnamed %}OR len({{ extra_cells }}) > 0{% endif %} AS _split_wrong
{% endif %}
{% for f in fields %}
{% if cell_tests(f) | trim %}
           , coalesce({{ cell_tests(f) | trim }}, false) AS _bad_{{ f.column }}
{% endif %}
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

{% if broken %}
{{ check(none, 'quote_broken', 'reject', 'r._broken',
         "'引号不成对（一个值以引号开始却没有正确结束，或引号里的内容跨了行），本行无法分成各列，未导入：请在原表中改正这一行的引号后重新导出'") }}
{% endif %}
{% if fmt == 'csv' and unnamed %}
{# A CSV row wider than its header: values shifted (an unquoted comma, a column left out), so none can be trusted. #}
{% set extra = extra_cells %}
{{ check(none, 'extra_field', 'reject', 'len(' ~ extra ~ ') > 0',
         "'值比表头多：' || array_to_string(" ~ extra ~ ", '、') || ' 有值却没有表头，各值可能错位了（常见原因：某个值里有未加引号的逗号），本行未导入：请改正该行'",
         stored="array_to_string(list_transform(" ~ extra ~ ", lambda k: k || '=' || r.extra_fields[k]), '; ')") }}
{% endif %}
{% for f in fields %}
{% set v = 'r.' ~ f.column %}
{# What the cell itself holds, before what it means: an error value, a formula without its result,
   invisible control characters, or far more text than the field can hold. #}
{% if scan.error_text or scan.marks %}
{{ check(f, 'cell_error', 'reject',
         "(" ~ v ~ " IS NOT NULL AND starts_with(" ~ v ~ ", '#') AND regexp_full_match(" ~ v ~ ", " ~ excel_error ~ "))"
         ~ " OR coalesce(r.cell_types['" ~ f.column ~ "'] = 'error', false)",
         "'是 Excel 的错误值（公式出错），不是数据：请在原表中改正公式或填入实际值'", shown=v) }}
{% endif %}
{% if scan.marks %}
{{ check(f, 'formula_no_value', 'reject', "coalesce(r.cell_types['" ~ f.column ~ "'] = 'formula', false)",
         "'是公式，但文件里没有保存计算结果（文件由程序生成、未经 Excel 保存）：请用 Excel 或 WPS 打开并保存后重新放入收件箱'",
         shown="''") }}
{% endif %}
{% if scan.control %}
{{ check(f, 'control_char', 'reject', 'regexp_matches(' ~ v ~ ', ' ~ control ~ ')',
         "'的第 ' || (length(regexp_extract(" ~ v ~ ", '^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F]*')) + 1) "
         ~ "|| ' 个字符是不可见的控制字符（' || printf('U+%04X', unicode(regexp_extract(" ~ v ~ ", " ~ control ~ "))) "
         ~ "|| '，引号中以□表示）：请删除后重新导出'",
         shown='regexp_replace(' ~ mask(f, v) ~ ', ' ~ control ~ ", '□', 'g')") }}
{% endif %}
{% if f.column in scan.long %}
{{ check(f, 'too_long', 'reject', 'strlen(' ~ v ~ ') > ' ~ f.max_length ~ ' AND length(' ~ v ~ ') > ' ~ f.max_length,
         "'长 ' || length(" ~ v ~ ") || ' 个字符，超过上限 " ~ f.max_length
         ~ " 个字符：请检查是否把多个单元格的内容粘贴到了一起，或列错位了'",
         shown="left(" ~ mask(f, v) ~ ", 20) || '…'", stored="left(" ~ v ~ ", 200) || '…'") }}
{% endif %}
{% if f.required %}
{{ check(f, 'required_missing', 'reject', v ~ ' IS NULL' ~ guard(f), "'为空，此项必填'") }}
{% endif %}
{% if f.type == 'date' %}
{{ check(f, 'date_invalid', 'reject', v ~ ' IS NOT NULL AND r._date_' ~ f.column ~ ' IS NULL' ~ guard(f),
         "'不是有效日期（可写作 2024-03-05、2024/3/5、20240305 或 2024年3月5日）'") }}
{% if f.not_future %}
{{ check(f, 'date_future', 'reject', 'r._date_' ~ f.column ~ " > getvariable('loaded_on')" ~ guard(f),
         "'晚于导入日期 ' || strftime(getvariable('loaded_on'), '%Y-%m-%d') || '，不可能发生'") }}
{% endif %}
{% elif f.type == 'integer' %}
{{ check(f, 'number_invalid', 'reject', v ~ ' IS NOT NULL AND cn_integer(' ~ v ~ ') IS NULL' ~ guard(f), "'不是整数'") }}
{% elif f.type == 'decimal' %}
{{ check(f, 'number_invalid', 'reject', v ~ ' IS NOT NULL AND cn_decimal(' ~ v ~ ') IS NULL' ~ guard(f), "'不是数字'") }}
{% elif f.type == 'id_number' %}
{% set mangled = 'r._mangled_' ~ f.column %}
{% set norm = 'r._id_' ~ f.column %}
{% set problem = 'r._problem_' ~ f.column %}
{{ check(f, 'id_numeric_cell', 'reject', mangled ~ guard(f),
         "'是数字格式，Excel已丢失末几位，请以文本格式重新录入'") }}
{{ check(f, 'id_invalid', 'warn', 'NOT ' ~ mangled ~ ' AND ' ~ problem ~ ' IS NOT NULL' ~ guard(f), "'无效：' || " ~ problem) }}
{{ check(f, 'id_region_unknown', 'warn',
         norm ~ ' IS NOT NULL AND ' ~ problem ~ ' IS NULL AND NOT id_region_known(' ~ norm ~ ')' ~ guard(f),
         "'的前6位 ' || left(" ~ norm ~ ", 6) || ' 不是已知的行政区划代码，请核对'") }}
{% elif f.type == 'value' %}
{# staging's <column>_unknown is the same test: a non-blank cell whose folded spelling is not listed. #}
{{ check(f, 'value_unknown', 'warn',
         ('r._unknown_' ~ f.column if f.column ~ '_unknown' in typed else
          v ~ ' IS NOT NULL AND ' ~ value_map(f.values) ~ '[value_key(' ~ v ~ ')] IS NULL') ~ guard(f),
         (('不在取值范围内（可选：' ~ catalog.canonical_values(f.values)|join('、') ~ '）')|q)) }}
{% elif f.type == 'tags' %}
{% set unknown = 'list_filter(regexp_split_to_array(' ~ v ~ ", '[;；,，、/\\s]+'), lambda x: x <> '' AND "
                 ~ value_map(f.values) ~ '[value_key(x)] IS NULL)' %}
{{ check(f, 'tag_unknown', 'warn',
         ('r._unknown_' ~ f.column if f.column ~ '_unknown' in typed else v ~ ' IS NOT NULL AND len(' ~ unknown ~ ') > 0') ~ guard(f),
         "'中的标签 ' || array_to_string(" ~ unknown ~ ", '、') || "
         ~ ((' 不在标签列表中（可选：' ~ catalog.canonical_values(f.values)|join('、') ~ '）')|q)) }}
{% endif %}
{% endfor %}
{% for d in dups %}
{# A field headed twice: loaded only where both columns say the same; no silent choice between them. #}
{% set first = "NULLIF(trim(r." ~ d.f.column ~ "), '')" %}
{% set second = "r.extra_fields[" ~ (d.key|q) ~ "]" %}
{{ check(d.f, 'column_duplicate', 'reject', first ~ ' IS DISTINCT FROM ' ~ second,
         "'在两列中的值不同（" ~ d.first_label ~ " \"' || coalesce(" ~ mask(d.f, first) ~ ", '空') || '\"，"
         ~ d.second_label ~ " \"' || coalesce(" ~ mask(d.f, second) ~ ", '空') || '\"）：请核对后删去多余的一列'",
         shown="''") }}
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
{% set cell = ('r.' ~ c.f.column) if c.f else 'NULL::VARCHAR' %}
{% set shown = c.shown if c.shown is not none else (mask(c.f, cell) if c.f else "''") %}
        CASE WHEN {{ c.condition }} THEN {'field': {{ c.f.name|q if c.f else 'NULL::VARCHAR' }},
             'column_name': {{ c.f.column|q if c.f else 'NULL::VARCHAR' }},
             'value': {{ c.stored if c.stored is not none else cell }}, 'shown': {{ shown }},
             'rule': '{{ c.rule }}', 'severity': '{{ c.severity }}', 'problem': {{ c.problem }}} END,
{% endfor %}
    ], lambda e: e IS NOT NULL), recursive := true)
    FROM _prepared r
    WHERE {% for c in found.checks %}{{ '\n       OR ' if not loop.first }}coalesce({{ c.condition }}, false){% endfor %}

{% else %}
    SELECT NULL::INTEGER AS row_no, NULL AS record_no, NULL AS field, NULL AS column_name, NULL AS value, NULL AS shown,
           NULL AS rule, NULL AS severity, NULL AS problem WHERE false
{% endif %}
)
SELECT getvariable('batch_id'), {{ t.name|q }}, row_no, record_no, field, column_name, value, rule, severity,
       getvariable('file_name') || ' 第' || row_no || '行' || CASE WHEN field IS NULL THEN '' ELSE ' ' || field END
       || CASE WHEN coalesce(shown, '') = '' THEN ' ' ELSE ' "' || shown || '" ' END || problem
FROM checks;

DROP VIEW _prepared;
