/**
 * Runs the model-driven fuzzer against a running KMS: generates cases for
 * every operation of AWS's model with fast-check, sends each one signed, and
 * checks what AWS promises of any reply:
 *
 * - never a 5xx (nothing here depends on a failing service);
 * - the body is JSON; a 200 conforms to the operation's output shape
 *   (members, required members, types, enum values, base64); an error is a 4xx whose `__type` names an AWS exception (one of the
 *   model's error shapes, or one of AWS's common protocol errors);
 * - an error never echoes a sensitive value of the request (a plaintext).
 *
 * Reproduce a failure with the seed and path fast-check prints:
 * `FUZZ_SEED=<seed> FUZZ_RUNS=<runs> deno task fuzz` replays the whole run (the same
 * cases in the same order, so the same server state); adding `FUZZ_PATH=<path>` replays
 * the failing case alone (see README, "Fuzzing").
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { nonConformities } from "./conformance.ts";
import { type Fixtures, restoreFixtures } from "./fixtures.ts";
import type { FuzzModel } from "./model.ts";
import { caseLabel, type FuzzCase, RequestArbitraries, type Templates } from "./requests.ts";
import { type Reply, sendRaw } from "./send.ts";

/** AWS's common errors of every JSON-protocol service (not in each operation's list). */
export const COMMON_ERRORS = [
  "AccessDeniedException",
  "IncompleteSignatureException",
  "InvalidSignatureException",
  "MissingAuthenticationTokenException",
  "RequestEntityTooLargeException",
  "SerializationException",
  "ThrottlingException",
  "UnknownOperationException",
  "UnrecognizedClientException",
  "ValidationException",
];

/**
 * Exceptions AWS answers outside its model, by operation: NotAuthorizedException for the
 * predefined `alias/aws/…` aliases of AWS managed keys (core/operations/aliases.ts).
 */
export const OFF_MODEL_ERRORS: Readonly<Record<string, readonly string[]>> = {
  NotAuthorizedException: ["CreateAlias", "UpdateAlias", "DeleteAlias"],
};

/** How a fuzz run is configured. */
export interface FuzzOptions {
  runs: number;
  seed: number | undefined;
  /** Cases between two restorations of the fixtures' states. */
  restoreEvery: number;
  /** fast-check's replay path of a reported failure (`FUZZ_PATH`): replays that case alone. */
  path: string | undefined;
  /** Mutations not to generate (`FUZZ_EXCLUDE`, comma-separated): to study one failure at a time. */
  excluded: ReadonlySet<string>;
}

/** What a run saw, per operation and overall. */
export interface FuzzStats {
  cases: number;
  byOperation: Map<
    string,
    { cases: number; ok: number; validOk: number; valid: number; ms: number }
  >;
  byMutation: Map<string, number>;
  byError: Map<string, number>;
  /** `operation: __type` pairs where the error is not among the operation's modelled errors. */
  undeclared: Map<string, number>;
  /** Valid cases answered ValidationException/SerializationException, by `operation: message`. */
  validRejected: Map<string, number>;
}

/**
 * The fuzz options from `FUZZ_RUNS`, `FUZZ_SEED`, `FUZZ_PATH` and `FUZZ_EXCLUDE`. Without `FUZZ_RUNS`:
 * `FUZZ_DEFAULT_RUNS` (set by `deno task fuzz`), else `defaultRuns`.
 */
export function optionsFromEnv(defaultRuns: number): FuzzOptions {
  const runs = Number(
    Deno.env.get("FUZZ_RUNS") ?? Deno.env.get("FUZZ_DEFAULT_RUNS") ?? defaultRuns,
  );
  const seedText = Deno.env.get("FUZZ_SEED");
  const seed = seedText === undefined || seedText === "" ? undefined : Number(seedText);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`FUZZ_RUNS must be a positive integer`);
  if (seed !== undefined && !Number.isInteger(seed)) {
    throw new Error(`FUZZ_SEED must be an integer`);
  }
  const excluded = new Set((Deno.env.get("FUZZ_EXCLUDE") ?? "").split(",").filter((m) => m));
  const path = Deno.env.get("FUZZ_PATH") || undefined;
  return { runs, seed, path, restoreEvery: 250, excluded };
}

/** The request body bytes of a case (text as UTF-8, then any raw byte insertion). */
export function bodyBytes(c: FuzzCase): Uint8Array<ArrayBuffer> {
  const text = new TextEncoder().encode(c.text);
  if (c.bytes === undefined) return text;
  const index = Math.min(c.bytes.index, text.length);
  const out = new Uint8Array(text.length + c.bytes.insert.length);
  out.set(text.subarray(0, index));
  out.set(c.bytes.insert, index);
  out.set(text.subarray(index), index + c.bytes.insert.length);
  return out;
}

/** A short description of a case and its reply, for assertion messages. */
function describe(c: FuzzCase, reply: Reply): string {
  return `${caseLabel(c)} -> ${reply.status} ${reply.text.slice(0, 300)}`;
}

