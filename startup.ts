/**
 * What a start checks before it writes anything (README "Start-up checks"): the port can be
 * bound, the principals, seed and attestation-root files can be read and parsed, the root
 * keyring can be read, and the database (storage/preflight.ts) is this KMS's, whole, not locked
 * and served by the keyring. Only then is anything created: the default data directory, and
 * the root key file of a database that holds nothing yet (never of one that holds data).
 *
 * Every refusal is a StartupError whose message is the one line main.ts prints.
 *
 * @module
 */
import { dirname } from "node:path";
import { accessSync, constants } from "node:fs";
import {
  type Config,
  ConfigError,
  DEFAULT_DB_URL,
  DEFAULT_ROOT_KEY_FILE,
  StartupError,
} from "./core/config.ts";
import { checkPrincipalsFileText } from "./core/principals_file.ts";
import { parseSeedFile } from "./core/seed_file.ts";
import {
  AWS_NITRO_ENCLAVES_ROOT_G1_PEM,
  parseTrustedRoots,
  type TrustedRoots,
} from "./core/recipient/attestation.ts";
import { isMemoryUrl } from "./storage/client.ts";
import {
  type DatabaseState,
  preflightDatabase,
  remoteDatabaseHoldsData,
} from "./storage/preflight.ts";
import { createKeyring, type KeyringSource, readKeyring } from "./storage/root_key_file.ts";
import type { RootKeyring } from "./storage/root_keyring.ts";

/**
 * Refuses a `KMS_HOST`/`KMS_PORT` this process cannot listen on, by binding it and letting go
 * at once (the server binds it again a moment later, after the other checks).
 * @throws {StartupError} naming the variables and the fix.
 */
export function checkPortAvailable(host: string, port: number): void {
  let listener: Deno.Listener;
  try {
    listener = Deno.listen({ hostname: host, port, transport: "tcp" });
  } catch (e) {
    throw portError(host, port, e);
  }
  listener.close();
}

function portError(host: string, port: number, error: unknown): StartupError {
  const where = `KMS_HOST ${host}, KMS_PORT ${port}`;
  if (error instanceof Deno.errors.AddrInUse) {
    return new StartupError(
      `${where}: the port is already in use by another process: stop it or choose another KMS_PORT`,
    );
  }
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return new StartupError(
      `${where}: ${host} is not an address of this machine: use one of its addresses, ` +
        "127.0.0.1 or 0.0.0.0",
    );
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return new StartupError(
      `${where}: not allowed to listen there (ports below 1024 need privileges): choose ` +
        "KMS_PORT 1024 or above",
    );
  }
  return new StartupError(
    `${where}: cannot listen (${oneLine(error)}): set KMS_HOST to a local address or host name`,
  );
}

/**
 * Reads and parses the files the configuration names (principals, seed, attestation roots);
 * resolves to the trusted attestation roots.
 * @throws {StartupError} naming the variable and file.
 */
export async function checkConfiguredFiles(config: Config): Promise<TrustedRoots> {
  if (config.principalsFile !== undefined) {
    checkPrincipalsFileText(await readConfiguredFile("KMS_PRINCIPALS_FILE", config.principalsFile));
  }
  if (config.seedFile !== undefined) {
    parseSeedFile(await readConfiguredFile("KMS_SEED_FILE", config.seedFile), config.seedFile);
  }
  const roots = await readAttestationRoots(config.attestationRoots);
  try {
    return parseTrustedRoots(roots ?? AWS_NITRO_ENCLAVES_ROOT_G1_PEM);
  } catch (e) {
    throw new StartupError(
      `KMS_ATTESTATION_ROOTS: ${oneLine(e).replace(/^parseTrustedRoots: /, "")}: give a PEM ` +
        "bundle of CA certificates or the path of a file holding one",
    );
  }
}

/** The PEM text of `KMS_ATTESTATION_ROOTS`: the value itself when it is PEM, else a file path. */
export async function readAttestationRoots(value: string | undefined): Promise<string | undefined> {
  if (value === undefined || value.trim() === "") return undefined;
  if (value.trimStart().startsWith("-----BEGIN")) return value;
  return await readConfiguredFile("KMS_ATTESTATION_ROOTS", value);
}

