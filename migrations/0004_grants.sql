-- 0004_grants: grants on keys. `params` is the canonical JSON of the
-- parameters that make CreateGrant with a Name idempotent; the unique index
-- makes 64 parallel CreateGrant calls with one Name yield one grant. A retired
-- or revoked grant is deleted in the transaction that acknowledges it.

CREATE TABLE grants (
  grant_id TEXT NOT NULL PRIMARY KEY,
  key_id TEXT NOT NULL REFERENCES keys (key_id),
  name TEXT,
  grantee_principal TEXT,
  grantee_service_principal TEXT,
  retiring_principal TEXT,
  retiring_service_principal TEXT,
  issuing_account TEXT NOT NULL,
  operations TEXT NOT NULL,
  constraints TEXT,
  params TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX grants_by_key ON grants (key_id, grant_id);

CREATE UNIQUE INDEX grants_by_name ON grants (key_id, name, params) WHERE name IS NOT NULL;

CREATE INDEX grants_by_retiring_principal ON grants (retiring_principal, grant_id)
  WHERE retiring_principal IS NOT NULL;