/** Checks one reply against what AWS promises; throws (failing the property) otherwise. */
export function checkReply(model: FuzzModel, c: FuzzCase, reply: Reply): void {
  const what = describe(c, reply);
  assert.ok(reply.status < 500, `5xx: ${what}`);
  assert.ok(reply.json !== undefined, `body is not JSON: ${what}`);
  assert.ok(
    typeof reply.json === "object" && reply.json !== null && !Array.isArray(reply.json),
    `body is not a JSON object: ${what}`,
  );
  const body = reply.json as Record<string, unknown>;
  if (reply.status === 200) {
    const output = model.operations[c.operation]!.output ?? "smithy.api#Unit";
    const problems = nonConformities(model, output, body);
    assert.deepEqual(problems, [], `200 not conforming to ${output}: ${what}`);
    return;
  }
  assert.ok(reply.status >= 400, `neither 200 nor an error: ${what}`);
  const type = body.__type;
  assert.ok(typeof type === "string", `error without __type: ${what}`);
  const name = type.slice(type.lastIndexOf("#") + 1);
  assert.ok(
    model.errors.includes(name) || COMMON_ERRORS.includes(name) ||
      (OFF_MODEL_ERRORS[name]?.includes(c.operation) ?? false),
    `__type ${type} is no AWS exception: ${what}`,
  );
  assert.ok(typeof body.message === "string", `error without a message: ${what}`);
  for (const secret of c.secrets) {
    assert.ok(!reply.text.includes(secret), `error echoes a sensitive value: ${what}`);
  }
}

function count<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function record(model: FuzzModel, stats: FuzzStats, c: FuzzCase, reply: Reply, ms: number): void {
  stats.cases++;
  count(stats.byMutation, c.mutation);
  const op = stats.byOperation.get(c.operation) ??
    { cases: 0, ok: 0, validOk: 0, valid: 0, ms: 0 };
  stats.byOperation.set(c.operation, op);
  op.cases++;
  op.ms += ms;
  if (c.mutation === "valid") op.valid++;
  if (reply.status === 200) {
    op.ok++;
    if (c.mutation === "valid") op.validOk++;
    return;
  }
  const body = (reply.json ?? {}) as Record<string, unknown>;
  const type = String(body.__type);
  count(stats.byError, type);
  const declared = model.operations[c.operation]!.errors;
  if (!declared.includes(type) && !COMMON_ERRORS.includes(type)) {
    count(stats.undeclared, `${c.operation}: ${type}`);
  }
  if (
    c.mutation === "valid" && (type === "ValidationException" || type === "SerializationException")
  ) {
    const message = String(body.message).replace(/'[^']*'/g, "'…'").slice(0, 200);
    count(stats.validRejected, `${c.operation}: ${message}`);
  }
}

/** Generates `options.runs` cases over `operations`, sends and checks each one. */
export async function fuzz(
  url: string,
  model: FuzzModel,
  fixtures: Fixtures,
  operations: string[],
  options: FuzzOptions,
): Promise<FuzzStats> {
  const stats: FuzzStats = {
    cases: 0,
    byOperation: new Map(),
    byMutation: new Map(),
    byError: new Map(),
    undeclared: new Map(),
    validRejected: new Map(),
  };
  const arbitraries = new RequestArbitraries(
    model,
    fixtures.pools,
    fixtures.templates as Templates,
  );
  let sent = 0;
  const property = fc.asyncProperty(
    arbitraries.anyCase(operations, options.excluded),
    async (c) => {
      if (++sent % options.restoreEvery === 0) await restoreFixtures(url, fixtures);
      const started = performance.now();
      const reply = await sendRaw(url, c.operation, bodyBytes(c));
      record(model, stats, c, reply, performance.now() - started);
      checkReply(model, c, reply);
    },
  );
  await fc.assert(property, {
    numRuns: options.runs,
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    ...(options.path === undefined ? {} : { path: options.path }),
  });
  return stats;
}

/** A printable summary of a run. */
export function summary(stats: FuzzStats): string {
  const lines = [`${stats.cases} cases`];
  const ops = [...stats.byOperation.entries()].sort(([a], [b]) => a.localeCompare(b));
  lines.push("operation: cases / 200s / valid cases / valid 200s / total ms");
  for (const [name, s] of ops) {
    lines.push(`  ${name}: ${s.cases} / ${s.ok} / ${s.valid} / ${s.validOk} / ${Math.round(s.ms)}`);
  }
  lines.push(`mutations: ${JSON.stringify(Object.fromEntries(stats.byMutation))}`);
  lines.push(`errors: ${JSON.stringify(Object.fromEntries(stats.byError))}`);
  if (stats.undeclared.size > 0) {
    lines.push(
      `errors not in the operation's model: ${
        JSON.stringify(Object.fromEntries(stats.undeclared))
      }`,
    );
  }
  if (stats.validRejected.size > 0) {
    const top = [...stats.validRejected].sort(([, a], [, b]) => b - a).slice(0, 15);
    lines.push(`valid requests rejected as malformed (${top.length} most frequent reasons):`);
    for (const [k, n] of top) lines.push(`  ${n} × ${k}`);
  }
  return lines.join("\n");
}
