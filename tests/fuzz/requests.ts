/**
 * fast-check arbitraries of KMS requests, read from AWS's model: a valid
 * request for each operation (required members, length, range and pattern
 * constraints, enums, lists, maps, blobs, timestamps; key ids and blobs drawn
 * from the fixtures so requests go deep), and mutations of one (wrong types,
 * out-of-bound lengths and numbers, unknown enum values, deep nesting, bad
 * base64, odd unicode, extra members, null, removed members) or of its bytes
 * (truncation, BOM, invalid UTF-8, duplicate members, trailing garbage).
 *
 * Every case is named: `mutation` says which mutation made it (or `valid`),
 * `at` where it applied, so a failure says what kind of input broke the KMS.
 *
 * @module
 */
import fc from "fast-check";
import type { FuzzModel, ModelShape } from "./model.ts";
import { shape } from "./model.ts";

/** One generated request. */
export interface FuzzCase {
  operation: string;
  /** `valid`, or the name of the mutation that made this case. */
  mutation: string;
  /** The member path the mutation applied to, or `body`. */
  at: string;
  /** The request body as text (`JSON` or deliberately not). */
  text: string;
  /** Raw bytes inserted at `index` after UTF-8 encoding (invalid UTF-8), if any. */
  bytes?: { index: number; insert: number[] };
  /** Values of sensitive members: they must never come back in an error. */
  secrets: string[];
}

