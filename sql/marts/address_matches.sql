-- marts.address_matches: how each loaded source row's free-text address was matched to a house, for the
-- address-matches extract (sql/reports/extract_address_matches.sql) and its 依据 (address_basis).
-- A view of core.address_matches, not a copy: the rows are the same, and copying them (millions at city scale)
-- cost every build, an incremental one too, the whole table's write. A published version is a copy of the whole
-- store file (pipelines/versions.py), core included. (A store built before 2026-12-07 holds it as a table:
-- pipelines/marts/__init__.py drops that first.)
CREATE OR REPLACE VIEW marts.address_matches AS SELECT * FROM core.address_matches;
