/**
 * IAM condition operators, compiled once and evaluated per request.
 *
 * Semantics (IAM User Guide, "Condition operators" and "Conditions with multiple context keys or
 * values"): operators and keys in one Condition block are ANDed; the policy values of one key are
 * ORed (NORed for negated operators); a key absent from the request makes the condition false,
 * except for negated operators (true), `...IfExists` (true), `ForAllValues:` (true) and
 * `ForAnyValue:` (false). A multivalued key under a plain operator matches when any request value
 * matches. Negated operators are the exact complement of their positive form.
 *
 * Condition key names are case-insensitive, including the `<context-key>` part of
 * `kms:EncryptionContext:<context-key>`: "the condition key, which consists of the
 * `kms:EncryptionContext:` prefix and the `context-key` replacement, is not case sensitive"
 * (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-context-case,
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html).
 * Values keep their case; the operator decides how they compare.
 *
 * String and ARN values (wildcards, policy variables) are matched by `PatternSet` from
 * `patterns.ts`; `IpAddress` values are parsed by `ip.ts`.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html
 * @module
 */
import { MalformedPolicyDocumentException } from "../errors.ts";
import { cidrContains, parseCidr, parseIp } from "./ip.ts";
import type { CompileOptions, ConditionContext } from "./condition_context.ts";
import { PatternSet } from "./patterns.ts";

export type { CompileOptions, ConditionContext } from "./condition_context.ts";

/** A request value as callers hold it before {@link conditionContext} normalises it. */
export type ContextValue = string | number | boolean | readonly string[];

/** One compiled `{Operator: {Key: values}}` entry. */
export interface CompiledClause {
  /** The condition key, lowercased. */
  readonly key: string;
  /** The operator as written, for diagnostics. */
  readonly operator: string;
  readonly negated: boolean;
  readonly set: "none" | "any" | "all";
  readonly ifExists: boolean;
  /** For `Null`: which presence states satisfy the clause; `null` for every other operator. */
  readonly nullWants: { readonly absent: boolean; readonly present: boolean } | null;
  /** True when one request value matches any policy value (positive sense). */
  readonly test: (value: string, ctx: ConditionContext) => boolean;
}

/** A compiled Condition block: every clause must hold. */
export type CompiledCondition = readonly CompiledClause[];

const EMPTY: CompiledCondition = Object.freeze([]);

// ---------------------------------------------------------------------------------------------
// Building a ConditionContext

/**
 * Builds a {@link ConditionContext}: lowercases key names, turns booleans into `"true"`/`"false"`
 * and numbers into decimal strings, and drops `undefined`, `null` and empty arrays (absent keys).
 * When `encryptionContext` is given (and non-empty) it adds `kms:encryptioncontext:<key lowercased>`
 * for each pair and `kms:encryptioncontextkeys` with the keys in their original case.
 */
