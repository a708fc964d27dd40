/**
 * The audit worker's fast path from an entry's line (`AuditEntry.buffered`) to its stored row
 * (pure apart from hashing): the compact form in format 2 (core/audit/compact.ts), the text its
 * chain hash covers and the dictionary entries it references, built straight from the line's
 * fields, without the CloudTrail event, its canonical JSON or the generic `compactEvent` walk.
 *
 * The caller's context (`c`: region, source IP, user agent, userIdentity) repeats for every
 * request of a caller: its reference and digest are cached per context (the first record of a
 * context builds its event once the slow way to take them from). Key ARNs and parameter names are
 * cached by value. What a PreparedRecord stores expands to exactly the event `AuditEntry.record()`
 * builds (core/audit/prepared_test.ts, with generated entries).
 *
 * @module
 */
import { canonicalJson } from "./chain.ts";
import {
  compactEventId,
  HASHED_COMPACT_FORMAT,
  hashInputHead,
  reference,
  valueDigest,
} from "./compact.ts";
import { aggregateData, AuditEntry, ENTRY_LINE, type EntryLine } from "./entry.ts";
import type { AuditDecision, AuditEvent, AuditRecord, JsonObject, JsonValue } from "./record.ts";

/** A buffered record ready to be chained in the compact form of format 2. */
export class PreparedRecord implements AuditRecord {
  readonly eventTime: number;
  readonly requestId: string;
  readonly eventId: string;
  readonly eventName: string;
  readonly principalArn: string | null;
  readonly accountId: string | null;
  readonly keyArns: readonly string[];
  readonly decision: AuditDecision | null;
  readonly errorCode: string | null;
  /** The compact form as stored (audit_log.event). */
  readonly stored: string;
  /** What the chain hash covers (`compactHashInput` of `stored`). */
  readonly hashInput: string;
  /** The dictionary entries `stored` references: reference, value, reference, value, ... */
  readonly refs: readonly string[];
  readonly #line: EntryLine;

  constructor(line: EntryLine, stored: string, hashInput: string, refs: string[]) {
    const principal = line[8];
    this.eventTime = line[1];
    this.requestId = line[2];
    this.eventId = line[3];
    this.eventName = line[4];
    this.principalArn = principal === null ? null : principal[0];
    this.accountId = principal === null ? null : principal[1];
    this.keyArns = line[10];
    this.decision = line[11];
    this.errorCode = line[14];
    this.stored = stored;
    this.hashInput = hashInput;
    this.refs = refs;
    this.#line = line;
  }

