/**
 * Configuration from the environment, with defaults. Pure: main.ts hands in
 * `Deno.env.toObject()`.
 *
 * @module
 */
import { defaultPoolSize } from "./crypto/crypto_workers.ts";
import { AUDIT_MODES, type AuditMode } from "./audit/buffer.ts";
import { type AuditRetention, parseAuditRetention } from "./audit/retention.ts";

/** Everything the process is configured with. Secrets stay strings until used. */
export interface Config {
  host: string;
  port: number;
  /** The default region: where a request goes when nothing names another (`KMS_REGION`). */
  region: string;
  /**
   * Every region this process serves (`KMS_REGIONS`, comma-separated; the default region is
   * always among them, first). A request's SigV4 credential scope picks its region.
   */
  regions: string[];
  accountId: string;
  dbUrl: string;
  dbAuthToken: string | undefined;
  /** Base64 root key, when given directly. */
  rootKey: string | undefined;
  /** File holding the base64 root key; created with mode 0600 when missing. */
  rootKeyFile: string;
  /** Previous root keys, comma-separated base64, with `rootKey` (`KMS_ROOT_KEYS_PREVIOUS`). */
  rootKeysPrevious?: string | undefined;
  adminAccessKeyId: string | undefined;
  adminSecretAccessKey: string | undefined;
  logLevel: "debug" | "info" | "warn" | "error";
  /** How many pre-generated RSA key pairs to keep in memory per size (`KMS_RSA_POOL_<bits>`). */
  rsaPoolSizes: RsaPoolSizes;
  /** Pre-generated pairs kept in memory per ECC spec, made by the crypto workers (`KMS_ECC_POOL`). */
  eccPoolSize: number;
  /**
   * Trusted roots for Recipient attestation documents (`KMS_ATTESTATION_ROOTS`): a PEM
   * bundle, or the path of a file holding one. Unset: AWS Nitro Enclaves' root only.
   */
  attestationRoots: string | undefined;
  /**
   * A JSON file of principals (users, roles, account roots) with access keys and identity
   * policies, applied idempotently at start (`KMS_PRINCIPALS_FILE`).
   */
  principalsFile: string | undefined;
  /**
   * A JSON or YAML file of keys (fixed ids, symmetric and HMAC material), aliases, tags,
   * policies and grants, applied idempotently at start (`KMS_SEED_FILE`).
   */
  seedFile: string | undefined;
  /**
   * Worker threads for slow signing work (`KMS_CRYPTO_WORKERS`; default `min(2, cores)`);
   * 0 signs and verifies on the main thread.
   */
  cryptoWorkers: number;
  /** Whether `GET /metrics` and request metrics are on (`KMS_METRICS=on|off`, default on). */
  metrics: boolean;
  /** Whether each KMS request writes an `info` access line (`KMS_ACCESS_LOG=on|off`, default on). */
  accessLog?: boolean | undefined;
  /** When set (`KMS_METRICS_TOKEN`), `GET /metrics` requires `Authorization: Bearer <token>`. */
  metricsToken: string | undefined;
  /** Whether a local file's writes commit in a worker thread (`KMS_DB_WORKER=on|off`, default on). */
  dbWorker?: boolean | undefined;
  /**
   * Whether several isolates commit and append audit records through one writer on the main
   * thread (`KMS_SHARED_WRITER=on|off`, default on; storage/shared_writer.ts).
   */
  sharedWriter?: boolean | undefined;
  /** Milliseconds between the automatic rotation scheduler's looks (`KMS_ROTATION_CHECK_INTERVAL_MS`). */
  rotationCheckIntervalMs?: number | undefined;
  /**
   * TEST ONLY (`KMS_TEST_CLOCK_OFFSET_FILE`): a file holding a number of milliseconds by which
   * the key lifecycle clock (rotation and deletion dates) runs ahead of the wall clock, re-read as
   * it changes, so tests can move several processes' time. Never set it in production.
   */
  testClockOffsetFile?: string | undefined;
  /** Deadline of every store call, ms (`KMS_STORE_TIMEOUT_MS`, default 5000; storage/deadline.ts). */
  storeTimeoutMs?: number | undefined;
  /** Deadline of a clean stop on SIGTERM/SIGINT, ms (`KMS_SHUTDOWN_TIMEOUT_MS`, default 10000). */
  shutdownTimeoutMs?: number | undefined;
  /**
   * Whether a data-plane reply waits for its audit record's group commit (`strict`) or not
   * (`batched`); `KMS_AUDIT_MODE`, default `batched` (README "Audit log").
   */
  auditMode?: AuditMode | undefined;
  /** How old/large the audit log may grow (`KMS_AUDIT_RETENTION`, core/audit/retention.ts). */
  auditRetention?: AuditRetention | undefined;
  /** Where retention first exports what it removes, as JSON lines (`KMS_AUDIT_EXPORT_DIR`). */
  auditExportDir?: string | undefined;
  /** Connection timeouts and bounds of the listener (routes/listener.ts; `KMS_*_TIMEOUT_MS`...). */
  connectionLimits: ConnectionLimits;
  /**
   * AWS's request quotas (core/quotas.ts): `KMS_QUOTAS=aws` enforces them, scaled by
   * `KMS_QUOTA_SCALE` (default 1); off (undefined) by default.
   */
  quotas?: { scale: number } | undefined;
  /**
   * SM2 keys and SM2 data key pairs in every Region (`KMS_SM2_ALL_REGIONS=true`); by default only
   * in China Regions, as AWS (core/region_profile.ts).
   */
  sm2AllRegions: boolean;
}