export function conditionContext(
  entries: Readonly<Record<string, ContextValue | null | undefined>>,
  encryptionContext?: Readonly<Record<string, string>>,
): Map<string, readonly string[]> {
  const ctx = new Map<string, string[]>();
  const add = (key: string, value: string) => {
    const k = key.toLowerCase();
    const list = ctx.get(k);
    if (list) list.push(value);
    else ctx.set(k, [value]);
  };
  for (const [key, value] of Object.entries(entries)) {
    if (value === undefined || value === null) continue;
    if (typeof value === "string") add(key, value);
    else if (typeof value === "number" || typeof value === "boolean") add(key, String(value));
    else for (const v of value) add(key, v);
  }
  if (encryptionContext) {
    for (const [k, v] of Object.entries(encryptionContext)) {
      add(`kms:EncryptionContext:${k}`, v);
      add("kms:EncryptionContextKeys", k);
    }
  }
  return ctx;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/** True when every clause of the block holds for the request context (an empty block holds). */
export function evaluateCondition(block: CompiledCondition, ctx: ConditionContext): boolean {
  for (let i = 0; i < block.length; i++) {
    if (!_clauseHolds(block[i]!, ctx)) return false;
  }
  return true;
}

function _clauseHolds(c: CompiledClause, ctx: ConditionContext): boolean {
  const values = ctx.get(c.key);
  const present = values !== undefined && values.length > 0;
  if (c.nullWants) return present ? c.nullWants.present : c.nullWants.absent;
  if (!present) {
    if (c.ifExists || c.set === "all") return true;
    if (c.set === "any") return false;
    return c.negated;
  }
  if (c.set === "none") {
    for (let i = 0; i < values.length; i++) {
      if (c.test(values[i]!, ctx)) return !c.negated;
    }
    return c.negated;
  }
  if (c.set === "any") {
    for (let i = 0; i < values.length; i++) {
      if (c.test(values[i]!, ctx) !== c.negated) return true;
    }
    return false;
  }
  for (let i = 0; i < values.length; i++) {
    if (c.test(values[i]!, ctx) === c.negated) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Compilation

type Family =
  | "string"
  | "stringIgnoreCase"
  | "stringLike"
  | "numeric"
  | "date"
  | "bool"
  | "binary"
  | "ip"
  | "arn"
  | "null";
type Cmp = "eq" | "lt" | "le" | "gt" | "ge";

/** Base operator (lowercased) -> family, comparison, negation. */
const OPERATORS: ReadonlyMap<string, { family: Family; cmp: Cmp; negated: boolean }> = new Map(
  ([
    ["StringEquals", "string", "eq", false],
    ["StringNotEquals", "string", "eq", true],
    ["StringEqualsIgnoreCase", "stringIgnoreCase", "eq", false],
    ["StringNotEqualsIgnoreCase", "stringIgnoreCase", "eq", true],
    ["StringLike", "stringLike", "eq", false],
    ["StringNotLike", "stringLike", "eq", true],
    ["NumericEquals", "numeric", "eq", false],
    ["NumericNotEquals", "numeric", "eq", true],
    ["NumericLessThan", "numeric", "lt", false],
    ["NumericLessThanEquals", "numeric", "le", false],
    ["NumericGreaterThan", "numeric", "gt", false],
    ["NumericGreaterThanEquals", "numeric", "ge", false],
    ["DateEquals", "date", "eq", false],
    ["DateNotEquals", "date", "eq", true],
    ["DateLessThan", "date", "lt", false],
    ["DateLessThanEquals", "date", "le", false],
    ["DateGreaterThan", "date", "gt", false],
    ["DateGreaterThanEquals", "date", "ge", false],
    ["Bool", "bool", "eq", false],
    ["BinaryEquals", "binary", "eq", false],
    ["IpAddress", "ip", "eq", false],
    ["NotIpAddress", "ip", "eq", true],
    ["ArnEquals", "arn", "eq", false],
    ["ArnLike", "arn", "eq", false],
    ["ArnNotEquals", "arn", "eq", true],
    ["ArnNotLike", "arn", "eq", true],
    ["Null", "null", "eq", false],
  ] as const).map(([name, family, cmp, negated]) => [name.toLowerCase(), { family, cmp, negated }]),
);

function _malformed(message: string): never {
  throw new MalformedPolicyDocumentException(message);
}

/**
 * Compiles a statement's `Condition` element.
 * @throws {MalformedPolicyDocumentException} on an unknown operator, a non-object block or a value
 *   the operator cannot use (bad number, date, CIDR, base64, boolean).
 */
export function compileCondition(raw: unknown, opts: CompileOptions): CompiledCondition {
  if (raw === undefined) return EMPTY;
  if (!_isObject(raw)) _malformed("Policy contains a statement with an invalid Condition element.");
  const clauses: CompiledClause[] = [];
  for (const [operator, block] of Object.entries(raw)) {
    const op = _parseOperator(operator);
    if (!_isObject(block) || Object.keys(block).length === 0) {
      _malformed(`Policy contains an invalid value for condition operator ${operator}.`);
    }
    for (const [key, rawValues] of Object.entries(block)) {
      if (key.length === 0) _malformed("Policy contains an empty condition key.");
      const values = _conditionValues(rawValues, operator);
      if (opts.keyPolicy && op.set === "all") _overlyPermissive(key.toLowerCase());
      if (op.family === "null") {
        clauses.push({
          key: key.toLowerCase(),
          operator,
          negated: false,
          set: op.set,
          ifExists: false,
          nullWants: _nullWants(values),
          test: () => false,
        });
        continue;
      }
      clauses.push({
        key: key.toLowerCase(),
        operator,
        negated: op.negated,
        set: op.set,
        ifExists: op.ifExists,
        nullWants: null,
        test: _compileTest(op.family, op.cmp, values, opts),
      });
    }
  }
  return Object.freeze(clauses);
}

function _overlyPermissive(key: string): void {
  const what = key.startsWith("kms:encryptioncontext:")
    ? "encryption context"
    : key.startsWith("aws:requesttag/")
    ? "tag"
    : null;
  if (what === null) return;
  _malformed(
    `OverlyPermissiveCondition:${what === "tag" ? "RequestTag" : "EncryptionContext"}: ` +
      "Using the ForAllValues set operator with a single-valued condition key matches requests " +
      `without the specified ${what} or with an unspecified ${what}. To fix, remove ForAllValues.`,
  );
}

function _parseOperator(operator: string) {
  let name = operator.toLowerCase();
  let set: "none" | "any" | "all" = "none";
  if (name.startsWith("foranyvalue:")) {
    set = "any";
    name = name.slice("foranyvalue:".length);
  } else if (name.startsWith("forallvalues:")) {
    set = "all";
    name = name.slice("forallvalues:".length);
  }
  let ifExists = false;
  let spec = OPERATORS.get(name);
  if (!spec && name.endsWith("ifexists")) {
    ifExists = true;
    spec = OPERATORS.get(name.slice(0, -"ifexists".length));
  }
  if (!spec || (spec.family === "null" && (ifExists || set !== "none"))) {
    _malformed(`Policy contains an invalid condition operator: ${operator}.`);
  }
  return { ...spec, set, ifExists };
}

function _conditionValues(raw: unknown, operator: string): string[] {
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) _malformed(`Policy contains an empty value list for ${operator}.`);
  return list.map((v) => {
    if (typeof v === "string") return v;
    if (typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v))) return String(v);
    return _malformed(`Policy contains an invalid value for condition operator ${operator}.`);
  });
}

