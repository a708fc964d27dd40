-- 0006_rotation: key rotation (core/operations/rotation.ts, core/rotation_scheduler.ts,
-- storage/rotation_store.ts).
--
-- key_rotation: one row per key that ever had automatic rotation enabled or
-- was rotated on demand. `enabled` and `period_days` are EnableKeyRotation's;
-- `next_rotation_date` (epoch ms) is when the scheduler rotates the key next,
-- NULL while automatic rotation is disabled. The schedule's anchor (the enable
-- date or the nominal date of the last automatic rotation) is
-- next_rotation_date - period_days days. `on_demand_rotations` counts
-- RotateKeyOnDemand calls (AWS allows 25 per key).
--
-- A rotation inserts the next key_material version and moves
-- keys.current_material_version to it in one transaction. The INSERT takes its
-- version from a sub-select that yields NULL (failing the NOT NULL version, so
-- the whole transaction with its audit record rolls back) unless the key is
-- still at the version the rotation read and, for an automatic rotation,
-- next_rotation_date is still the value the scheduler read: of several
-- instances racing for the same due rotation exactly one commits.
--
-- key_material.rotation_type / rotated_at: how and when each version came
-- to be (AUTOMATIC or ON_DEMAND); NULL for a key's first material.

CREATE TABLE key_rotation (
  key_id TEXT NOT NULL PRIMARY KEY REFERENCES keys (key_id),
  enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  period_days INTEGER NOT NULL CHECK (period_days BETWEEN 90 AND 2560),
  next_rotation_date INTEGER,
  on_demand_rotations INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX key_rotation_due ON key_rotation (next_rotation_date) WHERE enabled = 1;

-- A key's schedule goes with it (BEFORE, so the foreign key never sees an orphan).
CREATE TRIGGER key_rotation_of_deleted_key BEFORE DELETE ON keys
BEGIN
  DELETE FROM key_rotation WHERE key_id = OLD.key_id;
END;

ALTER TABLE key_material ADD COLUMN rotation_type TEXT
  CHECK (rotation_type IN ('AUTOMATIC', 'ON_DEMAND'));
ALTER TABLE key_material ADD COLUMN rotated_at INTEGER;