// --- Connections (routes/listener.ts, README "Connections and limits") ---

/** Timeouts and bounds of client connections. */
export interface ConnectionLimits {
  /** Time to receive a request's header section (`KMS_HEADERS_TIMEOUT_MS`, default 10 s). */
  headersTimeoutMs: number;
  /** Time to receive a whole request, body included (`KMS_REQUEST_TIMEOUT_MS`, default 30 s). */
  requestTimeoutMs: number;
  /** Time an idle keep-alive connection stays open (`KMS_KEEPALIVE_TIMEOUT_MS`, default 5 s). */
  keepAliveTimeoutMs: number;
  /**
   * Open connections at most (`KMS_MAX_CONNECTIONS`, default 4096); the listener lowers it to
   * the descriptor limit less a reserve. More are closed as soon as they are accepted.
   */
  maxConnections: number;
  /** Largest request header section (`KMS_MAX_HEADER_BYTES`, default 16384). */
  maxHeaderBytes: number;
  /**
   * Synchronous request work the listener starts per event-loop turn at most, ms
   * (`KMS_TURN_BUDGET_MS`, default 0 = no bound; routes/turn_budget.ts).
   */
  turnBudgetMs: number;
}

/** The defaults of `ConnectionLimits`. */
export const DEFAULT_CONNECTION_LIMITS: Readonly<ConnectionLimits> = Object.freeze({
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 4096,
  maxHeaderBytes: 16_384,
  turnBudgetMs: 0,
});

/**
 * A numeric variable within min..max, or its default when unset; `wellFormed` tells whether the
 * text is a number of the kind `kind` names in the error ("an integer", "a number of ms").
 */
function boundedNumber(
  env: Record<string, string | undefined>,
  name: string,
  fallback: number,
  [min, max]: [number, number],
  kind: string,
  wellFormed: (raw: string, value: number) => boolean,
): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!wellFormed(raw, value) || value < min || value > max) {
    throw new ConfigError(`${name} must be ${kind} ${min}..${max}, got "${raw}"`);
  }
  return value;
}

/** An integer variable within min..max, or its default when unset. */
function boundedInteger(
  env: Record<string, string | undefined>,
  name: string,
  fallback: number,
  range: [number, number],
): number {
  return boundedNumber(env, name, fallback, range, "an integer", (_, v) => Number.isInteger(v));
}