/** A one-line description of a case, its body cut to 300 characters. */
export function caseLabel(c: FuzzCase): string {
  const body = c.text.length > 300 ? `${c.text.slice(0, 300)}… (${c.text.length} chars)` : c.text;
  const bytes = c.bytes ? ` + bytes ${JSON.stringify(c.bytes)}` : "";
  return `${c.operation} [${c.mutation} at ${c.at || "-"}] ${JSON.stringify(body)}${bytes}`;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

/** Pools of interesting values by member name (see fixtures.ts). */
export type Pools = Record<string, unknown[]>;

/** Requests known to fit the fixtures, per operation (see fixtures.ts). */
export type Templates = Record<string, Record<string, Json>[]>;

/** A token standing for raw JSON text that `JSON.stringify` cannot produce. */
const RAW = "\u0001fuzz-raw\u0001";
/** A token standing for a member to remove. */
const REMOVE = "\u0001fuzz-remove\u0001";

/** Stands for an optional member left out. */
const ABSENT = "\u0001fuzz-absent\u0001";

/** Longest string or list a valid value gets, unless it is AWS's exact bound. */
const SOFT_MAX = 64;

/** Builds valid and mutated request arbitraries for a model. */
export class RequestArbitraries {
  readonly #model: FuzzModel;
  readonly #pools: Pools;
  readonly #templates: Templates;
  readonly #cache = new Map<string, fc.Arbitrary<Json>>();

  constructor(model: FuzzModel, pools: Pools, templates: Templates = {}) {
    this.#model = model;
    this.#pools = pools;
    this.#templates = templates as Templates;
  }

  /**
   * Any case for any operation: about 4 in 11 valid, 4 member mutations, 2 byte
   * mutations and 1 tampered template (where the operation has one).
   * Mutations named in `excluded` are not generated (to study one failure class at a time).
   */
  anyCase(operations: string[], excluded: ReadonlySet<string> = new Set()): fc.Arbitrary<FuzzCase> {
    const any = fc.constantFrom(...operations).chain((operation) => {
      const tampered = this.tamperedTemplate(operation);
      return fc.oneof(
        { weight: 4, arbitrary: this.validCase(operation) },
        { weight: 4, arbitrary: this.memberMutation(operation) },
        { weight: 2, arbitrary: this.bodyMutation(operation) },
        ...(tampered === undefined ? [] : [{ weight: 1, arbitrary: tampered }]),
      );
    });
    return excluded.size === 0 ? any : any.filter((c) => !excluded.has(c.mutation));
  }

  /**
   * One of the operation's templates (a request that fits the fixtures) with a real value
   * tampered with: a ciphertext, signature, MAC, public key, import token or wrapped key
   * material with a byte flipped, cut or added; a key id or grant token with a character
   * changed. Undefined when the operation has no template with such a value.
   */
  tamperedTemplate(operation: string): fc.Arbitrary<FuzzCase> | undefined {
    const input = this.#inputShape(operation);
    const choices = (this.#templates[operation] ?? []).flatMap((template) =>
      Object.entries(template).flatMap(([name, value]) => {
        const member = input.members?.[name];
        if (member === undefined || typeof value !== "string" || value.length === 0) return [];
        const type = shape(this.#model, member.target).type;
        return type === "blob" || type === "string" ? [{ template, name, value, type }] : [];
      })
    );
    if (choices.length === 0) return undefined;
    return fc.constantFrom(...choices).chain(({ template, name, value, type }) =>
      (type === "blob" && isBase64(value)
        ? tamperedBytes(Uint8Array.fromBase64(value)).map((b) => b.toBase64())
        : tamperedString(value)).map((tampered) => {
          const request = { ...template, [name]: tampered };
          return this.#case(operation, `tampered-${type}`, name, template, JSON.stringify(request));
        })
    );
  }

  /** A request the model accepts. */
  validCase(operation: string): fc.Arbitrary<FuzzCase> {
    return this.validRequest(operation).map((request) =>
      this.#case(operation, "valid", "", request, JSON.stringify(request))
    );
  }

  /**
   * A valid request as a JSON object: generated from the model, and half the time laid over
   * (or replaced by) one of the operation's templates, requests that fit the fixtures.
   */
  validRequest(operation: string): fc.Arbitrary<Record<string, Json>> {
    const input = this.#inputShape(operation);
    const generated = this.#structure(input, operation) as fc.Arbitrary<Record<string, Json>>;
    const templates = this.#templates[operation] ?? [];
    if (templates.length === 0) return generated;
    return fc.oneof(
      generated,
      fc.tuple(generated, fc.constantFrom(...templates), fc.boolean()).map(
        ([request, template, merge]) => merge ? { ...request, ...template } : { ...template },
      ),
    );
  }

  /** A valid request with one member (at any depth, present or not) mutated. */
  memberMutation(operation: string): fc.Arbitrary<FuzzCase> {
    const inputName = this.#model.operations[operation]!.input;
    return this.validRequest(operation).chain((request) => {
      const targets = this.#targets(request, inputName);
      return fc.constantFrom(...targets).chain(({ path, shapeName }) =>
        this.#mutationFor(shapeName, getAt(request, path)).map(([mutation, value]) => {
          const mutated = structuredClone(request);
          const raw = setAt(mutated, path, value);
          const text = raw === undefined
            ? JSON.stringify(mutated)
            : JSON.stringify(mutated).replace(JSON.stringify(RAW), () => raw);
          return this.#case(operation, mutation, path.join("."), request, text);
        })
      );
    });
  }

  /** A valid request whose serialized bytes are broken. */
  bodyMutation(operation: string): fc.Arbitrary<FuzzCase> {
    return this.validRequest(operation).chain((request) => {
      const text = JSON.stringify(request);
      const make = (mutation: string, body: string, bytes?: FuzzCase["bytes"]) => {
        const c = this.#case(operation, mutation, "body", request, body);
        return bytes === undefined ? c : { ...c, bytes };
      };
      const firstKey = Object.keys(request)[0];
      return fc.oneof(
        fc.nat(Math.max(0, text.length - 1)).map((n) => make("truncated", text.slice(0, n))),
        fc.constant(make("utf8-bom", `\uFEFF${text}`)),
        fc.tuple(fc.nat(text.length), fc.constantFrom(...INVALID_UTF8)).map(([index, insert]) =>
          make("invalid-utf8", text, { index, insert })
        ),
        fc.constantFrom(...NOT_AN_OBJECT).map((body) => make("not-an-object", body)),
        fc.constantFrom(...TRAILING).map((tail) => make("trailing-garbage", text + tail)),
        fc.nat(text.length).map((n) =>
          make("raw-control-character", text.slice(0, n) + "\u0000" + text.slice(n))
        ),
        fc.tuple(fc.constantFrom(...EXTRA_NAMES), fc.jsonValue({ maxDepth: 3 })).map(
          ([name, value]) => make("extra-member", withMember(text, name, JSON.stringify(value))),
        ),
        firstKey === undefined ? fc.constant(make("duplicate-member", `{"A":1,"A":2}`)) : fc
          .jsonValue({ maxDepth: 2 })
          .map((value) =>
            make("duplicate-member", withMember(text, firstKey, JSON.stringify(value)))
          ),
      );
    });
  }

  #case(
    operation: string,
    mutation: string,
    at: string,
    request: Record<string, Json>,
    text: string,
  ): FuzzCase {
    const c = { operation, mutation, at, text, secrets: this.#secrets(operation, request) };
    // fast-check prints a counterexample with this: short, unlike a 10,000-deep array.
    Object.defineProperty(c, fc.toStringMethod, { value: () => caseLabel(c), enumerable: false });
    return c;
  }

  /**
   * The sensitive string values of a valid request (long enough to search for), but not one that a
   * non-sensitive member also holds (a generated password "aaaa…" inside a generated id "aaaa…aaaa"
   * may come back in a message about the id).
   */
  #secrets(operation: string, request: Record<string, Json>): string[] {
    const members = Object.entries(this.#inputShape(operation).members ?? {})
      .filter(([name]) => name in request);
    const isSensitive = (target: string) => shape(this.#model, target).sensitive === true;
    const openValues = members
      .filter(([, m]) => !isSensitive(m.target))
      .map(([name]) => JSON.stringify(request[name]));
    return members
      .filter(([, m]) => isSensitive(m.target))
      .map(([name]) => request[name])
      .filter((v): v is string => typeof v === "string" && v.length >= 8)
      .filter((secret) => !openValues.some((text) => text.includes(secret)));
  }

  #inputShape(operation: string): ModelShape {
    const op = this.#model.operations[operation];
    if (op === undefined) throw new Error(`the model has no operation ${operation}`);
    return shape(this.#model, op.input);
  }

  /** Every place a mutation can go: each present value, and each absent structure member. */
  #targets(value: Json, shapeName: string, path: Path = []): { path: Path; shapeName: string }[] {
    const s = shape(this.#model, shapeName);
    const here = path.length === 0 ? [] : [{ path, shapeName }];
    if (s.type === "structure" && isObject(value)) {
      return [
        ...here,
        ...Object.entries(s.members ?? {}).flatMap(([name, m]) =>
          name in value
            ? this.#targets(value[name]!, m.target, [...path, name])
            : [{ path: [...path, name], shapeName: m.target }]
        ),
      ];
    }
    if (s.type === "list" && Array.isArray(value)) {
      return [...here, ...value.flatMap((v, i) => this.#targets(v, s.member!, [...path, i]))];
    }
    if (s.type === "map" && isObject(value)) {
      return [
        ...here,
        ...Object.entries(value).flatMap(([k, v]) => this.#targets(v, s.value!, [...path, k])),
      ];
    }
    return here;
  }

  /** A mutation that fits a shape: `[name, new value]` (RAW and REMOVE tokens included). */
  #mutationFor(
    shapeName: string,
    current: Json | undefined,
  ): fc.Arbitrary<[string, Json | RawValue]> {
    const s = shape(this.#model, shapeName);
    const options: fc.WeightedArbitrary<[string, Json | RawValue]>[] = [];
    // Mutations of any member weigh 1; those that fit the member's type weigh 3.
    const add = (weight: number, name: string, arb: fc.Arbitrary<Json | RawValue>) =>
      options.push({ weight, arbitrary: arb.map((v) => [name, v] as [string, Json | RawValue]) });
    add(
      1,
      "wrong-type",
      fc.constantFrom<Json>(0, -1, 1.5, true, "x", [], ["x"], [1], {}, { a: "b" }),
    );
    add(1, "null", fc.constant(null));
    add(1, "remove", fc.constant(REMOVE));
    add(1, "deep-nesting", fc.constantFrom(2, 64, 1000, 5000).chain(nested));
    add(1, "wide-value", fc.constantFrom(1000, 5000).chain(wide));
    add(1, "any-json", fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>);
    const bounds = outOfBounds(s);
    if (bounds.length > 0) add(3, "out-of-bounds", fc.constantFrom(...bounds));
    if (s.type === "enum") add(3, "unknown-enum", unknownEnum(s.enum ?? []));
    if (s.type === "blob") add(3, "bad-base64", fc.constantFrom(...BAD_BASE64));
    if (s.type === "blob" && typeof current === "string" && isBase64(current)) {
      add(
        4,
        "tampered-blob",
        tamperedBytes(Uint8Array.fromBase64(current)).map((b) => b.toBase64()),
      );
    }
    if (s.type === "string" && typeof current === "string" && current.length > 0) {
      add(2, "tampered-string", tamperedString(current));
    }
    if (s.type === "string" || s.type === "enum") {
      add(3, "odd-unicode", fc.constantFrom(...ODD_STRINGS));
      add(1, "odd-unicode", fc.string({ unit: "binary", maxLength: 40 }));
    }
    if (s.type === "integer" || s.type === "long" || s.type === "timestamp") {
      add(3, "odd-number", fc.constantFrom(...ODD_NUMBERS).map(rawOf));
    }
    if (s.type === "structure" || s.type === "map") {
      add(2, "odd-object", fc.constantFrom(...ODD_OBJECTS).map(rawOf));
    }
    if (s.type === "map") {
      add(
        3,
        "odd-map-key",
        fc.constantFrom(...ODD_STRINGS, "", "__proto__").map((k) => ({ [k]: "v" })),
      );
    }
    return fc.oneof(...options);
  }

  /** A valid value of a shape; `member` names the pool of the member it fills (see fixtures.ts). */
  #value(s: ModelShape, member: string | undefined): fc.Arbitrary<Json> {
    const pool = member === undefined ? undefined : this.#pools[member];
    const generated = this.#generated(s);
    if (pool === undefined || pool.length === 0) return generated;
    return fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...(pool as Json[])) },
      { weight: 1, arbitrary: generated },
    );
  }

  #generated(s: ModelShape): fc.Arbitrary<Json> {
    switch (s.type) {
      case "structure":
        return this.#structure(s);
      case "list": {
        const item = this.#value(shape(this.#model, s.member!), undefined);
        return fc.array(item, lengthBounds(s, 5));
      }
      case "map":
        return fc.dictionary(
          this.#generated(shape(this.#model, s.key!)) as fc.Arbitrary<string>,
          this.#generated(shape(this.#model, s.value!)),
          { maxKeys: Math.min(s.length?.max ?? 5, 5), minKeys: s.length?.min ?? 0 },
        );
      case "enum":
        return fc.constantFrom(...(s.enum ?? []));
      case "string":
        return validString(s);
      case "blob":
        return fc.oneof(
          { weight: 9, arbitrary: fc.uint8Array(lengthBounds(s, SOFT_MAX)) },
          { weight: 1, arbitrary: fc.constant(new Uint8Array(s.length?.max ?? SOFT_MAX)) },
        ).map((bytes) => bytes.toBase64());
      case "integer":
      case "long":
        return fc.integer({ min: s.range?.min ?? -(2 ** 31), max: s.range?.max ?? 2 ** 31 - 1 });
      case "boolean":
        return fc.boolean();
      case "timestamp":
        return fc.integer({ min: 0, max: 4_102_444_800 });
      default:
        throw new Error(`no generator for shape type ${s.type}`);
    }
  }

  /**
   * A structure; for an operation's input (`operation` given), a pool named
   * `<operation>.<member>` goes before the member's own pool.
   */
  #structure(s: ModelShape, operation?: string): fc.Arbitrary<Json> {
    const key = `${operation ?? ""} ${JSON.stringify(s.members)}`;
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached;
    const members = Object.entries(s.members ?? {});
    const poolName = (name: string) =>
      operation !== undefined && this.#pools[`${operation}.${name}`]
        ? `${operation}.${name}`
        : name;
    const arbitraries = Object.fromEntries(
      members.map(([name, m]) => [name, this.#value(shape(this.#model, m.target), poolName(name))]),
    );
    const required = new Set(members.filter(([, m]) => m.required).map(([name]) => name));
    // An optional member is present one time in three: with fewer optional values a valid
    // request more often gets past the semantic checks into the operation's real work.
    const optional = (arb: fc.Arbitrary<Json>) =>
      fc.oneof({ weight: 2, arbitrary: fc.constant(ABSENT) }, { weight: 1, arbitrary: arb });
    const arb = fc.record(
      Object.fromEntries(
        Object.entries(arbitraries).map((
          [name, a],
        ) => [name, required.has(name) ? a : optional(a)]),
      ),
    ).map((value) =>
      Object.fromEntries(Object.entries(value).filter(([, v]) => v !== ABSENT))
    ) as fc.Arbitrary<Json>;
    this.#cache.set(key, arb);
    return arb;
  }
}

