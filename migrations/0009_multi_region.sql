-- 0009_multi_region: multi-Region keys. A primary key and its replicas share
-- one `mrk-` id; each has its own row in keys under the regional storage id
-- `mrk-…@<region>` (core/regional_store.ts) with its own state, policy,
-- description, tags, aliases and grants, and its own copy of every material
-- version (wrapped under its own ARN, so the root-key AAD stays per row).
-- This table names each family's primary region.

CREATE TABLE multi_region_keys (
  key_id TEXT NOT NULL PRIMARY KEY,
  primary_region TEXT NOT NULL
) STRICT;