  /** The CloudTrail event (built on demand: the write path never reads it). */
  get event(): AuditEvent {
    return AuditEntry.fromLine(this.#line).record().event;
  }
}

/** Whether a line is an entry's line (else a RecordLine, core/audit/record.ts). */
export function isEntryLine(line: string): boolean {
  return line.startsWith(`["${ENTRY_LINE}"`);
}

/**
 * The PreparedRecord of an entry's line (`AuditEntry.buffered`'s line). The stored text is written
 * member by member, exactly as `JSON.stringify` writes the compact object (`compactStoredText`, the
 * reference implementation the tests compare it with): no intermediate object, no rest copy of
 * the parameters.
 */
export function prepareEntryLine(text: string): PreparedRecord {
  const line = JSON.parse(text) as EntryLine;
  const eventId = line[3];
  const resources = line[10];
  const requestParameters = line[12];
  const errorCode = line[14];
  const context = contextOf(line);
  const refs: string[] = [context.ref, context.value];
  let digests = context.digest;
  // Members in the order compactEvent writes them; the hash covers this text as it is.
  const e = compactEventId(eventId);
  let stored = e === null
    ? `{"v":${HASHED_COMPACT_FORMAT},"eventID":${JSON.stringify(eventId)}`
    : `{"v":${HASHED_COMPACT_FORMAT},"e":"${e}"`;
  stored += `,"c":"${context.ref}","r":[`;
  for (let i = 0; i < resources.length; i++) {
    const named = valueRef(resources[i]!);
    stored += i === 0 ? `"${named.ref}"` : `,"${named.ref}"`;
    refs.push(named.ref, named.value);
    digests += named.digest;
  }
  stored += "]";
  const keyId = requestParameters === null ? undefined : requestParameters["keyId"];
  if (typeof keyId === "string") {
    const parameters = requestParameters as JsonObject;
    const named = valueRef(keyId);
    const shape = shapeOf(parameters);
    stored += `,"k":"${named.ref}","q":["${shape.ref}"`;
    for (const name in parameters) {
      const value = parameters[name];
      if (name !== "keyId" && value !== undefined) stored += "," + JSON.stringify(value);
    }
    stored += "]";
    refs.push(named.ref, keyId, shape.ref, shape.value);
    digests += named.digest + shape.digest;
  }
  const aggregate = line[16];
  if (aggregate !== null) {
    stored += `,"additionalEventData":${JSON.stringify(aggregateData(aggregate))}`;
  }
  stored += `,"decision":${JSON.stringify(line[11])}`;
  if (errorCode !== null) {
    stored += `,"errorCode":${JSON.stringify(errorCode)},"errorMessage":${
      JSON.stringify(line[15] ?? "")
    }`;
  }
  stored += `,"eventName":${JSON.stringify(line[4])},"requestID":${JSON.stringify(line[2])}`;
  if (typeof keyId !== "string") {
    stored += `,"requestParameters":${JSON.stringify(requestParameters)}`;
  }
  const responseElements = line[13];
  if (responseElements !== null) {
    stored += `,"responseElements":${JSON.stringify(responseElements)}}`;
  } else {
    stored += "}";
  }
  return new PreparedRecord(line, stored, hashInputHead(stored, line[1]) + digests, refs);
}

/**
 * The compact form of an entry's line as `prepareEntryLine` stores it, built as an object and
 * serialised by `JSON.stringify`: the plain statement of what `prepareEntryLine` writes by hand
 * (tests compare the two).
 */
export function compactStoredText(text: string): string {
  const line = JSON.parse(text) as EntryLine;
  const [, , requestId, eventId, operation, , , , , , resources, decision, requestParameters] =
    line;
  const [responseElements, errorCode, errorMessage, aggregate] = line.slice(13) as [
    JsonObject | null,
    string | null,
    string | null,
    EntryLine[16],
  ];
  const out: Record<string, JsonValue> = { v: HASHED_COMPACT_FORMAT };
  const e = compactEventId(eventId);
  if (e === null) out["eventID"] = eventId;
  else out["e"] = e;
  out["c"] = contextOf(line).ref;
  out["r"] = resources.map((arn) => valueRef(arn).ref);
  let parametersCopied = true;
  if (requestParameters !== null && typeof requestParameters["keyId"] === "string") {
    const { keyId, ...rest } = requestParameters as JsonObject;
    const memberNames = Object.keys(rest).filter((name) => rest[name] !== undefined);
    out["k"] = valueRef(keyId as string).ref;
    out["q"] = [
      valueRef(JSON.stringify(memberNames)).ref,
      ...memberNames.map((name) => rest[name] as JsonValue),
    ];
    parametersCopied = false;
  }
  if (aggregate !== null) out["additionalEventData"] = aggregateData(aggregate);
  out["decision"] = decision;
  if (errorCode !== null) {
    out["errorCode"] = errorCode;
    out["errorMessage"] = errorMessage ?? "";
  }
  out["eventName"] = operation;
  out["requestID"] = requestId;
  if (parametersCopied) out["requestParameters"] = requestParameters;
  if (responseElements !== null) out["responseElements"] = responseElements;
  return JSON.stringify(out);
}

/** The dictionary entry of the names of `parameters`' members but `keyId` (the `q` shape). */
function shapeOf(parameters: JsonObject): Named {
  const names: string[] = [];
  for (const name in parameters) {
    if (name !== "keyId" && parameters[name] !== undefined) names.push(name);
  }
  return valueRef(JSON.stringify(names));
}

/** Scratch for `reference` (PreparedRecord.refs lists what a record references). */
const names = new Map<string, string>();

interface Named {
  ref: string;
  value: string;
  digest: string;
}

const CACHE_SIZE = 4096;
const contexts = new Map<string, Named>();
const values = new Map<string, Named>();

/** The reference and digest of a dictionary value, cached by value. */
function valueRef(value: string): Named {
  let named = values.get(value);
  if (named === undefined) {
    named = { ref: reference(value, names), value, digest: valueDigest(value) };
    names.clear();
    if (values.size >= CACHE_SIZE) values.clear();
    values.set(value, named);
  }
  return named;
}

/**
 * The caller context of a line (region, source IP, user agent, principal, claimed access key id):
 * its canonical JSON as compactEvent names it, cached per context; the first line of a context
 * builds its event to take it from. Consecutive lines mostly share their caller: the last context
 * is compared field by field before any key is built.
 */
function contextOf(line: EntryLine): Named {
  if (last !== null && sameContext(last.line, line)) return last.named;
  const principal = line[8];
  const key = JSON.stringify([line[5], line[6], line[7], principal, line[9]]);
  let named = contexts.get(key);
  if (named === undefined) {
    const event = AuditEntry.fromLine(line).record().event;
    const value = canonicalJson([
      event.awsRegion,
      event.sourceIPAddress,
      event.userAgent,
      event.userIdentity,
    ]);
    named = valueRef(value);
    if (contexts.size >= CACHE_SIZE) contexts.clear();
    contexts.set(key, named);
  }
  last = { line, named };
  return named;
}

/** The line whose context `contextOf` named last, and that context. */
let last: { line: EntryLine; named: Named } | null = null;

/** Whether two lines have the same caller context (the members `contextOf` keys by). */
function sameContext(a: EntryLine, b: EntryLine): boolean {
  if (a[5] !== b[5] || a[6] !== b[6] || a[7] !== b[7] || a[9] !== b[9]) return false;
  const p = a[8];
  const q = b[8];
  if (p === null || q === null) return p === q;
  return p[0] === q[0] && p[1] === q[1] && p[2] === q[2] && p[3] === q[3];
}