/** A value written into the body verbatim, not through `JSON.stringify`. */
interface RawValue {
  raw: string;
}

/** RawValues made by this module (so a generated `{raw: "..."}` JSON object is not one). */
const RAW_VALUES = new WeakSet<RawValue>();

function rawOf(text: string): RawValue {
  const value = { raw: text };
  RAW_VALUES.add(value);
  return value;
}

function isRaw(value: unknown): value is RawValue {
  return typeof value === "object" && value !== null && RAW_VALUES.has(value as RawValue);
}

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The value at `path` in `root`, if any. */
function getAt(root: Json, path: Path): Json | undefined {
  let value: Json | undefined = root;
  for (const step of path) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<string | number, Json>)[step];
  }
  return value;
}

function isBase64(value: string): boolean {
  try {
    Uint8Array.fromBase64(value);
    return true;
  } catch {
    return false;
  }
}

/** A real blob (a ciphertext, signature, public key, token) with a byte flipped, cut or added. */
function tamperedBytes(bytes: Uint8Array): fc.Arbitrary<Uint8Array> {
  const length = Math.max(1, bytes.length);
  return fc.oneof(
    fc.tuple(fc.nat(length - 1), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
      const out = bytes.slice();
      if (out.length > 0) out[i] = out[i]! ^ x;
      return out;
    }),
    fc.nat(length - 1).map((n) => bytes.slice(0, n)),
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map((extra) => {
      const out = new Uint8Array(bytes.length + extra.length);
      out.set(bytes);
      out.set(extra, bytes.length);
      return out;
    }),
    fc.nat(length - 1).map((n) => bytes.slice(n)),
  );
}

