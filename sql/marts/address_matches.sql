-- marts.address_matches: how each loaded source row's free-text address was matched to a house, for the
-- address-matches extract (sql/reports/extract_address_matches.sql) and its 依据 (address_basis).
CREATE OR REPLACE TABLE marts.address_matches AS SELECT * FROM core.address_matches;
