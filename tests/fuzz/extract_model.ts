/**
 * Extracts from AWS's Smithy model of KMS what the fuzzer needs: every
 * operation with its input and output shape and its errors, every shape those
 * reach (type, members, required, length, range, pattern, enum values), and
 * every error shape. Documentation and examples are dropped; nothing else is
 * changed. The result is `tests/testdata/kms_model/kms_inputs.json`, so the
 * fuzzer runs where `../shared/reference` does not exist (CI's clone).
 *
 * Usage: `deno run --allow-read --allow-write tests/fuzz/extract_model.ts [kms.smithy.json]`
 *
 * @module
 */

/** A shape as the fuzzer sees it. */
export interface ModelShape {
  type: string;
  members?: Record<string, { target: string; required?: true }>;
  member?: string;
  key?: string;
  value?: string;
  length?: { min?: number; max?: number };
  range?: { min?: number; max?: number };
  pattern?: string;
  enum?: string[];
  /** AWS marks the value secret (`smithy.api#sensitive`). */
  sensitive?: true;
}

/** An operation as the fuzzer sees it. */
export interface ModelOperation {
  input: string;
  output: string | undefined;
  errors: string[];
}

/** The extracted model. */
export interface FuzzModel {
  source: string;
  operations: Record<string, ModelOperation>;
  shapes: Record<string, ModelShape>;
  errors: string[];
}

type Smithy = {
  shapes: Record<string, {
    type: string;
    input?: { target: string };
    output?: { target: string };
    errors?: { target: string }[];
    members?: Record<string, { target: string; traits?: Record<string, unknown> }>;
    member?: { target: string };
    key?: { target: string };
    value?: { target: string };
    traits?: Record<string, unknown>;
  }>;
};

const PREFIX = "com.amazonaws.kms#";

function local(id: string): string {
  return id.startsWith(PREFIX) ? id.slice(PREFIX.length) : id;
}

function shapeOf(smithy: Smithy, id: string): ModelShape {
  const raw = smithy.shapes[id];
  if (raw === undefined) return { type: local(id).replace(/^smithy\.api#/, "").toLowerCase() };
  const traits = raw.traits ?? {};
  const shape: ModelShape = { type: raw.type };
  if (raw.members !== undefined) {
    if (raw.type === "enum") {
      shape.enum = Object.entries(raw.members).map(([name, m]) =>
        (m.traits?.["smithy.api#enumValue"] as string | undefined) ?? name
      );
    } else {
      shape.members = Object.fromEntries(
        Object.entries(raw.members).map(([name, m]) => [
          name,
          m.traits?.["smithy.api#required"] !== undefined
            ? { target: local(m.target), required: true as const }
            : { target: local(m.target) },
        ]),
      );
    }
  }
  if (raw.member) shape.member = local(raw.member.target);
  if (raw.key) shape.key = local(raw.key.target);
  if (raw.value) shape.value = local(raw.value.target);
  const length = traits["smithy.api#length"] as ModelShape["length"];
  if (length) shape.length = length;
  const range = traits["smithy.api#range"] as ModelShape["range"];
  if (range) shape.range = range;
  const pattern = traits["smithy.api#pattern"] as string | undefined;
  if (pattern) shape.pattern = pattern;
  if (traits["smithy.api#sensitive"] !== undefined) shape.sensitive = true;
  return shape;
}

/** The fuzzer's view of a Smithy model. */
export function extractModel(smithy: Smithy, source: string): FuzzModel {
  const shapes: Record<string, ModelShape> = {};
  const visit = (id: string) => {
    const name = local(id);
    if (shapes[name] !== undefined) return;
    const shape = shapeOf(smithy, id);
    shapes[name] = shape;
    for (const m of Object.values(shape.members ?? {})) visit(PREFIX + m.target);
    for (const t of [shape.member, shape.key, shape.value]) if (t) visit(PREFIX + t);
  };
  const operations: Record<string, ModelOperation> = {};
  const errors = new Set<string>();
  for (const [id, raw] of Object.entries(smithy.shapes)) {
    if (raw.type === "structure" && raw.traits?.["smithy.api#error"] !== undefined) {
      errors.add(local(id));
    }
    if (raw.type !== "operation" || raw.input === undefined) continue;
    visit(raw.input.target);
    if (raw.output) visit(raw.output.target);
    operations[local(id)] = {
      input: local(raw.input.target),
      output: raw.output ? local(raw.output.target) : undefined,
      errors: (raw.errors ?? []).map((e) => local(e.target)).sort(),
    };
  }
  return { source, operations, shapes, errors: [...errors].sort() };
}

if (import.meta.main) {
  const path = Deno.args[0] ?? "../shared/reference/kms.smithy.json";
  const smithy = JSON.parse(await Deno.readTextFile(path)) as Smithy;
  const model = extractModel(
    smithy,
    "smithy-lang/smithy-rs@56ee88c5c6edd967967656f1e29f46b229105e79 aws/sdk/aws-models/kms.json",
  );
  const out = new URL("../testdata/kms_model/kms_inputs.json", import.meta.url);
  await Deno.writeTextFile(out, JSON.stringify(model, null, 1) + "\n");
  console.log(
    `${Object.keys(model.operations).length} operations, ${
      Object.keys(model.shapes).length
    } shapes -> ${out.pathname}`,
  );
}
