/**
 * The `KMS_SEED_FILE` format: JSON or YAML text in, checked seed entries out.
 * `core/seed.ts` plans and applies them against the store.
 *
 * The format is YAML for a `.yaml`/`.yml` path, JSON for a `.json` path, and
 * otherwise JSON when the text starts with `{`, else YAML. Error messages name
 * the entry and field (`keys[2].keySpec: ...`) and never quote the text, which
 * may hold key material.
 *
 * @module
 */
import { parseDocument } from "yaml";
import { z } from "zod";
import { GRANT_OPERATIONS } from "./access/grants.ts";
import { ConfigError } from "./config.ts";
import { KEY_SPECS, KEY_USAGES } from "./key_spec.ts";
import {
  DESCRIPTION_MAX_LENGTH,
  GRANT_NAME_MAX_LENGTH,
  NAME_CHARACTERS,
  PRINCIPAL_ID_MAX_LENGTH,
  SOURCE_ARN,
  SOURCE_ARN_MAX_LENGTH,
  SOURCE_ARN_MIN_LENGTH,
} from "./limits.ts";
import { ACCOUNT_ID_PATTERN } from "./principals.ts";
import { fieldPath } from "./principals_file.ts";
import type { KeySpec } from "./types.ts";

const KEY_SPEC_NAMES = Object.keys(KEY_SPECS) as [KeySpec, ...KeySpec[]];

/** A key id as AWS issues them: a lower-case UUID. */
const KEY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const KeyId = z.string().regex(
  KEY_ID,
  "must be a key id: a lower-case UUID such as 1234abcd-12ab-34cd-56ef-1234567890ab",
);

const PolicyDocument = z.union([z.string(), z.record(z.string(), z.unknown())], {
  error: "must be a key policy document (an object) or its JSON text",
});

const Tags = z.union([
  z.record(z.string(), z.string()),
  z.array(z.strictObject({ TagKey: z.string(), TagValue: z.string() })),
], { error: 'must map tag keys to string values, or be a list of {"TagKey", "TagValue"}' });

const Context = z.record(z.string(), z.string(), {
  error: "must map encryption context keys to string values",
});

const SeedKey = z.strictObject({
  keyId: KeyId,
  accountId: z.string().regex(ACCOUNT_ID_PATTERN, "must be 12 digits").optional(),
  description: z.string().max(
    DESCRIPTION_MAX_LENGTH,
    `must be at most ${DESCRIPTION_MAX_LENGTH} characters`,
  ).optional(),
  keySpec: z.enum(KEY_SPEC_NAMES, { error: `must be one of ${KEY_SPEC_NAMES.join(", ")}` })
    .optional(),
  keyUsage: z.enum(KEY_USAGES, { error: `must be one of ${KEY_USAGES.join(", ")}` }).optional(),
  /** Base64; only for SYMMETRIC_DEFAULT and HMAC keys. */
  material: z.string().optional(),
  enabled: z.boolean().optional(),
  policy: PolicyDocument.optional(),
  tags: Tags.optional(),
  aliases: z.array(z.string()).optional(),
});

const PrincipalId = z.string().max(
  PRINCIPAL_ID_MAX_LENGTH,
  `must be at most ${PRINCIPAL_ID_MAX_LENGTH} characters`,
);

const SOURCE_ARN_RULE = `must be an ARN of ${SOURCE_ARN_MIN_LENGTH} to ${SOURCE_ARN_MAX_LENGTH} ` +
  "characters naming a 12-digit account (arn:aws:<service>:<region>:<account>:<resource>)";

const GRANT_NAME_RULE =
  `must be 1 to ${GRANT_NAME_MAX_LENGTH} letters, digits, ':', '/', '_' or '-'`;

const SeedGrant = z.strictObject({
  keyId: KeyId,
  grantId: z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lower-case hex digits").optional(),
  name: z.string().max(GRANT_NAME_MAX_LENGTH, GRANT_NAME_RULE).regex(
    NAME_CHARACTERS,
    GRANT_NAME_RULE,
  ).optional(),
  granteePrincipal: PrincipalId,
  retiringPrincipal: PrincipalId.optional(),
  operations: z.array(
    z.enum(GRANT_OPERATIONS, { error: `must be one of ${GRANT_OPERATIONS.join(", ")}` }),
  ).min(1, "must list at least one operation"),
  constraints: z.strictObject({
    EncryptionContextEquals: Context.optional(),
    EncryptionContextSubset: Context.optional(),
    SourceArn: z.string().min(SOURCE_ARN_MIN_LENGTH, SOURCE_ARN_RULE).max(
      SOURCE_ARN_MAX_LENGTH,
      SOURCE_ARN_RULE,
    ).regex(SOURCE_ARN, SOURCE_ARN_RULE).optional(),
  }).optional(),
});

