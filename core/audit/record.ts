/**
 * The audit record: one per request, shaped like the CloudTrail event AWS KMS
 * writes for the same call, plus the columns the store filters on. Which
 * operations change state and which count as a key's "last usage".
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/logging-using-cloudtrail.html
 * @see https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
 * @module
 */
import { operationsInAuditCategory } from "../catalogue.ts";

/** The access decision a request got, or null when none was made (unauthenticated, malformed). */
export type AuditDecision = "Allow" | "Deny";

/** CloudTrail's `userIdentity.type` for the principals this KMS has. */
export type AuditIdentityType = "Root" | "IAMUser" | "AssumedRole";

/** A JSON value (what an event is made of). */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | JsonObject;

/** A JSON object; members that are undefined are left out of its JSON. */
export type JsonObject = { readonly [key: string]: JsonValue | undefined };

/**
 * The CloudTrail-shaped event (eventVersion 1.08) with this KMS's `decision`.
 * Keys are in canonical (sorted) order, so `JSON.stringify` of it is its
 * canonical JSON (core/audit/chain.ts).
 */
export interface AuditEvent extends JsonObject {
  /** Present on a record that stands for several alike requests (see AuditEntry.setAggregate). */
  readonly additionalEventData?: JsonObject | undefined;
  readonly awsRegion: string;
  readonly decision: AuditDecision | null;
  /** The AWS exception name, on failure. */
  readonly errorCode?: string | undefined;
  readonly errorMessage?: string | undefined;
  readonly eventCategory: "Management";
  readonly eventID: string;
  readonly eventName: string;
  readonly eventSource: "kms.amazonaws.com";
  /** ISO 8601 to the second, as CloudTrail writes it: `2025-05-20T20:46:16Z`. */
  readonly eventTime: string;
  readonly eventType: "AwsApiCall";
  readonly eventVersion: "1.08";
  readonly managementEvent: true;
  readonly readOnly: boolean;
  /** The key owner's account, else the caller's; absent for an unauthenticated request. */
  readonly recipientAccountId?: string | undefined;
  readonly requestID: string;
  readonly requestParameters: JsonObject | null;
  readonly resources: readonly JsonObject[];
  readonly responseElements: JsonObject | null;
  readonly sourceIPAddress: string | null;
  readonly userAgent: string | null;
  readonly userIdentity: JsonObject;
}

/** One finished request, ready to be chained and stored. Never holds a plaintext, key or secret. */
export interface AuditRecord {
  /** Epoch milliseconds when the request arrived. */
  readonly eventTime: number;
  readonly requestId: string;
  /** A UUID, CloudTrail's `eventID`. */
  readonly eventId: string;
  /** The operation name (`GenerateDataKey`), or what the request named when it is unknown. */
  readonly eventName: string;
  readonly principalArn: string | null;
  readonly accountId: string | null;
  /** ARNs of the KMS keys the request touched, in the order they were added. */
  readonly keyArns: readonly string[];
  readonly decision: AuditDecision | null;
  /** The AWS exception name the caller got, or null on success. */
  readonly errorCode: string | null;
  readonly event: AuditEvent;
}

/**
 * AWS's KeyLastUsageTrackingOperation: the successful cryptographic operations
 * GetKeyLastUsage reports (the catalogue's `keyUsage` operations).
 * @see ../../../shared/reference/kms.smithy.json (KeyLastUsageTrackingOperation)
 */
export const KEY_LAST_USAGE_TRACKING_OPERATIONS: ReadonlySet<string> = new Set(
  operationsInAuditCategory("keyUsage"),
);

/** CloudTrail's event of the automatic rotation the scheduler makes (by KMS itself, no caller). */
export const SCHEDULED_ROTATION_EVENT = "RotateKey";

/**
 * Events of state changes (CloudTrail's `readOnly: false`): the catalogue's `stateChange`
 * operations and the scheduled rotation. Their successful records commit in the same transaction
 * as the change; every other record (and every failed one) goes through the AuditBuffer.
 */
export const STATE_CHANGING_OPERATIONS: ReadonlySet<string> = new Set([
  ...operationsInAuditCategory("stateChange"),
  SCHEDULED_ROTATION_EVENT,
]);

/** True when a successful record of `operation` counts as its keys' last usage. */
export function isKeyUsage(record: AuditRecord): boolean {
  return record.errorCode === null && record.decision !== "Deny" &&
    KEY_LAST_USAGE_TRACKING_OPERATIONS.has(record.eventName);
}

