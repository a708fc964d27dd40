/**
 * tests/slow_suites.txt, the one list of the suites `deno task test` leaves to
 * `deno task test:slow` (deno.json): one existing test file per line and nothing else, so a
 * stray blank line cannot make `--ignore` skip everything and a renamed suite cannot silently
 * drop out of both runs.
 *
 * @module
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

Deno.test("every line of tests/slow_suites.txt names an existing *_test.ts file, once", async () => {
  const text = await Deno.readTextFile(new URL("tests/slow_suites.txt", ROOT));
  assert.ok(text.endsWith("\n") && !text.endsWith("\n\n"), "one newline at the end");
  const lines = text.slice(0, -1).split("\n");
  assert.ok(lines.length > 0);
  assert.equal(new Set(lines).size, lines.length, "no suite listed twice");
  for (const line of lines) {
    assert.match(line, /^tests\/[a-z0-9_]+_test\.ts$/, `"${line}" is a test file path`);
    const info = await Deno.stat(new URL(line, ROOT));
    assert.ok(info.isFile, `${line} exists`);
  }
});