/** A real string (a key id, ARN, grant token) with a character changed, cut or added. */
function tamperedString(value: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.tuple(fc.nat(value.length - 1), fc.string({ unit: "binary", minLength: 1, maxLength: 1 }))
      .map(([i, c]) => value.slice(0, i) + c + value.slice(i + 1)),
    fc.nat(value.length - 1).map((n) => value.slice(0, n)),
    fc.string({ unit: "binary", minLength: 1, maxLength: 8 }).map((extra) => value + extra),
  );
}

/**
 * Sets `path` in `root` to `value`: REMOVE deletes the member; a RawValue is
 * stored as the RAW token and its text returned, for the caller to splice in.
 */
function setAt(root: Record<string, Json>, path: Path, value: Json | RawValue): string | undefined {
  let parent: Json = root;
  for (const step of path.slice(0, -1)) parent = (parent as Record<string | number, Json>)[step]!;
  const last = path[path.length - 1]!;
  const container = parent as Record<string | number, Json>;
  if (value === REMOVE) {
    if (Array.isArray(container)) container.splice(last as number, 1);
    else delete container[last];
    return undefined;
  }
  if (isRaw(value)) {
    container[last] = RAW;
    return value.raw;
  }
  container[last] = value as Json;
  return undefined;
}

function lengthBounds(s: ModelShape, softMax: number): { minLength: number; maxLength: number } {
  const minLength = s.length?.min ?? 0;
  const maxLength = Math.max(minLength, Math.min(s.length?.max ?? softMax, softMax));
  return { minLength, maxLength };
}

