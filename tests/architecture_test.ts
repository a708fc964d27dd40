import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
/** The registry scheme the build machines cannot reach. */
const JSR_SCHEME = ["jsr", ":"].join("");

async function sourceFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(new URL(dir, ROOT))) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) files.push(...await sourceFiles(path));
    else if (entry.name.endsWith(".ts")) files.push(path);
  }
  return files;
}

function imports(source: string): string[] {
  return [...source.matchAll(/(?:import|export)[^"']*?from\s+["']([^"']+)["']/g)].map((m) => m[1]!);
}

async function violations(
  dir: string,
  rule: (specifier: string, file: string) => boolean,
): Promise<string[]> {
  const found: string[] = [];
  for (const file of await sourceFiles(dir)) {
    const source = await Deno.readTextFile(new URL(file, ROOT));
    for (const specifier of imports(source)) {
      if (rule(specifier, file)) found.push(`${file} imports ${specifier}`);
    }
  }
  return found;
}

Deno.test("core never imports routes/, storage/, HTTP or SQL libraries", async () => {
  const found = await violations(
    "core",
    (s) => /\/(routes|storage)\//.test(s) || /^(hono|@libsql\/)/.test(s) || s === "../main.ts",
  );
  assert.deepEqual(found, []);
});

Deno.test("routes never import storage/ or SQL libraries", async () => {
  const found = await violations("routes", (s) => /\/storage\//.test(s) || /^@libsql\//.test(s));
  assert.deepEqual(found, []);
});

Deno.test("storage never imports routes/ or HTTP libraries", async () => {
  const found = await violations("storage", (s) => /\/routes\//.test(s) || /^hono/.test(s));
  assert.deepEqual(found, []);
});

Deno.test("core and storage never write to the console", async () => {
  const found: string[] = [];
  for (const dir of ["core", "storage"]) {
    for (const file of await sourceFiles(dir)) {
      if (file.endsWith("_test.ts")) continue;
      const source = await Deno.readTextFile(new URL(file, ROOT));
      if (/\bconsole\./.test(source)) found.push(file);
    }
  }
  assert.deepEqual(found, []);
});

Deno.test("no imports from the JSR registry anywhere", async () => {
  const found: string[] = [];
  for (const dir of ["core", "routes", "storage", "tests"]) {
    found.push(...await violations(dir, (s) => s.startsWith(JSR_SCHEME)));
  }
  assert.deepEqual(found, []);
});
