/**
 * Architecture rules checked on the real module graph (tests/helpers/module_graph.ts): no import
 * cycles, no import across a layer boundary, and the checks themselves catch a planted violation;
 * plus source rules (no console output in core/ and storage/, no JSR imports).
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  importCycles,
  layerViolations,
  loadModuleGraph,
  type ModuleGraph,
} from "./helpers/module_graph.ts";

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

Deno.test("the module graph has no import cycle", async () => {
  const graph = await loadModuleGraph(ROOT);
  assert.ok(graph.imports.has("core/kms.ts") && graph.imports.has("main.ts"), "graph was read");
  assert.deepEqual(importCycles(graph), []);
});

Deno.test("no module imports across a layer boundary (core, routes, storage)", async () => {
  const graph = await loadModuleGraph(ROOT);
  assert.ok(graph.imports.has("routes/app.ts") && graph.imports.has("storage/client.ts"));
  assert.deepEqual(layerViolations(graph), []);
});

Deno.test("the graph checks report a planted cycle and planted layer violations", () => {
  const graph: ModuleGraph = {
    imports: new Map([
      ["core/a.ts", ["core/b.ts", "storage/client.ts", "npm:@libsql/client"]],
      ["core/b.ts", ["core/a.ts", "npm:hono"]],
      ["core/c.ts", ["core/c.ts"]],
      ["routes/x.ts", ["core/a.ts", "storage/y.ts"]],
      ["storage/y.ts", ["core/c.ts", "routes/x.ts"]],
    ]),
  };
  assert.deepEqual(importCycles(graph), [
    ["core/a.ts", "core/b.ts"],
    ["core/c.ts"],
    ["routes/x.ts", "storage/y.ts"],
  ]);
  assert.deepEqual(layerViolations(graph).map((v) => v.replace(/ \(.*\)$/, "")), [
    "core/a.ts imports npm:@libsql/client",
    "core/a.ts imports storage/client.ts",
    "core/b.ts imports npm:hono",
    "routes/x.ts imports storage/y.ts",
    "storage/y.ts imports routes/x.ts",
  ]);
});

Deno.test("a probe module planted in a copy of core/ is caught by both graph checks", async () => {
  const copy = await copyOfProduct();
  try {
    await Deno.writeTextFile(
      new URL("core/probe_a.ts", copy),
      'import "../storage/client.ts";\nimport "../routes/errors.ts";\nimport "./probe_b.ts";\n',
    );
    await Deno.writeTextFile(new URL("core/probe_b.ts", copy), 'import "./probe_a.ts";\n');
    const graph = await loadModuleGraph(copy);
    assert.deepEqual(importCycles(graph), [["core/probe_a.ts", "core/probe_b.ts"]]);
    assert.deepEqual(layerViolations(graph).map((v) => v.replace(/ \(.*\)$/, "")), [
      "core/probe_a.ts imports routes/errors.ts",
      "core/probe_a.ts imports storage/client.ts",
    ]);
  } finally {
    await Deno.remove(copy, { recursive: true });
  }
});

/** A temporary copy of the product's modules and configuration (node_modules linked). */
async function copyOfProduct(): Promise<URL> {
  const dir = await Deno.makeTempDir({ prefix: "architecture_probe_" });
  const copy = new URL(`file://${dir}/`);
  const entries = ["core", "routes", "storage", "scripts", "migrations", "main.ts", "deploy.ts"]
    .concat(["startup.ts", "deno.json", "package.json"]);
  for (const entry of entries) {
    const from = new URL(entry, ROOT).pathname;
    const copied = await new Deno.Command("cp", { args: ["-r", from, dir] }).output();
    assert.ok(copied.success, `copying ${entry}`);
  }
  await Deno.symlink(await Deno.realPath(new URL("node_modules", ROOT)), `${dir}/node_modules`);
  return copy;
}

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
