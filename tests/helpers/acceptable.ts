/**
 * Reads core/crypto/testdata/ACCEPTABLE.md, the table of what each primitive
 * does with Wycheproof's `acceptable` cases, so the tests assert exactly the
 * documented choice and the table cannot drift from the code.
 *
 * @module
 */
import assert from "node:assert/strict";

/** One row of ACCEPTABLE.md: what we do with the `acceptable` cases of one flag. */
export interface AcceptableChoice {
  cases: number;
  accepts: boolean;
  assertedBy: string;
}

const TABLE = new URL("../../core/crypto/testdata/ACCEPTABLE.md", import.meta.url);

/** The rows of ACCEPTABLE.md for the vector file `file`, by flag. */
export async function documentedChoices(file: string): Promise<Map<string, AcceptableChoice>> {
  const table = await Deno.readTextFile(TABLE);
  const choices = new Map<string, AcceptableChoice>();
  for (const line of table.split("\n")) {
    const cells = line.split("|").map((cell) => cell.trim());
    if (cells[1] !== `\`${file}\``) continue;
    const [flag, cases, , choice, , assertedBy] = cells.slice(2);
    assert.match(choice ?? "", /^(accepts|rejects)$/, line);
    choices.set(flag!.replaceAll("`", ""), {
      cases: Number(cases),
      accepts: choice === "accepts",
      assertedBy: assertedBy!,
    });
  }
  return choices;
}
