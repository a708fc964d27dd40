/**
 * AWS's full KMS model, `kms.smithy.json` in the shared reference folder
 * beside the checkout (../shared/reference/, see MODEL_SOURCES.md there), for
 * tests that need what the extract in tests/testdata/kms_model/ drops
 * (documentation, traits). Absent on a machine without that folder: such
 * tests are ignored there.
 *
 * @module
 */

const PATHS = [
  new URL("../../../shared/reference/kms.smithy.json", import.meta.url),
  new URL("../../../../shared/reference/kms.smithy.json", import.meta.url),
];

/** The parsed Smithy JSON AST, or undefined when no copy is found. */
export async function readSmithyModel(): Promise<Record<string, unknown> | undefined> {
  for (const path of PATHS) {
    try {
      return JSON.parse(await Deno.readTextFile(path)) as Record<string, unknown>;
    } catch {
      // not here
    }
  }
  return undefined;
}
