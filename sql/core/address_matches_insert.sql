-- core.address_matches, an incremental build: the rows address_delta.sql chose, added to the rows it kept.
INSERT INTO core.address_matches SELECT * FROM addr_match_rows;
