-- staging.<template>: the loaded rows of raw.<template>, typed and normalised (docs/architecture.md).
-- One SQL for all nine templates: the columns, their order and types come from sources/<template>.yaml,
-- so a field added there is staged without touching this file; the expressions are in _columns.sql.
{% import 'staging/_columns.sql' as c with context %}
{% set id_col = (t.fields | selectattr('type', 'equalto', 'id_number') | map(attribute='column') | list + [none]) | first %}
{% set stated = 'birth_date' in t.columns and 'sex' in t.columns %}
{{ c.create_table() }}
WITH typed AS (
    SELECT r.batch_id, r.row_no,
{% if 'record_no' not in t.columns %}
           NULL::VARCHAR AS record_no,  -- this template has no 记录编号
{% endif %}
{% for f in t.fields %}
           {{ c.col(f.column) }},
{% endfor %}
           r.loaded_on
    FROM {{ c.loaded_rows() }} r
{% if id_col %}
), checked AS (
    SELECT typed.*, {{ c.id_check(id_col) }}
    FROM typed
), family AS (
    SELECT checked.* EXCLUDE (loaded_on), {{ c.id_family(id_col) }}
    FROM checked
)
SELECT *{% if stated and id_col == 'id_number' %},
       {{ c.conflicts() }}{% endif %}

FROM family;
{% else %}
)
SELECT typed.* EXCLUDE (loaded_on)
FROM typed;
{% endif %}