function _nullWants(values: string[]) {
  const wants = { absent: false, present: false };
  for (const v of values) {
    const b = v.toLowerCase();
    if (b === "true") wants.absent = true;
    else if (b === "false") wants.present = true;
    else _malformed("Policy contains an invalid value for condition operator Null.");
  }
  return wants;
}

function _compileTest(
  family: Exclude<Family, "null">,
  cmp: Cmp,
  values: string[],
  opts: CompileOptions,
): (value: string, ctx: ConditionContext) => boolean {
  switch (family) {
    case "string":
    case "stringIgnoreCase":
    case "bool": {
      const fold = family !== "string";
      if (family === "bool") {
        for (const v of values) {
          const b = v.toLowerCase();
          if (!(opts.variables && v.includes("${")) && b !== "true" && b !== "false") {
            _malformed("Policy contains an invalid value for condition operator Bool.");
          }
        }
      }
      const m = new PatternSet(values, { ...opts, wildcards: false, ignoreCase: fold });
      return (v, ctx) => m.matches(v, ctx);
    }
    case "stringLike":
    case "arn": {
      const m = new PatternSet(values, {
        ...opts,
        wildcards: true,
        ignoreCase: false,
        arn: family === "arn",
      });
      return (v, ctx) => m.matches(v, ctx);
    }
    case "numeric": {
      const nums = values.map((v) => {
        const n = parseNumber(v);
        return Number.isNaN(n) ? _malformed(`Policy contains an invalid numeric value: ${v}.`) : n;
      });
      return (v) => _compareAny(parseNumber(v), nums, cmp);
    }
    case "date": {
      const times = values.map((v) => {
        const t = parseDate(v);
        return Number.isNaN(t) ? _malformed(`Policy contains an invalid date value: ${v}.`) : t;
      });
      return (v) => _compareAny(parseDate(v), times, cmp);
    }
    case "binary": {
      const bins = values.map((v) => _base64(v) ?? _malformed("Policy contains invalid base64."));
      return (v) => {
        const b = _base64(v);
        return b !== null && bins.includes(b);
      };
    }
    case "ip": {
      const nets = values.map((v) =>
        parseCidr(v) ?? _malformed(`Policy contains an invalid IP address or CIDR: ${v}.`)
      );
      return (v) => {
        const ip = parseIp(v);
        if (ip === null) return false;
        for (const net of nets) if (cidrContains(net, ip)) return true;
        return false;
      };
    }
  }
}

function _compareAny(n: number, refs: readonly number[], cmp: Cmp): boolean {
  if (Number.isNaN(n)) return false;
  for (let i = 0; i < refs.length; i++) {
    const r = refs[i]!;
    if (
      cmp === "eq"
        ? n === r
        : cmp === "lt"
        ? n < r
        : cmp === "le"
        ? n <= r
        : cmp === "gt"
        ? n > r
        : n >= r
    ) return true;
  }
  return false;
}

function _isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------
// Value parsers (exported for tests and for callers that pre-validate request values)

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A decimal or integer string as a number; `NaN` for anything else (empty string included). */
export function parseNumber(s: string): number {
  return NUMBER.test(s) ? Number(s) : NaN;
}

const EPOCH = /^\d+(?:\.\d+)?$/;
const W3C_DATE =
  /^\d{4}(?:-\d{2}(?:-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/**
 * Epoch milliseconds of an IAM date value: epoch seconds (`"1546257599"`, `"1546257599.0"`) or a W3C
 * ISO 8601 profile (`"2024-01-01"`, `"2024-01-01T12:00:00Z"`, offsets allowed; no zone means UTC).
 * `NaN` when unparseable.
 */
export function parseDate(s: string): number {
  if (EPOCH.test(s) && s.length !== 4) return Number(s) * 1000;
  const m = W3C_DATE.exec(s);
  if (!m) return NaN;
  const withZone = s.length > 10 && m[1] === undefined ? `${s}Z` : s;
  return Date.parse(withZone.length === 4 ? `${withZone}-01-01` : withZone);
}

function _base64(s: string): string | null {
  try {
    return atob(s);
  } catch {
    return null;
  }
}
