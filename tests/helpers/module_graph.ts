/**
 * The project's real module graph, as `deno info --json` resolves it (type-only imports
 * included), and the two architecture rules checked on it: no import cycles, and the layers
 * (core/ imports no routes/, storage/, HTTP or SQL library; routes/ imports no storage/ or SQL
 * library; storage/ imports no routes/ or HTTP library).
 *
 * The checks are pure functions of a {@link ModuleGraph}, so a test can feed them a synthetic
 * graph as well as the real one.
 *
 * @module
 */

/** An import: the importing module and what it names (a project path or `npm:<package>`). */
export interface ModuleGraph {
  /** Project paths relative to the root (`core/kms.ts`) mapped to what each imports. */
  readonly imports: ReadonlyMap<string, readonly string[]>;
}

/** The directories whose non-test modules make up the product. */
const PRODUCT_DIRS = ["core", "routes", "storage", "scripts"];
/** Product modules outside those directories. */
const PRODUCT_FILES = ["main.ts", "deploy.ts", "startup.ts"];

/** Every product module under `root` (test files, test data and benchmarks aside). */
export async function productModules(root: URL): Promise<string[]> {
  const found: string[] = [];
  for (const file of PRODUCT_FILES) {
    if (await exists(new URL(file, root))) found.push(file);
  }
  for (const dir of PRODUCT_DIRS) found.push(...await modulesUnder(root, dir));
  return found.sort();
}

async function modulesUnder(root: URL, dir: string): Promise<string[]> {
  if (!await exists(new URL(dir, root))) return [];
  const found: string[] = [];
  for await (const entry of Deno.readDir(new URL(dir, root))) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory && entry.name !== "testdata") {
      found.push(...await modulesUnder(root, path));
    } else if (entry.isFile && entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) {
      found.push(path);
    }
  }
  return found;
}

async function exists(url: URL): Promise<boolean> {
  try {
    await Deno.stat(url);
    return true;
  } catch {
    return false;
  }
}

/**
 * Resolves the graph of every product module under `root` (a directory URL ending in `/`) with
 * `deno info --json`, run on a generated entry module that imports them all.
 * @throws {Error} when `deno info` fails.
 */
export async function loadModuleGraph(root: URL): Promise<ModuleGraph> {
  const modules = await productModules(root);
  const dir = await Deno.makeTempDir({ prefix: "module_graph_" });
  try {
    const entry = `${dir}/entry.ts`;
    await Deno.writeTextFile(
      entry,
      modules.map((path) => `import ${JSON.stringify(new URL(path, root).href)};\n`).join(""),
    );
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", new URL("deno.json", root).pathname, entry],
      cwd: root.pathname,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!output.success) {
      throw new Error(`deno info failed: ${new TextDecoder().decode(output.stderr)}`);
    }
    return graphFromDenoInfo(JSON.parse(new TextDecoder().decode(output.stdout)), root);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

interface DenoInfoDependency {
  specifier: string;
  code?: { specifier?: string };
  type?: { specifier?: string };
}

interface DenoInfo {
  modules: { specifier: string; kind?: string; dependencies?: DenoInfoDependency[] }[];
}

/** The project part of `deno info --json` output: project modules and what each imports. */
export function graphFromDenoInfo(info: DenoInfo, root: URL): ModuleGraph {
  const imports = new Map<string, string[]>();
  for (const module of info.modules) {
    const from = projectPath(module.specifier, root);
    if (from === null) continue;
    const targets = new Set<string>();
    for (const dependency of module.dependencies ?? []) {
      const target = importTarget(dependency, root);
      if (target !== null) targets.add(target);
    }
    imports.set(from, [...targets].sort());
  }
  return { imports };
}

/** A project module's path relative to `root`, or null for one outside it (node_modules aside). */
function projectPath(specifier: string, root: URL): string | null {
  if (!specifier.startsWith(root.href)) return null;
  const path = specifier.slice(root.href.length);
  return path.startsWith("node_modules/") ? null : path;
}

/** What an import names: a project path, `npm:<package>` for a bare specifier, or null. */
function importTarget(dependency: DenoInfoDependency, root: URL): string | null {
  const bare = dependency.specifier;
  if (!/^(\.|\/|[a-z]+:)/.test(bare)) return `npm:${packageName(bare)}`;
  if (bare.startsWith("npm:")) return `npm:${packageName(bare.slice(4).replace(/@[^@/]*$/, ""))}`;
  const resolved = dependency.code?.specifier ?? dependency.type?.specifier;
  return resolved === undefined ? null : projectPath(resolved, root);
}

function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

/** Every import cycle: the modules of each strongly connected component (or self-import). */
export function importCycles(graph: ModuleGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  let next = 0;
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next++;
    stack.push(node);
    onStack.add(node);
    for (const target of graph.imports.get(node) ?? []) {
      if (!graph.imports.has(target)) continue;
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node)!, index.get(target)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    const selfImport = graph.imports.get(node)?.includes(node) ?? false;
    if (component.length > 1 || selfImport) cycles.push(component.sort());
  };
  for (const node of [...graph.imports.keys()].sort()) {
    if (!index.has(node)) visit(node);
  }
  return cycles;
}

/** A layer and what its modules may not import. */
interface LayerRule {
  readonly layer: string;
  readonly forbidden: (target: string) => boolean;
  readonly why: string;
}

const ENTRY_POINTS = new Set(["main.ts", "deploy.ts", "startup.ts"]);

const LAYER_RULES: readonly LayerRule[] = [
  {
    layer: "core/",
    forbidden: (t) =>
      t.startsWith("routes/") || t.startsWith("storage/") || t.startsWith("scripts/") ||
      ENTRY_POINTS.has(t) || t === "npm:hono" || t.startsWith("npm:@libsql/"),
    why: "core is pure of HTTP and SQL",
  },
  {
    layer: "routes/",
    forbidden: (t) =>
      t.startsWith("storage/") || t.startsWith("scripts/") || ENTRY_POINTS.has(t) ||
      t.startsWith("npm:@libsql/"),
    why: "routes are protocol only",
  },
  {
    layer: "storage/",
    forbidden: (t) =>
      t.startsWith("routes/") || t.startsWith("scripts/") || ENTRY_POINTS.has(t) ||
      t === "npm:hono",
    why: "storage is SQL only",
  },
];

/** Every import that breaks a layer rule, as `<module> imports <target> (<rule>)`. */
export function layerViolations(graph: ModuleGraph): string[] {
  const found: string[] = [];
  for (const [from, targets] of graph.imports) {
    for (const rule of LAYER_RULES) {
      if (!from.startsWith(rule.layer)) continue;
      for (const target of targets) {
        if (rule.forbidden(target)) found.push(`${from} imports ${target} (${rule.why})`);
      }
    }
  }
  return found.sort();
}
