/**
 * AWS's KMS model as the fuzzer reads it: the extract in
 * tests/testdata/kms_model/kms_inputs.json (see extract_model.ts and the
 * SOURCES.md beside it), loaded at test time.
 *
 * @module
 */
import type { FuzzModel, ModelShape } from "./extract_model.ts";

export type { FuzzModel, ModelOperation, ModelShape } from "./extract_model.ts";

const MODEL_FILE = new URL("../testdata/kms_model/kms_inputs.json", import.meta.url);

/** Reads the model extract. */
export async function loadModel(): Promise<FuzzModel> {
  return JSON.parse(await Deno.readTextFile(MODEL_FILE)) as FuzzModel;
}

/** The shape named `name`; throws when the model lacks it. */
export function shape(model: FuzzModel, name: string): ModelShape {
  const found = model.shapes[name];
  if (found === undefined) throw new Error(`the model has no shape ${name}`);
  return found;
}
