-- 0002_principals: IAM-style users and roles and their inline identity
-- policies. Account roots (arn:aws:iam::<account>:root) have no row: they
-- always exist and are always enabled. Access keys stay in `credentials`,
-- whose principal_arn names a row here or an account root.
-- IAM treats user and role names as case-insensitive within an account, so
-- `alice` and `Alice` cannot both exist (whatever their paths).

CREATE TABLE principals (
  arn TEXT NOT NULL PRIMARY KEY,
  account_id TEXT NOT NULL CHECK (length(account_id) = 12),
  kind TEXT NOT NULL CHECK (kind IN ('user', 'role')),
  path TEXT NOT NULL,
  name TEXT NOT NULL,
  enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  created_at INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX principals_by_name ON principals (account_id, kind, name COLLATE NOCASE);

CREATE TABLE identity_policies (
  principal_arn TEXT NOT NULL REFERENCES principals (arn),
  policy_name TEXT NOT NULL,
  document TEXT NOT NULL,
  PRIMARY KEY (principal_arn, policy_name)
) STRICT;

CREATE INDEX credentials_by_principal ON credentials (principal_arn, access_key_id);