const SeedFileSchema = z.strictObject({
  keys: z.array(SeedKey).optional(),
  grants: z.array(SeedGrant).optional(),
}, {
  error: (issue) =>
    issue.code === "invalid_type" ? "must be an object with `keys` and/or `grants`" : undefined,
});

/** One entry of `keys`. */
export type SeedKeyEntry = z.infer<typeof SeedKey>;
/** One entry of `grants`. */
export type SeedGrantEntry = z.infer<typeof SeedGrant>;
/** A checked seed file. */
export interface SeedFile {
  keys: SeedKeyEntry[];
  grants: SeedGrantEntry[];
}

/** How the text of a seed file is read. */
export type SeedFormat = "json" | "yaml";

/** YAML for a `.yaml`/`.yml` path, JSON for `.json`; otherwise JSON when the text starts with `{`. */
export function seedFormat(text: string, path?: string): SeedFormat {
  const lower = path?.toLowerCase() ?? "";
  if (lower.endsWith(".yaml") || lower.endsWith(".yml")) return "yaml";
  if (lower.endsWith(".json")) return "json";
  return text.trimStart().startsWith("{") ? "json" : "yaml";
}

/**
 * A `ConfigError` prefixed `KMS_SEED_FILE: `.
 */
export function seedError(message: string): ConfigError {
  return new ConfigError(`KMS_SEED_FILE: ${message}`);
}

/**
 * Parses and checks the shape of a seed file (the store-dependent checks are `core/seed.ts`'s).
 * @throws {ConfigError} naming the entry and field at fault; never quoting the text.
 */
export function parseSeedFile(text: string, path?: string): SeedFile {
  const format = seedFormat(text, path);
  const data = format === "json" ? _parseJson(text) : _parseYaml(text);
  const parsed = SeedFileSchema.safeParse(data);
  if (!parsed.success) {
    throw seedError(parsed.error.issues.slice(0, 5).map(_describeIssue).join("; "));
  }
  return { keys: parsed.data.keys ?? [], grants: parsed.data.grants ?? [] };
}

function _parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    // V8 may quote a stretch of the text (key material, perhaps): keep only the position.
    const where = /at position \d+(?: \(line \d+ column \d+\))?/.exec(String(e))?.[0];
    throw seedError(`not valid JSON${where === undefined ? "" : ` (${where})`}`);
  }
}

function _parseYaml(text: string): unknown {
  // Plain YAML 1.2 data only: no !!binary, !!set or !!timestamp values.
  const doc = parseDocument(text, {
    prettyErrors: false,
    uniqueKeys: true,
    logLevel: "silent",
    resolveKnownTags: false,
  });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem !== undefined) {
    // The message without prettyErrors describes the problem and quotes no text.
    const first = problem.message.split("\n")[0]?.slice(0, 200) ?? "";
    throw seedError(`not valid YAML (${_lineColumn(text, problem.pos[0])}): ${first}`);
  }
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw seedError(`not valid YAML: ${e instanceof Error ? e.message.split("\n")[0] : e}`);
  }
}

function _lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - before.lastIndexOf("\n");
  return `line ${line} column ${column}`;
}

function _describeIssue(issue: z.core.$ZodIssue): string {
  const at = fieldPath(issue.path);
  let message = issue.message;
  if (issue.code === "unrecognized_keys") {
    const names = issue.keys.slice(0, 5).map((k) => JSON.stringify(k)).join(", ");
    message = `unknown field${issue.keys.length === 1 ? "" : "s"} ${names}` +
      (issue.keys.length > 5 ? ", ..." : "");
  } else if (issue.code === "invalid_type" && / received undefined$/.test(message)) {
    message = "is required";
  } else if (issue.code === "invalid_type" && / received number$/.test(message)) {
    message += " (quote it in YAML)";
  }
  return at === "" ? message : `${at}: ${message}`;
}
