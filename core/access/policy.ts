/**
 * The AWS policy language for key policies and IAM identity policies: parse and validate a
 * document once into a {@link CompiledPolicy}, then evaluate it per request without JSON work
 * (principal sets, lowercased action sets, precompiled wildcard RegExps, compiled conditions).
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html
 * @module
 */
import { MalformedPolicyDocumentException } from "../errors.ts";
import {
  compileCondition,
  type CompiledCondition,
  type ConditionContext,
  evaluateCondition,
} from "./conditions.ts";
import { PatternSet } from "./patterns.ts";

export type { ConditionContext } from "./conditions.ts";

/** `key`: a KMS key policy (Principal required); `identity`: an IAM policy (Principal forbidden). */
export type PolicyKind = "key" | "identity";

/** Who a Principal/NotPrincipal element names. */
export interface PrincipalSet {
  /** `"*"` or `{"AWS": "*"}`. */
  readonly any: boolean;
  /** 12-digit account ids named by `arn:aws:iam::<id>:root` or by the bare id. */
  readonly accounts: ReadonlySet<string>;
  /** Exact user, role, assumed-role and federated-user ARNs. */
  readonly arns: ReadonlySet<string>;
}

/** One compiled statement. */
export interface CompiledStatement {
  readonly sid: string | null;
  readonly effect: "Allow" | "Deny";
  /** `null` in identity policies. */
  readonly principal: PrincipalSet | null;
  /** True when the statement used NotPrincipal (only allowed with Deny). */
  readonly notPrincipal: boolean;
  /** Matched against the lowercased action. */
  readonly actions: PatternSet;
  readonly notAction: boolean;
  readonly resources: PatternSet;
  readonly notResource: boolean;
  readonly condition: CompiledCondition;
}

/** A validated, compiled policy document. */
export interface CompiledPolicy {
  readonly kind: PolicyKind;
  readonly version: "2012-10-17" | "2008-10-17" | null;
  readonly statements: readonly CompiledStatement[];
}

/** The request as policy evaluation sees it. */
export interface PolicyRequest {
  /** The caller's ARN (`arn:aws:iam::<acct>:root`, `...:user/<name>`, `...:role/<name>`). */
  principalArn: string;
  principalAccount: string;
  /** `"kms:Decrypt"`; compared case-insensitively. */
  action: string;
  /** Key ARN, alias ARN, or `"*"` for actions without a resource. Case-sensitive. */
  resource: string;
  /** Condition values; see {@link ConditionContext} for the key format. */
  context: ConditionContext;
}

/**
 * `Deny`: a matching Deny statement. `AllowDirect`: an Allow matched through Principal `*` or the
 * caller's own ARN (or any Allow of an identity policy). `AllowViaAccount`: Allows matched only
 * through the caller's account principal, which delegates to IAM. `None`: nothing matched.
 */
export type StatementMatch = "Deny" | "AllowDirect" | "AllowViaAccount" | "None";

const STATEMENT_FIELDS = new Set([
  "Sid",
  "Effect",
  "Principal",
  "NotPrincipal",
  "Action",
  "NotAction",
  "Resource",
  "NotResource",
  "Condition",
]);
const TOP_FIELDS = new Set(["Version", "Id", "Statement"]);
const INVALID_PRINCIPALS = "Policy contains a statement with one or more invalid principals.";

function _malformed(message: string): never {
  throw new MalformedPolicyDocumentException(message);
}

function _isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Parses and validates a policy document as AWS KMS (key) or IAM (identity) would.
 * @throws {MalformedPolicyDocumentException} with an AWS-like message for invalid JSON, a bad
 *   Version, a missing/empty Statement, a bad Effect, an unknown field, missing or forbidden
 *   Principal, invalid principals, actions or resources, or an invalid Condition.
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html
 */
