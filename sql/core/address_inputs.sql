-- Rows that carry a free-text address (filled by address_input_<template>.sql, one file per staging table,
-- so a template with no batch yet is simply absent). stated_house: the row's own 房屋编码 when it is a
-- known house (floating) — the row is 已匹配 to it and its text is not read. community_hint: the row's
-- own 社区名称 (assistance); police_station: its 派出所 (floating, hukou) — both narrow an ambiguous address.
CREATE OR REPLACE TEMP TABLE addr_inputs (
    template VARCHAR, batch_id VARCHAR, row_no INTEGER, record_no VARCHAR, address VARCHAR,
    stated_house VARCHAR, community_hint VARCHAR, police_station VARCHAR
);
-- The rows this build decides, and the outcome the rows it replaces had: address_delta.sql (an incremental build)
-- or address_match_texts.sql (every row) makes them.
DROP TABLE IF EXISTS addr_redo; DROP TABLE IF EXISTS addr_was; DROP TABLE IF EXISTS addr_kept_placed;
