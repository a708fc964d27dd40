/**
 * AuditEntry: what one request will record, filled in as the request goes.
 * routes/ creates it when the request arrives (time, request id, source IP,
 * user agent) and sets the operation and principal once known; core/ adds the
 * keys touched, the decision and the whitelisted request parameters; routes/
 * finishes it with `succeeded` or `failed`. `record()` gives the
 * CloudTrail-shaped AuditRecord.
 *
 * Exactly once: an operation that changes state passes `record()` to the
 * store write that makes the change (same transaction) and then calls
 * `markWritten()`; routes/ buffers every entry not `written`.
 *
 * @module
 */
import { requestParameters, responseElements } from "./parameters.ts";
import {
  type AuditDecision,
  type AuditEvent,
  type AuditIdentityType,
  type AuditRecord,
  type JsonObject,
  LineRecord,
  recordFromLine,
  STATE_CHANGING_OPERATIONS,
} from "./record.ts";

/** Who made the request, as SigV4 established it. */
export interface AuditPrincipal {
  arn: string;
  accountId: string;
  accessKeyId: string;
  /** Derived from the ARN when absent (`:root`, `:user/`, `:role/`). */
  type?: AuditIdentityType;
}

/** What is known when the request arrives. */
export interface AuditEntryInit {
  /** Epoch milliseconds. */
  time: number;
  requestId: string;
  /** The operation name, or "" until it is known (see `setOperation`). */
  operation: string;
  /** Null until the request is authenticated (see `setPrincipal`). */
  principal: AuditPrincipal | null;
  sourceIp: string | null;
  userAgent: string | null;
  /** The region this KMS serves. */
  region: string;
  /** CloudTrail's eventID; a fresh UUID by default. */
  eventId?: string;
}

/**
 * One record standing for several requests that failed alike (same source IP, claimed access key
 * id and error) within a window.
 */
export interface AuditAggregate {
  /** How many requests the record stands for. */
  count: number;
  /** Epoch milliseconds of the first and the last of them. */
  firstTime: number;
  lastTime: number;
  /** The event members the requests share (the others are those of the last request). */
  groupedBy: readonly string[];
}

/** Longest operation name, user agent or error message kept (longer ones are cut). */
const MAX_NAME = 128;
const MAX_ACCESS_KEY_ID = 128;
const MAX_USER_AGENT = 1024;
const MAX_MESSAGE = 1024;

/** One request's audit entry (mutable until recorded). */
export class AuditEntry {
  readonly time: number;
  readonly requestId: string;
  readonly eventId: string;
  readonly #sourceIp: string | null;
  readonly #userAgent: string | null;
  #region: string;
  #operation: string;
  #principal: AuditPrincipal | null;
  #resources: string[] = [];
  #decision: AuditDecision | null = null;
  #requestParameters: JsonObject | null = null;
  #responseElements: JsonObject | null = null;
  #errorCode: string | null = null;
  #errorMessage: string | null = null;
  #claimedAccessKeyId: string | null = null;
  #aggregate: AuditAggregate | null = null;
  #written = false;

  constructor(init: AuditEntryInit) {
    this.time = init.time;
    this.requestId = init.requestId;
    this.eventId = init.eventId ?? crypto.randomUUID();
    this.#operation = cut(init.operation, MAX_NAME);
    this.#principal = init.principal;
    this.#sourceIp = init.sourceIp;
    this.#userAgent = init.userAgent === null ? null : cut(init.userAgent, MAX_USER_AGENT);
    this.#region = init.region;
  }

  /** The operation name ("" when the request never named a known one). */
  get operation(): string {
    return this.#operation;
  }

  /** The authenticated principal, or null. */
  get principal(): AuditPrincipal | null {
    return this.#principal;
  }

  /** The AWS exception name of a failed request, or null (not failed, or not yet finished). */
  get errorCode(): string | null {
    return this.#errorCode;
  }

  /** True once the record was committed with a state change; routes must not buffer it again. */
  get written(): boolean {
    return this.#written;
  }

