-- Rows that need a house found from their free-text address (filled by address_input_<template>.sql,
-- one file per staging table, so a template with no batch yet is simply absent).
CREATE OR REPLACE TEMP TABLE addr_inputs (
    template VARCHAR, batch_id VARCHAR, row_no INTEGER, record_no VARCHAR, address VARCHAR
);
