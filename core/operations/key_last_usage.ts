/**
 * GetKeyLastUsage: the last successful cryptographic operation on a key, as
 * the audit log recorded it (core/audit/). The answer includes every call
 * already answered: the audit buffer is flushed first.
 *
 * @see ../../../shared/reference/kms.smithy.json (GetKeyLastUsage, KeyLastUsageData)
 * @module
 */
import { UnsupportedOperationException } from "../errors.ts";
import type { KeyResolver } from "../operation_ports.ts";
import type { KeyUsageLog } from "../audit/ports.ts";
import type { Caller } from "../types.ts";

/** What this family of operations uses of the KMS. */
export type KeyLastUsagePorts = KeyResolver & { readonly keyLastUsage: KeyUsageLog | undefined };

/** AWS's KeyLastUsageData. */
export interface KeyLastUsageData {
  Operation: string;
  Timestamp: Date;
  CloudTrailEventId: string;
  KmsRequestId: string;
}

/** AWS's GetKeyLastUsageResponse. */
export interface GetKeyLastUsageResult {
  KeyId: string;
  KeyLastUsage?: KeyLastUsageData;
  TrackingStartDate?: Date;
  KeyCreationDate: Date;
}

/**
 * Answers the key's last successful KeyLastUsageTrackingOperation (key id or
 * key ARN; no alias). TrackingStartDate is when this database began recording
 * calls or the key's creation, whichever is later; KeyLastUsage is absent when
 * the key has not been used since.
 * @throws {NotFoundException} an unknown key or an alias.
 * @throws {AccessDeniedException} not allowed.
 * @throws {UnsupportedOperationException} the audit log is off.
 */
export async function getKeyLastUsage(
  kms: KeyLastUsagePorts,
  caller: Caller,
  input: { KeyId: string },
): Promise<GetKeyLastUsageResult> {
  const key = await kms.resolveKey(caller, input.KeyId, {
    allowAlias: false,
    action: "kms:GetKeyLastUsage",
  });
  const log = kms.keyLastUsage;
  if (log === undefined) {
    throw new UnsupportedOperationException(
      "GetKeyLastUsage needs the audit log, which is turned off on this KMS.",
    );
  }
  await log.flush();
  const [usage, trackingStart] = await Promise.all([
    log.lastUsage(key.arn),
    log.trackingStart(),
  ]);
  const createdAt = key.record.createdAt;
  const result: GetKeyLastUsageResult = {
    KeyId: key.record.keyId,
    KeyCreationDate: new Date(createdAt),
  };
  if (trackingStart !== null) {
    result.TrackingStartDate = new Date(Math.max(trackingStart, createdAt));
  }
  if (usage !== null) {
    result.KeyLastUsage = {
      Operation: usage.operation,
      Timestamp: new Date(usage.time),
      CloudTrailEventId: usage.eventId,
      KmsRequestId: usage.requestId,
    };
  }
  return result;
}