/** A string within a shape's length and pattern. */
function validString(s: ModelShape): fc.Arbitrary<string> {
  const { minLength, maxLength } = lengthBounds(s, SOFT_MAX);
  if (s.pattern === undefined) {
    const any = fc.string({ unit: "binary", minLength, maxLength });
    const ascii = fc.string({ unit: "grapheme-ascii", minLength, maxLength });
    const max = s.length?.max;
    if (max === undefined || max > 200_000) return fc.oneof(ascii, any);
    return fc.oneof(
      { weight: 9, arbitrary: fc.oneof(ascii, any) },
      { weight: 1, arbitrary: fc.constant("a".repeat(max)) },
    );
  }
  const characterClass = /^\^(\[[^\]]+\])[+*]\$$/.exec(s.pattern);
  if (characterClass !== null) {
    return fc.stringMatching(new RegExp(`^${characterClass[1]}{${minLength},${maxLength}}$`));
  }
  const pattern = new RegExp(s.pattern);
  return fc.stringMatching(pattern, { maxLength: s.length?.max ?? SOFT_MAX })
    .filter((v) => v.length >= minLength && v.length <= (s.length?.max ?? Infinity));
}

/** Values just outside a shape's length or range bounds. */
function outOfBounds(s: ModelShape): Json[] {
  const values: Json[] = [];
  const { min, max } = s.length ?? {};
  if (s.type === "string") {
    if (min !== undefined && min > 0) values.push("a".repeat(min - 1));
    if (max !== undefined && max < 300_000) values.push("a".repeat(max + 1));
  }
  if (s.type === "blob") {
    if (min !== undefined && min > 0) values.push(new Uint8Array(min - 1).toBase64());
    if (max !== undefined) values.push(new Uint8Array(max + 1).toBase64());
  }
  if (s.type === "list" || s.type === "map") {
    if (max !== undefined) {
      values.push(
        s.type === "list"
          ? Array.from({ length: max + 1 }, (_, i) => `v${i}`)
          : Object.fromEntries(Array.from({ length: max + 1 }, (_, i) => [`k${i}`, "v"])),
      );
    }
  }
  if (s.type === "integer" || s.type === "long") {
    const range = s.range ?? {};
    if (range.min !== undefined) values.push(range.min - 1, -(2 ** 31) - 1);
    if (range.max !== undefined) values.push(range.max + 1, 2 ** 31, 2 ** 53 + 2, 1e300);
  }
  return values;
}