/** A number of milliseconds (fractions allowed, e.g. 1.5) within min..max, or its default. */
function boundedMilliseconds(
  env: Record<string, string | undefined>,
  name: string,
  fallback: number,
  range: [number, number],
): number {
  return boundedNumber(
    env,
    name,
    fallback,
    range,
    "a number of ms",
    (raw) => /^\d+(\.\d+)?$/.test(raw.trim()),
  );
}

/** `KMS_HEADERS_TIMEOUT_MS`, `KMS_REQUEST_TIMEOUT_MS`, `KMS_KEEPALIVE_TIMEOUT_MS`, `KMS_MAX_CONNECTIONS`, `KMS_MAX_HEADER_BYTES`, `KMS_TURN_BUDGET_MS`. */
function parseConnectionLimits(env: Record<string, string | undefined>): ConnectionLimits {
  const d = DEFAULT_CONNECTION_LIMITS;
  const hour = 3_600_000;
  const limits = {
    headersTimeoutMs: boundedInteger(env, "KMS_HEADERS_TIMEOUT_MS", d.headersTimeoutMs, [
      100,
      hour,
    ]),
    requestTimeoutMs: boundedInteger(env, "KMS_REQUEST_TIMEOUT_MS", d.requestTimeoutMs, [
      100,
      hour,
    ]),
    keepAliveTimeoutMs: boundedInteger(env, "KMS_KEEPALIVE_TIMEOUT_MS", d.keepAliveTimeoutMs, [
      100,
      hour,
    ]),
    maxConnections: boundedInteger(env, "KMS_MAX_CONNECTIONS", d.maxConnections, [1, 1_000_000]),
    maxHeaderBytes: boundedInteger(env, "KMS_MAX_HEADER_BYTES", d.maxHeaderBytes, [
      1024,
      1_048_576,
    ]),
    turnBudgetMs: boundedMilliseconds(env, "KMS_TURN_BUDGET_MS", d.turnBudgetMs, [0, 1000]),
  };
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new ConfigError(
      `KMS_HEADERS_TIMEOUT_MS (${limits.headersTimeoutMs}) must not exceed KMS_REQUEST_TIMEOUT_MS (${limits.requestTimeoutMs})`,
    );
  }
  return limits;
}

// --- end of connections ---

/** Pool size per RSA modulus length. */
export interface RsaPoolSizes {
  RSA_2048: number;
  RSA_3072: number;
  RSA_4096: number;
}

/** Pool sizes a laptop can afford: refilling them costs about 20 s of one core after start. */
export const DEFAULT_RSA_POOL_SIZES: Readonly<RsaPoolSizes> = Object.freeze({
  RSA_2048: 16,
  RSA_3072: 6,
  RSA_4096: 3,
});

const MAX_RSA_POOL_SIZE = 1024;

function parsePoolSize(env: Record<string, string | undefined>, spec: keyof RsaPoolSizes): number {
  const name = `KMS_RSA_POOL_${spec.slice(4)}`;
  const raw = env[name];
  if (raw === undefined || raw === "") return DEFAULT_RSA_POOL_SIZES[spec];
  const size = Number(raw);
  if (!Number.isInteger(size) || size < 0 || size > MAX_RSA_POOL_SIZE) {
    throw new ConfigError(`${name} must be an integer 0..${MAX_RSA_POOL_SIZE}, got "${raw}"`);
  }
  return size;
}

/** Pairs per ECC spec by default: ~1/30 s of load at the rates this machine reaches. */
export const DEFAULT_ECC_POOL_SIZE = 128;

function parseEccPoolSize(env: Record<string, string | undefined>): number {
  const raw = env.KMS_ECC_POOL;
  if (raw === undefined || raw === "") return DEFAULT_ECC_POOL_SIZE;
  const size = Number(raw);
  if (!Number.isInteger(size) || size < 0 || size > MAX_RSA_POOL_SIZE) {
    throw new ConfigError(`KMS_ECC_POOL must be an integer 0..${MAX_RSA_POOL_SIZE}, got "${raw}"`);
  }
  return size;
}

const MAX_CRYPTO_WORKERS = 64;

