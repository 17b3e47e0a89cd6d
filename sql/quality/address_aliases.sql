-- Stewards' address decisions (pipelines/address/aliases.py), append-only like quality.corrections:
-- a decision is never updated; a later row for the same spelling (another target, or a revoke)
-- supersedes it. Idempotent: run before every address match and every decision.
--   kind compound: a compound spelling (spelling_key = addr_compound_norm of it), optionally only at one
--                  road and door number (context_key = 'carrier|road_no'), is the compound target_key;
--   kind road:     a road spelling is the road target_key;
--   kind house:    an address spelling (spelling_key = its folded text, ap_out.norm) is the house target_key.
CREATE TABLE IF NOT EXISTS quality.address_aliases (
    alias_id VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL CHECK (kind IN ('compound', 'road', 'house')),
    spelling VARCHAR NOT NULL, spelling_key VARCHAR NOT NULL,
    context VARCHAR, context_key VARCHAR,
    target VARCHAR, target_key VARCHAR,
    action VARCHAR NOT NULL CHECK (action IN ('set', 'revoke')),
    reason VARCHAR, "by" VARCHAR NOT NULL, "at" TIMESTAMP NOT NULL
);
CREATE OR REPLACE VIEW quality.active_address_aliases AS
SELECT * EXCLUDE (rn) FROM (
    SELECT *, row_number() OVER (PARTITION BY kind, spelling_key, coalesce(context_key, '')
                                 ORDER BY "at" DESC, alias_id DESC) AS rn
    FROM quality.address_aliases
) WHERE rn = 1 AND action = 'set';