async function readConfiguredFile(variable: string, path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "it does not exist"
      : e instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : oneLine(e);
    throw new ConfigError(
      `${variable}: cannot read ${path}: ${why}; fix the path or unset ${variable}`,
    );
  }
}

/**
 * Reads the root keyring and checks the database against it, then creates what a first start
 * needs: the default data directory, and the root key file when there is none and the
 * database holds nothing.
 * @throws {StartupError} before anything is created.
 */
export async function prepareRootKeyAndDatabase(
  config: Config,
  source: KeyringSource,
): Promise<{ keyring: RootKeyring; database: DatabaseState }> {
  const keyring = await readKeyring(source);
  if (keyring === null) checkKeyFileDirectory(source.rootKeyFile);
  // A database that holds data and no keyring is refused there (never a new key for it).
  const database = await preflightDatabase(config.dbUrl, {
    directoryMayBeMissing: config.dbUrl === DEFAULT_DB_URL,
    keyring,
    keyFile: source.rootKeyFile,
  });
  if (keyring === null && database.kind === "unchecked" && !isMemoryUrl(config.dbUrl)) {
    if (await remoteDatabaseHoldsData(config.dbUrl, config.dbAuthToken)) {
      throw new StartupError(
        `KMS_ROOT_KEY_FILE ${source.rootKeyFile} does not exist, but the remote database holds ` +
          "data wrapped under a root key: set KMS_ROOT_KEY or restore the keyring file",
      );
    }
  }
  // Everything is checked: from here on a start may write.
  if (database.path !== null && database.kind === "new") {
    await Deno.mkdir(dirname(database.path), { recursive: true });
  }
  if (keyring !== null) return { keyring, database };
  if (source.rootKeyFile === DEFAULT_ROOT_KEY_FILE) {
    await Deno.mkdir(dirname(source.rootKeyFile), { recursive: true });
  }
  return { keyring: await createKeyring(source), database };
}

/** The directory of a root key file to be created must exist (but the default one) and be writable. */
function checkKeyFileDirectory(path: string): void {
  const directory = dirname(path);
  try {
    accessSync(directory, constants.W_OK | constants.X_OK);
  } catch (e) {
    const missing = (e as { code?: string }).code === "ENOENT";
    if (missing && path === DEFAULT_ROOT_KEY_FILE) return;
    throw new StartupError(
      missing
        ? `KMS_ROOT_KEY_FILE ${path} does not exist and its directory ${directory} does not ` +
          "either: create the directory (a new key is made for a new database) or fix the path"
        : `KMS_ROOT_KEY_FILE ${path} does not exist and its directory ${directory} is not ` +
          "writable: make it writable for the KMS's user (a new key is made for a new database) " +
          "or fix the path",
    );
  }
}

/** A failure to open or migrate the database after the checks (a remote server, mostly). */
export function databaseStartupError(error: unknown): StartupError {
  if (error instanceof StartupError) return error;
  const cause = error instanceof Error && error.cause !== undefined
    ? `: ${oneLine(error.cause)}`
    : "";
  return new StartupError(
    `KMS_DB_URL: the database cannot be opened or migrated (${oneLine(error)}${cause}): check ` +
      "the URL, KMS_DB_AUTH_TOKEN and that the database server is reachable",
  );
}

/** An error as one line of text, for the operator (never a stack). */
export function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s+/g, " ").trim();
}

/**
 * What main.ts prints when a start fails: the StartupError's message, or, for an error nobody
 * foresaw, its name and first line (never a stack trace).
 */
export function startupFailureLine(error: unknown): string {
  if (error instanceof StartupError) return oneLine(error);
  const name = error instanceof Error ? error.name : "Error";
  const cause = error instanceof Error && error.cause !== undefined
    ? ` (${oneLine(error.cause)})`
    : "";
  return `start-up failed: ${name}: ${oneLine(error)}${cause}`;
}