export function parsePolicy(text: string, kind: PolicyKind): CompiledPolicy {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    _malformed("The policy document is not valid JSON.");
  }
  if (!_isObject(doc)) _malformed("The policy document must be a JSON object.");
  for (const field of Object.keys(doc)) {
    if (!TOP_FIELDS.has(field)) _malformed(`Policy contains an unknown element: ${field}.`);
  }
  const version = doc.Version;
  if (version !== undefined && version !== "2012-10-17" && version !== "2008-10-17") {
    _malformed("Policy contains an invalid Version; use 2012-10-17 or 2008-10-17.");
  }
  if (doc.Id !== undefined && typeof doc.Id !== "string") {
    _malformed("Policy contains an invalid Id element.");
  }
  const raw = doc.Statement;
  if (raw === undefined) _malformed("Policy is missing the required Statement element.");
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) _malformed("Policy must contain at least one statement.");
  const variables = version === "2012-10-17";
  const statements = list.map((s) => _statement(s, kind, variables));
  return Object.freeze({ kind, version: version ?? null, statements: Object.freeze(statements) });
}

function _statement(raw: unknown, kind: PolicyKind, variables: boolean): CompiledStatement {
  if (!_isObject(raw)) _malformed("Policy contains a statement that is not a JSON object.");
  for (const field of Object.keys(raw)) {
    if (!STATEMENT_FIELDS.has(field)) {
      _malformed(`Policy contains a statement with an unknown element: ${field}.`);
    }
  }
  if (raw.Sid !== undefined && typeof raw.Sid !== "string") {
    _malformed("Policy contains a statement with an invalid Sid.");
  }
  const effect = raw.Effect;
  if (effect === undefined) _malformed("Policy contains a statement without an Effect.");
  if (effect !== "Allow" && effect !== "Deny") {
    _malformed("Policy contains a statement with an invalid Effect; use Allow or Deny.");
  }

  const hasP = raw.Principal !== undefined;
  const hasNP = raw.NotPrincipal !== undefined;
  let principal: PrincipalSet | null = null;
  if (kind === "identity") {
    if (hasP || hasNP) {
      _malformed("Identity policies must not specify a Principal or NotPrincipal.");
    }
  } else {
    if (hasP === hasNP) {
      _malformed(
        hasP
          ? "Policy contains a statement with both Principal and NotPrincipal."
          : "Policy contains a statement without a Principal.",
      );
    }
    if (hasNP && effect === "Allow") _malformed(INVALID_PRINCIPALS);
    principal = _principal(hasP ? raw.Principal : raw.NotPrincipal);
  }

  const action = _pair(raw, "Action", "NotAction");
  const resource = _pair(raw, "Resource", "NotResource");
  for (const a of action.values) {
    if (a !== "*" && !/^[A-Za-z0-9-]+:[A-Za-z0-9*?_-]+$/.test(a)) {
      _malformed("Policy contains a statement with one or more invalid actions.");
    }
  }
  for (const r of resource.values) {
    if (r !== "*" && !r.startsWith("arn:")) {
      _malformed("Policy contains a statement with one or more invalid resources.");
    }
  }
  return Object.freeze({
    sid: typeof raw.Sid === "string" ? raw.Sid : null,
    effect,
    principal,
    notPrincipal: hasNP,
    actions: new PatternSet(action.values, { wildcards: true, ignoreCase: true, variables: false }),
    notAction: action.negated,
    resources: new PatternSet(resource.values, { wildcards: true, ignoreCase: false, variables }),
    notResource: resource.negated,
    condition: compileCondition(raw.Condition, { variables, keyPolicy: kind === "key" }),
  });
}

function _pair(raw: Record<string, unknown>, name: string, notName: string) {
  const has = raw[name] !== undefined;
  const hasNot = raw[notName] !== undefined;
  if (has === hasNot) {
    _malformed(
      has
        ? `Policy contains a statement with both ${name} and ${notName}.`
        : `Policy contains a statement without ${name} or ${notName}.`,
    );
  }
  const value = has ? raw[name] : raw[notName];
  const values = Array.isArray(value) ? value : [value];
  if (values.length === 0 || !values.every((v) => typeof v === "string" && v.length > 0)) {
    _malformed(`Policy contains a statement with an invalid ${has ? name : notName} element.`);
  }
  return { values: values as string[], negated: hasNot };
}

