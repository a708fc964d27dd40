/**
 * The schema migrations, embedded at build time so `deno compile` binaries
 * carry them. The `.sql` files in migrations/ are the source; add each new
 * file here (storage/migrations_test.ts fails when one is missing).
 *
 * @module
 */
import initial from "../migrations/0001_initial.sql" with { type: "text" };
import principals from "../migrations/0002_principals.sql" with { type: "text" };
import audit from "../migrations/0003_audit.sql" with { type: "text" };
import grants from "../migrations/0004_grants.sql" with { type: "text" };
import changeCounter from "../migrations/0005_change_counter.sql" with { type: "text" };
import rotation from "../migrations/0006_rotation.sql" with { type: "text" };
import importedMaterial from "../migrations/0007_import.sql" with { type: "text" };
import rootKeys from "../migrations/0008_root_keys.sql" with { type: "text" };
import multiRegion from "../migrations/0009_multi_region.sql" with { type: "text" };
import auditCompact from "../migrations/0010_audit_compact.sql" with { type: "text" };
import awsManagedKeys from "../migrations/0011_aws_managed_keys.sql" with { type: "text" };

/** One numbered migration: `migrations/<version>_<name>.sql`. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Every migration, in the order they apply. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: "initial", sql: initial },
  { version: 2, name: "principals", sql: principals },
  { version: 3, name: "audit", sql: audit },
  { version: 4, name: "grants", sql: grants },
  { version: 5, name: "change_counter", sql: changeCounter },
  { version: 6, name: "rotation", sql: rotation },
  { version: 7, name: "import", sql: importedMaterial },
  { version: 8, name: "root_keys", sql: rootKeys },
  { version: 9, name: "multi_region", sql: multiRegion },
  { version: 10, name: "audit_compact", sql: auditCompact },
  { version: 11, name: "aws_managed_keys", sql: awsManagedKeys },
];
