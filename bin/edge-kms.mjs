#!/usr/bin/env node
/**
 * `npx edge-kms`: starts the KMS (main.ts) with the permissions of `deno task start`, through the
 * Deno binary of the `deno` npm package (a dependency of this package), so nothing else needs to
 * be downloaded. Paths such as `./data` are relative to the caller's directory; the `KMS_*`
 * environment variables apply as for `deno task start`, and so do its V8 flags (the `--v8-flags=…`
 * of deno.json's `start` task, read from there: README "Memory"). SIGINT, SIGTERM and SIGHUP are passed on
 * to the server (once), and this process exits with the server's exit code.
 *
 * Deno does not run TypeScript from inside a `node_modules` directory, which is where an installed
 * package lives. So the package's sources are copied once per version of their content to a
 * cache directory (`$XDG_CACHE_HOME/edge-kms` or `~/.cache/edge-kms`, or `EDGE_KMS_CACHE_DIR`),
 * beside a `node_modules` link to the dependencies npm installed, and run from there.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { constants } from "node:os";
import { dirname, join, relative } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), "..");
const PERMISSIONS = [
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-write",
  "--allow-ffi",
  "--allow-sys",
];
/** Entries of the package that are not sources of the server. */
const NOT_COPIED = new Set(["node_modules", "bin", ".git", "data", "dist", "tests"]);

/** The directory holding Deno's npm package, resolved as the package's own code would. */
function denoPackageDir() {
  const require = createRequire(join(PACKAGE_DIR, "package.json"));
  return dirname(require.resolve("deno/package.json"));
}

/** The command that runs Deno: the npm package's binary, or its launcher script with node. */
function denoCommand(denoDir) {
  const binary = join(denoDir, process.platform === "win32" ? "deno.exe" : "deno");
  if (existsSync(binary)) return { command: binary, prefix: [] };
  return { command: process.execPath, prefix: [join(denoDir, "bin.cjs")] };
}

/** Every source file of the package (relative paths), sorted. */
function sourceFiles(dir = PACKAGE_DIR, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (dir === PACKAGE_DIR && NOT_COPIED.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) sourceFiles(path, out);
    else if (entry.isFile()) out.push(relative(PACKAGE_DIR, path));
  }
  return out.sort();
}

/** A short digest of the package's location, version and files (names, sizes, times). */
function contentStamp(files) {
  const hash = createHash("sha256").update(PACKAGE_DIR);
  hash.update(readFileSync(join(PACKAGE_DIR, "package.json")));
  for (const file of files) {
    const { size, mtimeMs } = statSync(join(PACKAGE_DIR, file));
    hash.update(`${file}\0${size}\0${mtimeMs}\n`);
  }
  return hash.digest("hex").slice(0, 16);
}

function cacheRoot() {
  return process.env.EDGE_KMS_CACHE_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "edge-kms");
}

/** The package's sources outside node_modules (copied when missing); returns their directory. */
function runnableSources(dependencies) {
  const files = sourceFiles();
  const target = join(cacheRoot(), contentStamp(files));
  if (existsSync(join(target, "main.ts"))) return target;
  const staging = `${target}.${process.pid}.tmp`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  for (const file of files) {
    mkdirSync(dirname(join(staging, file)), { recursive: true });
    cpSync(join(PACKAGE_DIR, file), join(staging, file));
  }
  symlinkSync(dependencies, join(staging, "node_modules"), "dir");
  try {
    renameSync(staging, target);
  } catch (error) {
    // Another start got there first: its copy is the same.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(join(target, "main.ts"))) throw error;
  }
  return target;
}

/** The `--v8-flags=…` words of the `start` task of the deno.json in `dir`. */
function startV8Flags(dir) {
  const { tasks } = JSON.parse(readFileSync(join(dir, "deno.json"), "utf8"));
  const start = typeof tasks.start === "string" ? tasks.start : tasks.start.command;
  return start.split(/\s+/).filter((word) => word.startsWith("--v8-flags="));
}

function main() {
  const denoDir = denoPackageDir();
  const sources = runnableSources(dirname(denoDir));
  const { command, prefix } = denoCommand(denoDir);
  const args = [
    ...prefix,
    "run",
    ...PERMISSIONS,
    ...startV8Flags(sources),
    "--config",
    join(sources, "deno.json"),
    join(sources, "main.ts"),
    ...process.argv.slice(2),
  ];
  // Its own process group: a Ctrl-C or a signal to our group reaches the server once, from here.
  const child = spawn(command, args, { stdio: "inherit", detached: true });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(signal, () => child.kill(signal));
  }
  child.on("exit", (code, signal) => {
    process.exit(code ?? 128 + (constants.signals[signal] ?? 0));
  });
}

main();