const ACCOUNT = /^\d{12}$/;
const ROOT_ARN = /^arn:aws(?:-cn|-us-gov)?:iam::(\d{12}):root$/;
const NAME = "[\\w+=,.@-]{1,128}";
const PRINCIPAL_ARN = new RegExp(
  `^arn:aws(?:-cn|-us-gov)?:(?:iam::\\d{12}:(?:user|role)(?:/[\\x21-\\x29\\x2b-\\x3e\\x40-\\x7e]*)?/${NAME}` +
    `|sts::\\d{12}:(?:assumed-role/${NAME}/[\\w+=,.@-]{2,64}|federated-user/${NAME}))$`,
);
const SERVICE = /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/;

function _principal(raw: unknown): PrincipalSet {
  if (raw === "*") return { any: true, accounts: new Set(), arns: new Set() };
  if (!_isObject(raw) || Object.keys(raw).length === 0) _malformed(INVALID_PRINCIPALS);
  let any = false;
  const accounts = new Set<string>();
  const arns = new Set<string>();
  for (const [type, value] of Object.entries(raw)) {
    const list = Array.isArray(value) ? value : [value];
    if (list.length === 0 || !list.every((v) => typeof v === "string")) {
      _malformed(INVALID_PRINCIPALS);
    }
    for (const v of list as string[]) {
      if (type === "AWS") {
        const root = ROOT_ARN.exec(v);
        if (v === "*") any = true;
        else if (ACCOUNT.test(v)) accounts.add(v);
        else if (root) accounts.add(root[1]!);
        else if (PRINCIPAL_ARN.test(v)) arns.add(v);
        else _malformed(INVALID_PRINCIPALS);
      } else if (type === "Service") {
        if (!SERVICE.test(v)) _malformed(INVALID_PRINCIPALS);
      } else if (type === "Federated") {
        if (v.length === 0 || v.includes("*")) _malformed(INVALID_PRINCIPALS);
      } else _malformed(INVALID_PRINCIPALS);
    }
  }
  return { any, accounts, arns };
}

/** True for an account root principal ARN (`arn:aws:iam::<12 digits>:root`). */
export function isAccountRootArn(arn: string): boolean {
  return arn.endsWith(":root") && ROOT_ARN.test(arn);
}

/**
 * Evaluates one policy for one request. Deny wins over every Allow in the same policy.
 * NotPrincipal (Deny only) excludes the caller only when both its account and (unless it is the
 * account root) its own ARN are listed, as IAM documents.
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
 */
export function evaluatePolicy(p: CompiledPolicy, r: PolicyRequest): StatementMatch {
  const action = r.action.toLowerCase();
  let best = 0; // 0 none, 1 via account, 2 direct
  const statements = p.statements;
  for (let i = 0; i < statements.length; i++) {
    const s = statements[i]!;
    let via = 2;
    if (s.principal !== null) {
      via = s.notPrincipal ? (_excluded(s.principal, r) ? 0 : 2) : _principalMatch(s.principal, r);
      if (via === 0) continue;
    }
    if (s.actions.matchesNormalized(action, r.context) === s.notAction) continue;
    if (s.resources.matches(r.resource, r.context) === s.notResource) continue;
    if (!evaluateCondition(s.condition, r.context)) continue;
    if (s.effect === "Deny") return "Deny";
    if (via > best) best = via;
  }
  return best === 2 ? "AllowDirect" : best === 1 ? "AllowViaAccount" : "None";
}

function _principalMatch(p: PrincipalSet, r: PolicyRequest): number {
  if (p.any || p.arns.has(r.principalArn)) return 2;
  return p.accounts.has(r.principalAccount) ? 1 : 0;
}

function _excluded(p: PrincipalSet, r: PolicyRequest): boolean {
  if (p.any) return true;
  if (!p.accounts.has(r.principalAccount)) return false;
  return p.arns.has(r.principalArn) || isAccountRootArn(r.principalArn);
}

/** A compiled policy and which resource facts it needs. */
export interface PolicyDocument {
  readonly compiled: CompiledPolicy;
  readonly needsTags: boolean;
  readonly needsAliases: boolean;
}

/**
 * Compiles a policy document.
 * @throws {MalformedPolicyDocumentException} for a document AWS would refuse.
 */
export function compilePolicyDocument(text: string, kind: PolicyKind): PolicyDocument {
  const lower = text.toLowerCase();
  return {
    compiled: parsePolicy(text, kind),
    needsTags: lower.includes("aws:resourcetag/"),
    needsAliases: lower.includes("kms:resourcealiases"),
  };
}
