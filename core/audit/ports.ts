/**
 * The ports the audit log needs from storage/, and what GetKeyLastUsage reads.
 *
 * @module
 */
import type { AuditRecord } from "./record.ts";

/** Where the AuditBuffer writes: one call appends its records, hash-chained, in one transaction. */
export interface AuditSink {
  appendAudit(records: readonly AuditRecord[]): Promise<void>;
}

/** A key's last successful cryptographic operation, as the audit log recorded it. */
export interface KeyUsage {
  /** A KeyLastUsageTrackingOperation (`Encrypt`, `Sign`, ...). */
  operation: string;
  /** Epoch milliseconds of the request. */
  time: number;
  /** CloudTrail eventID of the record. */
  eventId: string;
  requestId: string;
}

/** What GetKeyLastUsage reads from the audit log. */
export interface KeyUsageLog {
  /** Writes every buffered record, so that the answer includes calls already answered. */
  flush(): Promise<void>;
  /** The last successful tracking operation on the key with this ARN, or null. */
  lastUsage(keyArn: string): Promise<KeyUsage | null>;
  /** Epoch ms from which calls are recorded, or null when the log is not set up. */
  trackingStart(): Promise<number | null>;
}
