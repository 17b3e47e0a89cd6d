{#
  Column expressions shared by sql/staging/_template.sql (jinja2 macros, rendered by
  pipelines/staging with `t`, the template of sources/<template>.yaml, in scope). A column's
  expression follows its field type in the YAML; value lists come from sources/_types.yaml.
#}

{# Raw rows that reached staging: from loaded batches, without any `reject` row error.
   Raw is read through the stewards' corrections (quality.corrected_<template>, see
   pipelines/quality/corrections.py), so a fix made once holds on every rebuild and a fixed
   cell no longer rejects its row. `overlay` is false when no fix stands at all: then the overlay
   is the identity and raw is read directly (the views' joins cost time on millions of rows). #}
{% macro loaded_rows() -%}
{% if incoming %}
(SELECT r.*, getvariable('loaded_on') AS loaded_on FROM _incoming r)
{%- else %}
(
        SELECT r.*, b.loaded_on
        FROM {{ 'quality.corrected_' if overlay else 'raw.' }}{{ t.name }} r
        JOIN raw.batches b ON b.batch_id = r.batch_id AND b.status = 'loaded'
        WHERE NOT EXISTS (
            SELECT 1 FROM {{ 'quality.effective_row_errors' if overlay else 'raw.row_errors' }} e
            WHERE e.batch_id = r.batch_id AND e.row_no = r.row_no AND e.severity = 'reject')
    )
{%- endif %}
{%- endmacro %}

{# `incoming`: type one new batch's rows (TEMP table _typed, from _incoming) while it is loaded, so the
   row checks and staging share one computation (pipelines/staging, typed rows cache). #}
{% macro create_table() -%}
CREATE OR REPLACE {{ 'TEMP TABLE _typed' if incoming else 'TABLE staging.' ~ t.name }} AS
{%- endmacro %}

{% macro value_of(column) -%}
{{ value_map(t.field(column).values) }}[value_key(r.{{ column }})]
{%- endmacro %}

{# One field of the template, typed by its YAML type. #}
{% macro col(column) -%}
{% set f = t.field(column) %}
{% set v = 'r.' ~ column %}
{% if f.type == 'date' -%}
cn_date({{ v }}) AS {{ column }}
{%- elif f.type == 'integer' -%}
cn_integer({{ v }}) AS {{ column }}
{%- elif f.type == 'decimal' -%}
cn_decimal({{ v }}) AS {{ column }}
{%- elif f.type == 'code' -%}
code_normalize({{ v }}) AS {{ column }}
{%- elif f.type == 'phone' -%}
phone_normalize({{ v }}) AS {{ column }}
{%- elif f.type == 'name' -%}
name_normalize({{ v }}) AS {{ column }}, clean_text({{ v }}) AS {{ column }}_raw
{%- elif f.type == 'value' -%}
{{ value_of(column) }} AS {{ column }},
           (clean_text({{ v }}) IS NOT NULL AND {{ value_of(column) }} IS NULL) AS {{ column }}_unknown
{%- elif f.type == 'tags' -%}
{# Tags are separated by ; (also full-width ；, commas, 、 or spaces); unknown tags are dropped and flagged. #}
{% set parts = "list_filter(regexp_split_to_array(" ~ v ~ ", '[;；,，、/\\s]+'), lambda x: x <> '')" %}
{% set known = value_map(f.values) %}
coalesce(list_sort(list_distinct(list_filter(list_transform({{ parts }}, lambda x: {{ known }}[value_key(x)]),
               lambda x: x IS NOT NULL))), []) AS {{ column }},
           coalesce(list_bool_or(list_transform({{ parts }}, lambda x: {{ known }}[value_key(x)] IS NULL)), false)
               AS {{ column }}_unknown
{%- elif f.type == 'id_number' -%}
{# The rest of the ID family is added by id_family() over the typed rows. #}
id_normalize({{ v }}) AS {{ column }}, clean_text({{ v }}) AS {{ id_prefix(column) }}id_raw
{%- else -%}
clean_text({{ v }}) AS {{ column }}
{%- endif %}
{%- endmacro %}

{# owner_id_number -> owner_ ; id_number -> '' #}
{% macro id_prefix(column) -%}{{ column[:-9] }}{%- endmacro %}

{# The id_* family of docs/architecture.md, in two steps so that id_problem() runs once per row:
   id_check() over the typed rows, then id_family() over those. #}
{% macro id_check(column) -%}
id_problem({{ column }}, loaded_on) AS {{ id_prefix(column) }}id_problem
{%- endmacro %}

{% macro id_family(column) -%}
{% set p = id_prefix(column) %}
({{ column }} IS NOT NULL AND {{ p }}id_problem IS NULL) AS {{ p }}id_valid,
       id_region_known({{ column }}) AS {{ p }}id_region_known,
       CASE WHEN {{ column }} IS NOT NULL AND {{ p }}id_problem IS NULL THEN id_birth_text({{ column }}) END AS {{ p }}id_birth_date,
       CASE WHEN {{ column }} IS NOT NULL AND {{ p }}id_problem IS NULL THEN id_sex_digit({{ column }}) END AS {{ p }}id_sex
{%- endmacro %}

{# The stated birth date and sex against the ID (over the id_family() columns): true only when both are
   known and differ. #}
{% macro conflicts() -%}
coalesce(birth_date <> id_birth_date, false) AS birth_date_conflict,
       coalesce(sex <> id_sex, false) AS sex_conflict
{%- endmacro %}
