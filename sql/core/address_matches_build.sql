-- core.address_matches whole (a full build): every row of addr_match_rows (core/address_matches.sql).
CREATE OR REPLACE TABLE core.address_matches AS SELECT * FROM addr_match_rows;