function parseCryptoWorkers(env: Record<string, string | undefined>): number {
  const raw = env.KMS_CRYPTO_WORKERS;
  if (raw === undefined || raw === "") return defaultPoolSize();
  const size = Number(raw);
  if (!Number.isInteger(size) || size < 0 || size > MAX_CRYPTO_WORKERS) {
    throw new ConfigError(
      `KMS_CRYPTO_WORKERS must be an integer 0..${MAX_CRYPTO_WORKERS}, got "${raw}"`,
    );
  }
  return size;
}

function parseMetrics(env: Record<string, string | undefined>): boolean {
  const raw = env.KMS_METRICS;
  if (raw === undefined || raw === "" || raw === "on") return true;
  if (raw === "off") return false;
  throw new ConfigError(`KMS_METRICS must be "on" or "off", got "${raw}"`);
}

function parseOnOff(env: Record<string, string | undefined>, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "" || raw === "on") return true;
  if (raw === "off") return false;
  throw new ConfigError(`${name} must be "on" or "off", got "${raw}"`);
}

/** Bounds of `KMS_ROTATION_CHECK_INTERVAL_MS` (default 60000: core/rotation_scheduler.ts). */
const MIN_ROTATION_CHECK_MS = 1;
const MAX_ROTATION_CHECK_MS = 86_400_000;

function parseRotationCheckInterval(env: Record<string, string | undefined>): number | undefined {
  const raw = env.KMS_ROTATION_CHECK_INTERVAL_MS;
  if (raw === undefined || raw === "") return undefined;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < MIN_ROTATION_CHECK_MS || ms > MAX_ROTATION_CHECK_MS) {
    throw new ConfigError(
      `KMS_ROTATION_CHECK_INTERVAL_MS must be an integer ${MIN_ROTATION_CHECK_MS}..${MAX_ROTATION_CHECK_MS}, got "${raw}"`,
    );
  }
  return ms;
}

/** An optional whole number of milliseconds in `min..max` from `env[name]`. */
function parseMillis(
  env: Record<string, string | undefined>,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < min || ms > max) {
    throw new ConfigError(`${name} must be an integer ${min}..${max} (milliseconds), got "${raw}"`);
  }
  return ms;
}

/** The audit mode when `KMS_AUDIT_MODE` is unset (chosen by measurement: README "Audit log"). */
export const DEFAULT_AUDIT_MODE: AuditMode = "batched";

function parseAuditMode(env: Record<string, string | undefined>): AuditMode {
  const raw = env.KMS_AUDIT_MODE;
  if (raw === undefined || raw === "") return DEFAULT_AUDIT_MODE;
  if (!(AUDIT_MODES as readonly string[]).includes(raw)) {
    throw new ConfigError(`KMS_AUDIT_MODE must be "strict" or "batched", got "${raw}"`);
  }
  return raw as AuditMode;
}

function parseRetention(env: Record<string, string | undefined>): AuditRetention | undefined {
  const raw = env.KMS_AUDIT_RETENTION;
  if (raw === undefined) return undefined;
  try {
    return parseAuditRetention(raw);
  } catch (error) {
    throw new ConfigError(`KMS_AUDIT_RETENTION: ${(error as Error).message}`);
  }
}

/** `KMS_QUOTAS` (`off` or `aws`) and `KMS_QUOTA_SCALE` (a positive number, default 1). */
function parseQuotas(env: Record<string, string | undefined>): { scale: number } | undefined {
  const mode = env.KMS_QUOTAS ?? "";
  const rawScale = env.KMS_QUOTA_SCALE ?? "";
  const scale = rawScale === "" ? 1 : Number(rawScale);
  if (!Number.isFinite(scale) || scale <= 0 || scale > 1_000_000) {
    throw new ConfigError(
      `KMS_QUOTA_SCALE must be a positive number (e.g. 0.01 for a hundredth of AWS's rates), got "${rawScale}"`,
    );
  }
  if (mode === "" || mode === "off") return undefined;
  if (mode !== "aws") throw new ConfigError(`KMS_QUOTAS must be "off" or "aws", got "${mode}"`);
  return { scale };
}