/**
 * The chain a record is appended to. Records of state changes are chained
 * where the change commits (the WriteQueue of the request thread); buffered
 * records form a chain of their own, so that they can be written by another
 * thread (or process) with its own connection without coordinating heads.
 */
export type AuditChain = 0 | 1;

/** The chain of records committed with the state change they describe. */
export const TRANSACTIONAL_CHAIN: AuditChain = 0;

/** The chain of records written through the AuditBuffer. */
export const BUFFER_CHAIN: AuditChain = 1;

/**
 * The record of a stored or transferred event (inverse of AuditEntry.record):
 * every field but the time in milliseconds comes from the event.
 */
export function recordFromEvent(event: AuditEvent, eventTime: number): AuditRecord {
  const identity = event.userIdentity;
  const arn = identity["arn"];
  const account = identity["accountId"];
  return {
    eventTime,
    requestId: event.requestID,
    eventId: event.eventID,
    eventName: event.eventName,
    principalArn: typeof arn === "string" ? arn : null,
    accountId: typeof account === "string" ? account : null,
    keyArns: event.resources.flatMap((r) => typeof r["ARN"] === "string" ? [r["ARN"]] : []),
    decision: event.decision,
    errorCode: event.errorCode ?? null,
    event,
  };
}

/**
 * A record's line: its fields and its event as one JSON array (`RecordLine`), the form in which
 * buffered records wait and travel to the audit worker (one string per record, one string per
 * batch), so that a waiting record holds no object graph that would outlive the young generation.
 */
export type RecordLine = [
  eventTime: number,
  requestId: string,
  eventId: string,
  eventName: string,
  principalArn: string | null,
  accountId: string | null,
  decision: AuditDecision | null,
  errorCode: string | null,
  keyArns: readonly string[],
  event: AuditEvent,
];

/** The fields of a record known without building its event (see `LineRecord`). */
export type RecordFields = Omit<AuditRecord, "event">;

/**
 * A record held as a line from which its event is built only when read: the AuditBuffer's form of
 * an AuditEntry (`AuditEntry.buffered`), whose line carries the entry's fields, not its event, so
 * the request thread never builds or serialises the CloudTrail event (the audit worker does); and
 * of any other record once `serialized` (its line carries the event, parsed again when read).
 */
export class LineRecord implements AuditRecord {
  readonly eventTime: number;
  readonly requestId: string;
  readonly eventId: string;
  readonly eventName: string;
  readonly principalArn: string | null;
  readonly accountId: string | null;
  readonly keyArns: readonly string[];
  readonly decision: AuditDecision | null;
  readonly errorCode: string | null;
  readonly line: string;
  readonly #build: (line: string) => AuditEvent;

  constructor(fields: RecordFields, line: string, build: (line: string) => AuditEvent) {
    this.eventTime = fields.eventTime;
    this.requestId = fields.requestId;
    this.eventId = fields.eventId;
    this.eventName = fields.eventName;
    this.principalArn = fields.principalArn;
    this.accountId = fields.accountId;
    this.keyArns = fields.keyArns;
    this.decision = fields.decision;
    this.errorCode = fields.errorCode;
    this.line = line;
    this.#build = build;
  }

  get event(): AuditEvent {
    return this.#build(this.line);
  }
}

/** The record with its line made now: what the AuditBuffer should hold. */
export function serialized(record: AuditRecord): AuditRecord {
  // The event object is parsed again from the line only if someone reads it.
  return new LineRecord(record, recordLine(record), eventOfRecordLine);
}

function eventOfRecordLine(line: string): AuditEvent {
  return (JSON.parse(line) as RecordLine)[9];
}

/** The record's line (made once: a serialised record keeps it). */
export function recordLine(record: AuditRecord): string {
  if (record instanceof LineRecord) return record.line;
  const line: RecordLine = [
    record.eventTime,
    record.requestId,
    record.eventId,
    record.eventName,
    record.principalArn,
    record.accountId,
    record.decision,
    record.errorCode,
    record.keyArns,
    record.event,
  ];
  return JSON.stringify(line);
}

/** The record a line holds (inverse of `recordLine`). */
export function recordFromLine(line: string): AuditRecord {
  const [
    eventTime,
    requestId,
    eventId,
    eventName,
    principalArn,
    accountId,
    decision,
    errorCode,
    keyArns,
    event,
  ] = JSON.parse(line) as RecordLine;
  return {
    eventTime,
    requestId,
    eventId,
    eventName,
    principalArn,
    accountId,
    keyArns,
    decision,
    errorCode,
    event,
  };
}