function unknownEnum(values: string[]): fc.Arbitrary<Json> {
  const first = values[0] ?? "A";
  return fc.oneof(
    fc.constantFrom("NOPE", "", first.toLowerCase(), `${first} `, `${first}\u200B`, `"${first}"`),
    fc.string({ maxLength: 20 }),
  );
}

function nested(depth: number): fc.Arbitrary<RawValue> {
  return fc.constantFrom(
    rawOf("[".repeat(depth) + "]".repeat(depth)),
    rawOf('{"a":'.repeat(depth) + "1" + "}".repeat(depth)),
    rawOf("[".repeat(depth) + '"SYMMETRIC_DEFAULT"' + "]".repeat(depth)),
  );
}

function wide(width: number): fc.Arbitrary<RawValue> {
  return fc.constantFrom(
    rawOf(`[${Array.from({ length: width }, () => "0").join(",")}]`),
    rawOf(`{${Array.from({ length: width }, (_, i) => `"k${i}":"v"`).join(",")}}`),
  );
}

const BAD_BASE64 = [
  "!!!",
  "QQ",
  "QQ=",
  "Q===",
  "=",
  "====",
  "QUJD\nRA==",
  "QUJD RA==",
  "-_-_",
  "QQ==QQ==",
  "\u0000",
  "😀😀",
  "\uD800AA",
  "%41%41",
  "QUJDRA==\u0000",
];

const ODD_STRINGS = [
  "\uD800",
  "a\uDC00b",
  "\uDBFF\uDBFF",
  "a\u0000b",
  "\u0000",
  "\uFEFF",
  "\u202Ealias/x",
  "😀".repeat(50),
  "\uFFFF\uFFFE",
  "e\u0301\u0301\u0301",
  "\u0001\u001F\u007F",
  "alias/../../etc/passwd",
  "alias/%00",
  "${jndi:ldap://x}",
  "'; DROP TABLE keys; --",
  "\\",
  '"',
  " ",
  "arn:aws:kms:us-east-1:111122223333:key/\u0000",
  "\u0130\u0131\u017F",
];

const ODD_NUMBERS = [
  "1e400",
  "-1e400",
  "-0",
  "1.0",
  "1e2",
  "0.5",
  "9007199254740993",
  "-9223372036854775809",
  "123456789012345678901234567890",
  "1E-400",
];

const ODD_OBJECTS = [
  '{"Unknown":1}',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"x":1}}}',
  '{"toString":"x","valueOf":1,"hasOwnProperty":null}',
  '{"":""}',
  '{"__type":"x"}',
];

/** `objectText` with one more member, written verbatim (so `__proto__` is an own member). */
function withMember(objectText: string, name: string, valueText: string): string {
  const open = objectText.slice(0, -1);
  return `${open}${open === "{" ? "" : ","}${JSON.stringify(name)}:${valueText}}`;
}

const EXTRA_NAMES = [
  "Unknown",
  "keyid",
  "KEYID",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "__type",
  "",
  "\u0000",
  "😀",
];

const INVALID_UTF8 = [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xc0, 0x80], [0xf4, 0x90, 0x80, 0x80], [
  0xe2,
  0x82,
]];

const NOT_AN_OBJECT = [
  "",
  " ",
  "[]",
  "[{}]",
  '"x"',
  "1",
  "null",
  "true",
  "{",
  "}",
  '{"a":}',
  "{}}",
  "{'KeyId':'x'}",
  "\u0000",
];

const TRAILING = [" ", "\n", "x", "}", "{}", "\u0000", ",", "]"];