/** `KMS_SM2_ALL_REGIONS`: `true` or `false` (default). */
function parseSm2AllRegions(env: Record<string, string | undefined>): boolean {
  const raw = env.KMS_SM2_ALL_REGIONS ?? "";
  if (raw === "" || raw === "false") return false;
  if (raw === "true") return true;
  throw new ConfigError(
    `KMS_SM2_ALL_REGIONS must be "true" (SM2 in every Region) or "false" (China Regions only, as AWS), got "${raw}"`,
  );
}

/**
 * A reason the process refuses to start, worded for the operator: what is wrong, where (the
 * variable or file) and how to fix it. main.ts prints its message as one line on stderr.
 */
export class StartupError extends Error {
  override readonly name: string = "StartupError";
}

/** Thrown for a configuration the process cannot start with. */
export class ConfigError extends StartupError {
  override readonly name = "ConfigError";
}

/** Where the store lives when `KMS_DB_URL` is unset; its directory is created on first start. */
export const DEFAULT_DB_URL = "file:./data/kms.db";
/** Where the root keyring lives when `KMS_ROOT_KEY_FILE` is unset; its directory is created too. */
export const DEFAULT_ROOT_KEY_FILE = "./data/root.key";

/** `KMS_PORT`: decimal digits 0..65535 (0 picks a free port). */
function parsePort(raw: string | undefined): number {
  if (raw === undefined) return 8080;
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(port) || port > 65535) {
    throw new ConfigError(
      `KMS_PORT must be an integer 0..65535 (0 picks a free port), got "${raw}": set it to a port number`,
    );
  }
  return port;
}

/** `KMS_HOST`: a non-empty host name or address without spaces, port or brackets. */
function parseHost(raw: string | undefined): string {
  if (raw === undefined) return "127.0.0.1";
  if (!/^[A-Za-z0-9.:_-]+$/.test(raw)) {
    throw new ConfigError(
      `KMS_HOST must be a host name or IP address to listen on (e.g. 127.0.0.1 or 0.0.0.0), got "${raw}"`,
    );
  }
  return raw;
}

/** URL schemes storage/client.ts opens. */
const DB_URL = /^(file:|libsql:|https?:|wss?:)|^:memory:$/;