  /** Key ARNs added so far, in order. */
  get keyArns(): readonly string[] {
    return this.#resources;
  }

  /** Sets the operation once the request's target is parsed. */
  setOperation(operation: string): void {
    this.#operation = cut(operation, MAX_NAME);
  }

  /** Sets the region the request's credential scope named (the awsRegion of its event). */
  setRegion(region: string): void {
    this.#region = region;
  }

  /** Sets the principal once SigV4 verified the request. */
  setPrincipal(principal: AuditPrincipal): void {
    this.#principal = principal;
  }

  /**
   * Records the access key id an unauthenticated request claimed (its SigV4 Credential), cut to a
   * bounded length; it shows as `userIdentity.accessKeyId` while no principal is set.
   */
  setClaimedAccessKeyId(accessKeyId: string): void {
    this.#claimedAccessKeyId = cut(accessKeyId, MAX_ACCESS_KEY_ID);
  }

  /**
   * Makes this record stand for `aggregate.count` requests like it (core/audit/auth_failures.ts):
   * the event gets CloudTrail's `additionalEventData` with the count and the time span.
   */
  setAggregate(aggregate: AuditAggregate): void {
    this.#aggregate = aggregate;
  }

  /** Adds a KMS key the request touched (duplicates ignored, order kept). */
  addResource(keyArn: string): void {
    if (!this.#resources.includes(keyArn)) this.#resources.push(keyArn);
  }

  /** Records the access decision. */
  setDecision(decision: AuditDecision): void {
    this.#decision = decision;
  }

  /** Records the whitelisted request parameters of `input` (see core/audit/parameters.ts). */
  setRequestParameters(operation: string, input: unknown): void {
    this.#requestParameters = requestParameters(operation, input);
  }

  /**
   * The request succeeded. For an operation that changes state, the
   * whitelisted members of `result` become `responseElements`; other
   * operations log none, as CloudTrail does.
   */
  succeeded(result?: unknown): void {
    this.#errorCode = null;
    this.#errorMessage = null;
    this.#responseElements = STATE_CHANGING_OPERATIONS.has(this.#operation) && result !== undefined
      ? responseElements(result)
      : null;
  }

  /** The request failed with the AWS exception `errorCode` and its message. */
  failed(errorCode: string, errorMessage: string): void {
    this.#errorCode = cut(errorCode, MAX_NAME);
    this.#errorMessage = cut(errorMessage, MAX_MESSAGE);
    this.#responseElements = null;
  }

  /** Marks the record as committed with the state change it describes. */
  markWritten(): void {
    this.#written = true;
  }

  /**
   * The record for the AuditBuffer: its filter fields and the entry's fields as one JSON line
   * (`EntryLine`), from which the audit worker builds the event (`recordFromAnyLine`): the request
   * thread neither builds nor serialises the CloudTrail event.
   */
  buffered(): AuditRecord {
    const principal = this.#principal;
    const line: EntryLine = [
      ENTRY_LINE,
      this.time,
      this.requestId,
      this.eventId,
      this.#operation,
      this.#region,
      this.#sourceIp,
      this.#userAgent,
      principal === null
        ? null
        : [principal.arn, principal.accountId, principal.accessKeyId, principal.type ?? null],
      this.#claimedAccessKeyId,
      this.#resources,
      this.#decision,
      this.#requestParameters,
      this.#responseElements,
      this.#errorCode,
      this.#errorMessage,
      this.#aggregate,
    ];
    return new LineRecord(
      {
        eventTime: this.time,
        requestId: this.requestId,
        eventId: this.eventId,
        eventName: this.#operation,
        principalArn: principal?.arn ?? null,
        accountId: principal?.accountId ?? null,
        keyArns: this.#resources.slice(),
        decision: this.#decision,
        errorCode: this.#errorCode,
      },
      JSON.stringify(line),
      eventOfEntryLine,
    );
  }

  /** The entry an `EntryLine` holds (inverse of `buffered`'s line). */
  static fromLine(line: EntryLine): AuditEntry {
    const [
      ,
      time,
      requestId,
      eventId,
      operation,
      region,
      sourceIp,
      userAgent,
      principal,
      claimedAccessKeyId,
      resources,
      decision,
      requestParameters,
      responseElements,
      errorCode,
      errorMessage,
      aggregate,
    ] = line;
    const entry = new AuditEntry({
      time,
      requestId,
      eventId,
      operation,
      region,
      sourceIp,
      userAgent,
      principal: principal === null ? null : {
        arn: principal[0],
        accountId: principal[1],
        accessKeyId: principal[2],
        ...(principal[3] === null ? {} : { type: principal[3] }),
      },
    });
    if (claimedAccessKeyId !== null) entry.setClaimedAccessKeyId(claimedAccessKeyId);
    entry.#resources = [...resources];
    entry.#decision = decision;
    entry.#requestParameters = requestParameters;
    entry.#responseElements = responseElements;
    entry.#errorCode = errorCode;
    entry.#errorMessage = errorMessage;
    entry.#aggregate = aggregate;
    return entry;
  }

  /** The record as it stands (an unfinished entry reads as a success without response elements). */
  record(): AuditRecord {
    const principal = this.#principal;
    const resources = this.#resources;
    const keyAccount = resources.length > 0 ? accountOfKeyArn(resources[0] as string) : null;
    const failed = this.#errorCode !== null;
    // One literal with its keys in canonical (sorted) order, so that JSON.stringify of the event
    // is its canonical JSON; absent members are undefined (JSON leaves them out).
    const event = {
      additionalEventData: this.#aggregate === null ? undefined : aggregateData(this.#aggregate),
      awsRegion: this.#region,
      decision: this.#decision,
      errorCode: failed ? this.#errorCode : undefined,
      errorMessage: failed ? this.#errorMessage ?? "" : undefined,
      eventCategory: "Management",
      eventID: this.eventId,
      eventName: this.#operation,
      eventSource: "kms.amazonaws.com",
      eventTime: cloudTrailTime(this.time),
      eventType: "AwsApiCall",
      eventVersion: "1.08",
      managementEvent: true,
      readOnly: !STATE_CHANGING_OPERATIONS.has(this.#operation),
      recipientAccountId: keyAccount ?? principal?.accountId,
      requestID: this.requestId,
      requestParameters: this.#requestParameters,
      resources: resources.map(resource),
      responseElements: this.#responseElements,
      sourceIPAddress: this.#sourceIp,
      userAgent: this.#userAgent,
      // Built here, not as the request goes: a buffered entry never needs it on the request thread.
      userIdentity: principal === null
        ? unknownIdentity(this.#claimedAccessKeyId)
        : userIdentity(principal),
    };
    return {
      eventTime: this.time,
      requestId: this.requestId,
      eventId: this.eventId,
      eventName: this.#operation,
      principalArn: principal?.arn ?? null,
      accountId: principal?.accountId ?? null,
      keyArns: resources.slice(),
      decision: this.#decision,
      errorCode: this.#errorCode,
      event: event as AuditEvent,
    };
  }
}

/** The first element of an `EntryLine` (a `RecordLine` starts with a number). */
export const ENTRY_LINE = "entry/1";

/** An AuditEntry's fields as a JSON array (`AuditEntry.buffered`). */
export type EntryLine = [
  kind: typeof ENTRY_LINE,
  time: number,
  requestId: string,
  eventId: string,
  operation: string,
  region: string,
  sourceIp: string | null,
  userAgent: string | null,
  principal:
    | [arn: string, accountId: string, accessKeyId: string, type: AuditIdentityType | null]
    | null,
  claimedAccessKeyId: string | null,
  resources: string[],
  decision: AuditDecision | null,
  requestParameters: JsonObject | null,
  responseElements: JsonObject | null,
  errorCode: string | null,
  errorMessage: string | null,
  aggregate: AuditAggregate | null,
];

function eventOfEntryLine(line: string): AuditEvent {
  return AuditEntry.fromLine(JSON.parse(line) as EntryLine).record().event;
}

/** The record of a line in either form: an `EntryLine` (built now) or a `RecordLine`. */
export function recordFromAnyLine(line: string): AuditRecord {
  if (line.startsWith(`["${ENTRY_LINE}"`)) {
    return AuditEntry.fromLine(JSON.parse(line) as EntryLine).record();
  }
  return recordFromLine(line);
}

/** CloudTrail's eventTime: ISO 8601 to the second. */
export function cloudTrailTime(epochMs: number): string {
  const second = Math.floor(epochMs / 1000);
  if (second !== lastSecond) {
    lastSecondText = new Date(second * 1000).toISOString().slice(0, 19) + "Z";
    lastSecond = second;
  }
  return lastSecondText;
}

/** The last second cloudTrailTime formatted, and its text (every request of a second shares it). */
let lastSecond = Number.NaN;
let lastSecondText = "";

/** The identity type an ARN names. */
export function identityType(arn: string): AuditIdentityType | "Unknown" {
  if (/^arn:aws[a-z-]*:iam::\d{12}:root$/.test(arn)) return "Root";
  if (/^arn:aws[a-z-]*:iam::\d{12}:user\//.test(arn)) return "IAMUser";
  if (/^arn:aws[a-z-]*:(iam::\d{12}:role|sts::\d{12}:assumed-role)\//.test(arn)) {
    return "AssumedRole";
  }
  return "Unknown";
}

/**
 * CloudTrail's userIdentity. This KMS has no IAM unique ids, so principalId is
 * the account id for the root and the user or role name otherwise; a role's
 * access keys act as the role itself (no STS session), shown as AssumedRole
 * with the role as session issuer.
 */
function userIdentity(principal: AuditPrincipal | null): JsonObject {
  if (principal === null) return { type: "Unknown" };
  const type = principal.type ?? identityType(principal.arn);
  const name = principal.arn.slice(principal.arn.lastIndexOf("/") + 1);
  switch (type) {
    case "Root":
      return {
        accessKeyId: principal.accessKeyId,
        accountId: principal.accountId,
        arn: principal.arn,
        principalId: principal.accountId,
        type: "Root",
      };
    case "IAMUser":
      return {
        accessKeyId: principal.accessKeyId,
        accountId: principal.accountId,
        arn: principal.arn,
        principalId: name,
        type: "IAMUser",
        userName: name,
      };
    case "AssumedRole":
      return {
        accessKeyId: principal.accessKeyId,
        accountId: principal.accountId,
        arn: principal.arn,
        principalId: name,
        sessionContext: {
          sessionIssuer: {
            accountId: principal.accountId,
            arn: principal.arn,
            principalId: name,
            type: "Role",
            userName: name,
          },
        },
        type: "AssumedRole",
      };
    default:
      return {
        accessKeyId: principal.accessKeyId,
        accountId: principal.accountId,
        arn: principal.arn,
        principalId: name,
        type: "Unknown",
      };
  }
}

function unknownIdentity(accessKeyId: string | null): JsonObject {
  return accessKeyId === null ? { type: "Unknown" } : { accessKeyId, type: "Unknown" };
}

/** `additionalEventData` of an aggregated record, its keys in canonical order. */
export function aggregateData(aggregate: AuditAggregate): JsonObject {
  return {
    aggregatedBy: [...aggregate.groupedBy],
    firstEventTime: new Date(aggregate.firstTime).toISOString(),
    lastEventTime: new Date(aggregate.lastTime).toISOString(),
    requestCount: aggregate.count,
  };
}

function resource(arn: string): JsonObject {
  return { ARN: arn, accountId: accountOfKeyArn(arn) ?? "", type: "AWS::KMS::Key" };
}

/** The account of `arn:<partition>:kms:<region>:<account>:key/<id>`, or null. */
export function accountOfKeyArn(arn: string): string | null {
  let start = 0;
  for (let field = 0; field < 4; field++) {
    start = arn.indexOf(":", start) + 1;
    if (start === 0) return null;
  }
  const end = arn.indexOf(":", start);
  if (end - start !== 12) return null;
  const account = arn.slice(start, end);
  return /^\d{12}$/.test(account) ? account : null;
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max);
}