/** `KMS_DB_URL`: a libSQL URL of a scheme storage/client.ts opens; a `file:` URL names a file. */
function parseDbUrl(raw: string | undefined): string {
  if (raw === undefined) return DEFAULT_DB_URL;
  if (!DB_URL.test(raw) || /^file:\/*$/.test(raw.split("?")[0]!)) {
    throw new ConfigError(
      `KMS_DB_URL must be a libSQL URL (file:./data/kms.db, :memory:, libsql://, http(s)://, ` +
        `ws(s)://), got "${redactUrl(raw)}"`,
    );
  }
  return raw;
}

/** A URL as it may be quoted in an error: without user info or query (they may hold a token). */
function redactUrl(url: string): string {
  return url.replace(/\/\/[^/@]*@/, "//…@").replace(/\?.*$/, "?…");
}

/** `KMS_ROOT_KEY_FILE`: a non-empty path. */
function parseRootKeyFile(raw: string | undefined): string {
  if (raw === undefined) return DEFAULT_ROOT_KEY_FILE;
  if (raw.trim() === "") {
    throw new ConfigError(
      "KMS_ROOT_KEY_FILE is empty: unset it (default ./data/root.key) or give the path of the root keyring file",
    );
  }
  return raw;
}

const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/**
 * Reads `KMS_*` variables.
 * @throws {ConfigError} for an invalid value, naming the variable, what is wrong and the fix.
 */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const port = parsePort(env.KMS_PORT);
  const region = env.KMS_REGION ?? "us-east-1";
  if (!isRegionName(region)) {
    throw new ConfigError(`KMS_REGION is not a region name (like us-east-1): "${region}"`);
  }
  const regions = parseRegions(env.KMS_REGIONS, region);
  const accountId = env.KMS_ACCOUNT_ID ?? "111122223333";
  if (!/^\d{12}$/.test(accountId)) {
    throw new ConfigError(
      `KMS_ACCOUNT_ID must be 12 digits (like 111122223333), got "${accountId}"`,
    );
  }
  const logLevel = env.KMS_LOG_LEVEL ?? "info";
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(
      `KMS_LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got "${logLevel}"`,
    );
  }
  const adminAccessKeyId = env.KMS_ADMIN_ACCESS_KEY_ID;
  const adminSecretAccessKey = env.KMS_ADMIN_SECRET_ACCESS_KEY;
  if ((adminAccessKeyId === undefined) !== (adminSecretAccessKey === undefined)) {
    throw new ConfigError(
      "KMS_ADMIN_ACCESS_KEY_ID and KMS_ADMIN_SECRET_ACCESS_KEY must be set together",
    );
  }
  return {
    host: parseHost(env.KMS_HOST),
    port,
    region,
    regions,
    accountId,
    dbUrl: parseDbUrl(env.KMS_DB_URL),
    dbAuthToken: env.KMS_DB_AUTH_TOKEN,
    rootKey: env.KMS_ROOT_KEY,
    rootKeyFile: parseRootKeyFile(env.KMS_ROOT_KEY_FILE),
    rootKeysPrevious: env.KMS_ROOT_KEYS_PREVIOUS === "" ? undefined : env.KMS_ROOT_KEYS_PREVIOUS,
    adminAccessKeyId,
    adminSecretAccessKey,
    logLevel: logLevel as Config["logLevel"],
    rsaPoolSizes: {
      RSA_2048: parsePoolSize(env, "RSA_2048"),
      RSA_3072: parsePoolSize(env, "RSA_3072"),
      RSA_4096: parsePoolSize(env, "RSA_4096"),
    },
    eccPoolSize: parseEccPoolSize(env),
    attestationRoots: env.KMS_ATTESTATION_ROOTS,
    principalsFile: env.KMS_PRINCIPALS_FILE === "" ? undefined : env.KMS_PRINCIPALS_FILE,
    seedFile: env.KMS_SEED_FILE === "" ? undefined : env.KMS_SEED_FILE,
    cryptoWorkers: parseCryptoWorkers(env),
    metrics: parseMetrics(env),
    accessLog: parseOnOff(env, "KMS_ACCESS_LOG"),
    dbWorker: parseOnOff(env, "KMS_DB_WORKER"),
    sharedWriter: parseOnOff(env, "KMS_SHARED_WRITER"),
    metricsToken: env.KMS_METRICS_TOKEN === "" ? undefined : env.KMS_METRICS_TOKEN,
    rotationCheckIntervalMs: parseRotationCheckInterval(env),
    storeTimeoutMs: parseMillis(env, "KMS_STORE_TIMEOUT_MS", 50, 600_000),
    shutdownTimeoutMs: parseMillis(env, "KMS_SHUTDOWN_TIMEOUT_MS", 100, 3_600_000),
    testClockOffsetFile: env.KMS_TEST_CLOCK_OFFSET_FILE === ""
      ? undefined
      : env.KMS_TEST_CLOCK_OFFSET_FILE,
    auditMode: parseAuditMode(env),
    auditRetention: parseRetention(env),
    auditExportDir: env.KMS_AUDIT_EXPORT_DIR === "" ? undefined : env.KMS_AUDIT_EXPORT_DIR,
    connectionLimits: parseConnectionLimits(env),
    quotas: parseQuotas(env),
    sm2AllRegions: parseSm2AllRegions(env),
  };
}

function isRegionName(value: string): boolean {
  return /^[a-z]{2}(-[a-z]+)+-\d+$/.test(value);
}

/** `KMS_REGIONS`: distinct region names, the default region first (added when missing). */
function parseRegions(value: string | undefined, defaultRegion: string): string[] {
  const regions = [defaultRegion];
  for (const name of (value ?? "").split(",").map((part) => part.trim())) {
    if (name === "") continue;
    if (!isRegionName(name)) {
      throw new ConfigError(
        `KMS_REGIONS: not a region name (like eu-west-1): "${name}"; list regions separated by commas`,
      );
    }
    if (!regions.includes(name)) regions.push(name);
  }
  return regions;
}
