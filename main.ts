/**
 * Entry point: configuration -> root key -> store -> migrations -> app -> listener
 * (routes/listener.ts).
 * `openService` is the same wiring without the listener, for tests and benchmarks.
 *
 * @module
 */
import { ensureAdminCredential } from "./core/bootstrap.ts";
import { startupBanner } from "./core/banner.ts";
import {
  type Config,
  ConfigError,
  DEFAULT_AUDIT_MODE,
  parseConfig,
  StartupError,
} from "./core/config.ts";
import { parsePolicy } from "./core/access/policy.ts";
import { AuthFailureAggregator } from "./core/audit/auth_failures.ts";
import { AuditBuffer } from "./core/audit/buffer.ts";
import { Coherence, IsolateChanges } from "./core/coherence.ts";
import { CredentialCache } from "./core/credentials.ts";
import { loadPrincipalsFile } from "./core/principals_file.ts";
import { loadSeedFile } from "./core/seed.ts";
import { closeCryptoWorkers, configureCryptoWorkers } from "./core/crypto/crypto_workers.ts";
import { RsaKeyPairPool } from "./core/crypto/rsa_pool.ts";
import { eccKeyPairPool, KeyPairPools } from "./core/crypto/key_pair_pool.ts";
import { Kms } from "./core/kms.ts";
import type { RotationScheduler } from "./core/rotation_scheduler.ts";
import { BackgroundWork } from "./core/background.ts";
import { keyLifecycle } from "./core/operations/lifecycle.ts";
import { publicKeyId, RegionalStore } from "./core/regional_store.ts";
import { Metrics } from "./core/metrics.ts";
import { RequestQuotas } from "./core/quotas.ts";
import { RecipientSealer } from "./core/recipient/recipient.ts";
import type { Clock } from "./core/ports.ts";
import type { ForeignChanges } from "./core/coherence.ts";
import { createApp, type LogSink } from "./routes/app.ts";
import { accessLogSink, jsonLog } from "./routes/access_log.ts";
import { type FetchHandler, listen } from "./routes/listener.ts";
import { isMemoryUrl, localFilePath, openDatabase } from "./storage/client.ts";
import { DEFAULT_SHUTDOWN_TIMEOUT_MS, shutDown } from "./core/shutdown.ts";
import { SqliteChangeCounter } from "./storage/change_counter.ts";
import { migrate } from "./storage/migrate.ts";
import { SqliteKeyStateCounter } from "./storage/metrics_store.ts";
import { checkRootKeyring, reloadRootKeyring } from "./storage/root_key_table.ts";
import { readKeyring } from "./storage/root_key_file.ts";
import type { RootKeyring } from "./storage/root_keyring.ts";
import { keyUsageLog, SqliteAuditStore } from "./storage/audit_store.ts";
import { AuditWorkerSink, retentionSettings } from "./storage/audit_writer.ts";
import { SqlitePrincipalStore } from "./storage/principal_store.ts";
import { SqliteStore } from "./storage/sqlite_store.ts";
import { openWriterFor } from "./storage/db_worker_client.ts";
import {
  checkConfiguredFiles,
  checkPortAvailable,
  databaseStartupError,
  prepareRootKeyAndDatabase,
  startupFailureLine,
} from "./startup.ts";
import {
  type IsolateRole,
  isolateShare,
  serveIsolates,
  type WorkerCount,
  workerCount,
} from "./isolates.ts";
import type { Client } from "@libsql/client";
import type { Hono } from "hono";

/** A wired KMS, not yet listening. */
export interface Service {
  app: Hono;
  /**
   * What the listener serves: `app.fetch`, after dropping the caches another isolate made stale
   * when this service is one of several (`KMS_WORKERS`).
   */
  fetch: FetchHandler;
  /** The KMS of the default region. */
  kms: Kms;
  /** The KMS of every served region (`KMS_REGIONS`), the default one included. */
  regions: ReadonlyMap<string, Kms>;
  store: SqliteStore;
  /** The pools of pre-generated RSA and ECC key pairs behind GenerateDataKeyPair. */
  keyPairPool: KeyPairPools;
  /** Set when this start created the admin credential: print it once. */
  createdAdmin: { accessKeyId: string; secretAccessKey: string } | undefined;
  /** The audit log; undefined when the service was opened with `audit: false`. */
  audit: AuditLog | undefined;
  /** Stops the RSA pool (wiping its keys) and the crypto workers, and closes the store. */
  close(): Promise<void>;
  /** Purging, imported material expiry and automatic rotation of every served region. */
  background: BackgroundWork;
  /** The automatic rotation schedulers, one per served region (core/rotation_scheduler.ts). */
  rotationSchedulers: readonly RotationScheduler[];
  /** Re-reads the root keyring (SIGHUP) and takes it if it serves the database; its key ids. */
  reloadRootKeys(): Promise<string[]>;
}

export { readAttestationRoots } from "./startup.ts";

/** A JSON-lines logger on stdout at or above `level` (routes/access_log.ts: lines batched). */
export { jsonLog } from "./routes/access_log.ts";

/**
 * Applies `KMS_PRINCIPALS_FILE`, when set, before the service answers anything.
 * @throws {ConfigError} an unreadable or invalid file.
 */
async function applyPrincipalsFile(
  path: string | undefined,
  deps: { principals: SqlitePrincipalStore; store: SqliteStore; clock: Clock },
): Promise<void> {
  if (path === undefined) return;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new ConfigError(
      `KMS_PRINCIPALS_FILE: cannot read ${path}: ${error instanceof Error ? error.message : error}`,
    );
  }
  await loadPrincipalsFile(text, {
    principals: deps.principals,
    credentials: deps.store,
    clock: deps.clock,
    validatePolicy: (document) => void parsePolicy(document, "identity"),
  });
}

/**
 * Applies `KMS_SEED_FILE` (keys, aliases, tags, policies, grants), when set, before the service
 * answers anything; after the principals file, so key policies may name its users and roles.
 * @throws {ConfigError} an unreadable or invalid file; nothing is written then.
 */
async function applySeedFile(
  config: Config,
  deps: { principals: SqlitePrincipalStore; store: SqliteStore; clock: Clock; log: LogSink },
): Promise<void> {
  const path = config.seedFile;
  if (path === undefined) return;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new ConfigError(
      `KMS_SEED_FILE: cannot read ${path}: ${error instanceof Error ? error.message : error}`,
    );
  }
  const summary = await loadSeedFile({ text, path }, {
    // Through the default region's view, so seeded `mrk-` keys are stored as multi-Region keys.
    store: new RegionalStore(deps.store, config.region),
    clock: deps.clock,
    region: config.region,
    accountId: config.accountId,
    principalExists: async (arn) => (await deps.principals.getPrincipal(arn)) !== null,
  });
  deps.log({
    level: "info",
    message: "seed file applied",
    path,
    keysCreated: summary.created.length,
    keysUpdated: summary.updated.length,
    keysUnchanged: summary.unchanged.length,
    aliases: summary.aliases,
    tags: summary.tags,
    grants: summary.grants,
  });
}

/** The audit log of a service: its buffer, the store it is read from, and how to close it. */
export interface AuditLog {
  buffer: AuditBuffer;
  store: SqliteAuditStore;
  /**
   * Writes every buffered record, then stops the writer; never rejects (records it could not
   * write after the buffer's `closeAttempts` are counted in an error log line).
   */
  close(): Promise<void>;
}

/**
 * Opens the audit log. Buffered records of a local file are committed by a worker thread (its own
 * connection), so their SQL and fsync never block requests; `:memory:` and remote databases are
 * written in-process through the store's write queue.
 */
async function openAuditLog(
  config: Config,
  db: Client,
  store: SqliteStore,
  log: LogSink,
  sharedWriter?: MessagePort,
): Promise<AuditLog> {
  const sink = localFilePath(config.dbUrl) !== null && !isMemoryUrl(config.dbUrl)
    ? new AuditWorkerSink(
      config.dbUrl,
      sharedWriter,
      undefined,
      retentionSettings(
        config,
        (error) => log({ level: "error", message: "audit retention failed", error }),
      ),
    )
    : undefined;
  await sink?.open();
  const buffer = new AuditBuffer(sink ?? store, {
    mode: config.auditMode ?? DEFAULT_AUDIT_MODE,
    onError: (error, waiting) =>
      log({
        level: "error",
        message: "audit write failed; retrying",
        waiting,
        error: String(error),
      }),
  });
  return {
    buffer,
    store: new SqliteAuditStore(db),
    async close() {
      // Shutdown goes on whatever happens: what could not be written is logged, not thrown.
      await buffer.close().catch((error) =>
        log({
          level: "error",
          message: "audit records not written at shutdown",
          unwritten: buffer.size,
          error: String(error),
        })
      );
      await sink?.close().catch(() => {});
    },
  };
}

/**
 * The clock of key lifecycle dates: the wall clock, or, when the test-only
 * `KMS_TEST_CLOCK_OFFSET_FILE` is set, the wall clock plus the milliseconds that
 * file holds (re-read at most every 20 ms), so tests can move the time of several
 * processes at once. SigV4 always checks against the wall clock.
 */
function lifecycleClock(config: Config): Clock {
  const path = config.testClockOffsetFile;
  if (path === undefined) return { now: () => Date.now() };
  let offset = 0;
  let readAt = Number.NEGATIVE_INFINITY;
  return {
    now() {
      const wall = Date.now();
      if (wall - readAt >= 20) {
        readAt = wall;
        try {
          const value = Number(Deno.readTextFileSync(path).trim());
          if (Number.isFinite(value)) offset = value;
        } catch {
          // no file yet: no offset
        }
      }
      return wall + offset;
    },
  };
}

/** What another isolate's commit makes stale: every cached record (material follows a look). */
const SIBLING_CHANGE: ForeignChanges = Object.freeze({ data: true, deletedKeys: [] });

/** An isolate's root keyring: the main thread created it if needed; an isolate only reads it. */
async function isolateKeyring(source: Parameters<typeof readKeyring>[0]): Promise<RootKeyring> {
  const keyring = await readKeyring(source);
  if (keyring === null) throw new StartupError("the root keyring disappeared after the start");
  return keyring;
}

/**
 * What a start writes once before serving: the principals and seed files, then the admin
 * credential (which it returns).
 */
async function prepareData(
  config: Config,
  deps: { principals: SqlitePrincipalStore; store: SqliteStore; clock: Clock; log: LogSink },
): Promise<Awaited<ReturnType<typeof ensureAdminCredential>>> {
  try {
    await applyPrincipalsFile(config.principalsFile, deps);
    await applySeedFile(config, deps);
  } catch (error) {
    deps.store.close();
    throw error;
  }
  return await ensureAdminCredential(deps.store, deps.clock, {
    accountId: config.accountId,
    accessKeyId: config.adminAccessKeyId,
    secretAccessKey: config.adminSecretAccessKey,
  });
}

/** The store of a service, checked against its root keyring, with what its start wrote. */
interface OpenedStore {
  db: Client;
  store: SqliteStore;
  changes: SqliteChangeCounter | undefined;
  siblings: IsolateChanges | undefined;
  trustedRoots: Awaited<ReturnType<typeof checkConfiguredFiles>>;
  principals: SqlitePrincipalStore;
  admin: Awaited<ReturnType<typeof ensureAdminCredential>> | undefined;
  keyringSource: Parameters<typeof readKeyring>[0];
  rootKey: RootKeyring;
}

/**
 * Start-up checks, root keyring, database, migrations, principals and seed files and the admin
 * credential; in an isolate (`role` set) only the keyring and the database: the main thread did
 * the rest before starting it (`prepareIsolates`).
 */
async function openStore(
  config: Config,
  role: IsolateRole | undefined,
  clock: Clock,
  log: LogSink,
): Promise<OpenedStore> {
  const keyringSource = {
    rootKey: config.rootKey,
    rootKeysPrevious: config.rootKeysPrevious,
    rootKeyFile: config.rootKeyFile,
  };
  // Start-up checks (startup.ts): everything is read and checked before anything is written.
  // An isolate re-reads only what it needs: the main thread checked, created and migrated.
  const trustedRoots = await checkConfiguredFiles(config);
  const rootKey = role === undefined
    ? (await prepareRootKeyAndDatabase(config, keyringSource)).keyring
    : await isolateKeyring(keyringSource);
  const db = await openDatabase(config.dbUrl, config.dbAuthToken).catch((error) => {
    throw databaseStartupError(error);
  });
  if (role === undefined) {
    await migrate(db).catch((error) => {
      db.close();
      throw databaseStartupError(error);
    });
  }
  // A local file's writes commit in a worker thread (storage/db_worker_client.ts), or in the
  // main thread's shared writer when several isolates serve (storage/shared_writer.ts).
  const writer = config.dbWorker === false ? undefined : await openWriterFor(
    config.dbUrl,
    (message, error) => log({ level: "warn", message, error: String(error) }),
    { port: role?.writer?.db, fallback: db },
  );
  // Several instances on one database: the change counter tells this process's writes from theirs.
  const changes = isMemoryUrl(config.dbUrl) ? undefined : new SqliteChangeCounter(db);
  // Several isolates of this process: each commit is told to the others at once (core/coherence.ts).
  const siblings = role && new IsolateChanges(role.changes);
  const store = new SqliteStore(db, rootKey, {
    observer: changes && siblings
      ? {
        statement: changes.statement,
        committed: (result) => {
          changes.committed(result);
          siblings.committed();
        },
      }
      : changes,
    timeoutMs: config.storeTimeoutMs,
    writer,
  });
  // Root keys (storage/root_key_table.ts): fail fast, naming key ids only, when one is missing.
  await checkRootKeyring(db, rootKey, clock.now()).catch((error) => {
    store.close();
    throw error;
  });
  if (!await store.rootKeyMatches()) {
    store.close();
    throw new StartupError(
      "The root key (KMS_ROOT_KEY / KMS_ROOT_KEY_FILE) is not the one this database was written " +
        "with: start with the root keyring this database was written under",
    );
  }
  const principals = new SqlitePrincipalStore(db);
  const admin = role === undefined
    ? await prepareData(config, { principals, store, clock, log })
    : undefined;
  return {
    db,
    store,
    changes,
    siblings,
    trustedRoots,
    principals,
    admin,
    keyringSource,
    rootKey,
  };
}

/**
 * What the main thread does once before starting `KMS_WORKERS` isolates: every start-up check,
 * the migrations, the principals and seed files and the admin credential; then it closes the
 * database. Resolves to the admin credential this start created, if it did.
 */
export async function prepareIsolates(config: Config): Promise<Service["createdAdmin"]> {
  const opened = await openStore(
    config,
    undefined,
    lifecycleClock(config),
    jsonLog(config.logLevel),
  );
  await opened.store.close();
  return createdAdminOf(opened.admin);
}

function createdAdminOf(
  admin: Awaited<ReturnType<typeof ensureAdminCredential>> | undefined,
): Service["createdAdmin"] {
  return admin?.created && admin.secretAccessKey
    ? {
      accessKeyId: admin.accessKeyId,
      secretAccessKey: new TextDecoder().decode(admin.secretAccessKey.expose()),
    }
    : undefined;
}

/** Opens store, root key and app for `config`. */
export async function openService(
  config: Config,
  options: {
    clock?: Clock;
    log?: LogSink;
    /** False: record no request at all (benchmarks measure the audit log's cost against this). */
    audit?: boolean;
    /**
     * Set when this service is one isolate of several (isolates.ts): the start-up checks,
     * migrations, principals and seed files and the admin credential were done by the main
     * thread; pools are shared out; background duties run only where `duties` says.
     */
    isolate?: IsolateRole;
  } = {},
): Promise<Service> {
  const clock = options.clock ?? lifecycleClock(config);
  const log = options.log ?? jsonLog(config.logLevel);
  const role = options.isolate;
  const { db, store, changes, siblings, trustedRoots, principals, admin, keyringSource, rootKey } =
    await openStore(config, role, clock, log);
  // N isolates share out the pre-generated pairs and the crypto threads (isolates.ts).
  const share = (n: number) => role === undefined ? n : isolateShare(n, role.count);
  const rsaPool = new RsaKeyPairPool({
    sizes: {
      RSA_2048: share(config.rsaPoolSizes.RSA_2048),
      RSA_3072: share(config.rsaPoolSizes.RSA_3072),
      RSA_4096: share(config.rsaPoolSizes.RSA_4096),
    },
  });
  const keyPairPool = new KeyPairPools(rsaPool, eccKeyPairPool(share(config.eccPoolSize)));
  const recipients = new RecipientSealer(trustedRoots, () => new Date(clock.now()));
  configureCryptoWorkers({
    size: share(config.cryptoWorkers),
    onError: (e) => log({ level: "error", message: e.message }),
  });
  const audit = options.audit === false
    ? undefined
    : await openAuditLog(config, db, store, log, role?.writer?.audit);
  // One Kms per served region, on the same store (KMS_REGIONS; the SigV4 scope picks one).
  const regions = new Map(config.regions.map((region) => [
    region,
    new Kms({
      keyLastUsage: audit === undefined ? undefined : keyUsageLog(audit.buffer, audit.store),
      store: new RegionalStore(store, region),
      clock,
      region,
      keyPairPool,
      recipients,
      principalExists: async (arn) => (await principals.getPrincipal(arn)) !== null,
      lifecycle: keyLifecycle,
      sm2AllRegions: config.sm2AllRegions,
    }),
  ]));
  const kms = regions.get(config.region)!;
  for (const regional of regions.values()) regional.connectRegions(regions);
  keyPairPool.start();
  const credentials = new CredentialCache(store, clock, {
    identities: principals,
    onPolicyError: (principalArn, error) =>
      log({
        level: "error",
        message: "stored identity policy unreadable",
        principalArn,
        error: String(error),
      }),
  });
  // Several instances on one database (core/coherence.ts): caches forget what the others changed.
  await changes?.start();
  const forget = (changed: ForeignChanges) => {
    // Deleted multi-Region keys are named by their regional storage ids: forget the key ids.
    const forgotten = changed.deletedKeys === "unknown"
      ? changed
      : { ...changed, deletedKeys: changed.deletedKeys.map(publicKeyId) };
    for (const regional of regions.values()) regional.forgetForeignChanges(forgotten);
    if (changed.data) credentials.forgetAll();
  };
  const coherence = changes && new Coherence({
    feed: changes,
    forget,
    onError: (error) =>
      log({ level: "error", message: "change counter unreadable", error: String(error) }),
  });
  coherence?.start();
  // Purging, imported material expiry and automatic rotation of every region (core/background.ts).
  const background = new BackgroundWork({
    regions: regions.values(),
    rotationIntervalMs: config.rotationCheckIntervalMs,
    audit: audit !== undefined,
    log: role === undefined ? log : (record) => log({ ...record, isolate: role.index }),
  });
  // Of several isolates, one runs the duties (isolates.ts); the others only serve.
  if (role === undefined || role.duties) background.start();
  if (role !== undefined) {
    log({ level: "info", message: "isolate started", isolate: role.index, duties: role.duties });
  }
  // Metrics (GET /metrics, KMS_METRICS): counters of this process, keys by state from the database.
  const metrics = config.metrics
    ? {
      metrics: new Metrics({ eventLoopLag: true }),
      keyStates: new SqliteKeyStateCounter(db),
      token: config.metricsToken,
    }
    : undefined;
  // Requests refused before authentication are audited in aggregate (bounded growth).
  const authFailures = audit === undefined ? undefined : new AuthFailureAggregator(audit.buffer);
  const readiness = { store, audit: audit?.buffer };
  const app = createApp({
    kms,
    regions,
    credentials,
    log,
    accessLog: accessLogSink(config, log),
    audit: audit?.buffer,
    authFailures,
    metrics,
    readiness,
    quotas: config.quotas && new RequestQuotas({ scale: config.quotas.scale }),
  });
  const createdAdmin = createdAdminOf(admin);
  const fetch: FetchHandler = siblings === undefined ? app.fetch : (request, env) => {
    if (siblings.takeForeign()) forget(SIBLING_CHANGE);
    return app.fetch(request, env);
  };
  const close = async () => {
    metrics?.metrics.close();
    await background.stop();
    await coherence?.stop();
    await keyPairPool.close();
    await closeCryptoWorkers();
    await authFailures?.close();
    await audit?.close();
    await store.close();
  };
  const reloadRootKeys = () => reloadRootKeyring(db, rootKey, keyringSource, clock.now());
  return {
    app,
    fetch,
    kms,
    regions,
    store,
    keyPairPool,
    audit,
    createdAdmin,
    close,
    reloadRootKeys,
    background,
    rotationSchedulers: background.rotationSchedulers,
  };
}

/**
 * Parses the configuration, checks the port and opens the service; a failure is printed as one
 * line on stderr (startup.ts) and ends the process with exit code 1, nothing written.
 */
async function start(config: Config): Promise<Service> {
  try {
    return await openService(config);
  } catch (error) {
    console.error(startupFailureLine(error));
    Deno.exit(1);
  }
}

/** The configuration and the number of isolates (`KMS_WORKERS`, isolates.ts); exits on an error. */
function configure(): { config: Config; workers: WorkerCount } {
  try {
    const env = Deno.env.toObject();
    const config = parseConfig(env);
    const workers = workerCount(env.KMS_WORKERS, config.dbUrl);
    checkPortAvailable(config.host, config.port);
    return { config, workers };
  } catch (error) {
    console.error(startupFailureLine(error));
    Deno.exit(1);
  }
}

async function main(): Promise<void> {
  const { config, workers } = configure();
  const log = jsonLog(config.logLevel);
  if (workers.note !== undefined) log({ level: "warn", message: workers.note });
  if (workers.count > 1) {
    // Several isolates on one port (isolates.ts); the checks and migrations run here, once.
    return await serveIsolates(config, workers.count, {
      prepare: async () => startupBanner(config, await prepareIsolates(config)),
      log,
    });
  }
  const service = await start(config);
  const banner = startupBanner(config, service.createdAdmin);
  if (banner.length > 0) console.log(banner.join("\n"));
  // routes/listener.ts: node:http with header, body and idle timeouts and a connection bound.
  const server = await listen(service.fetch, {
    hostname: config.host,
    port: config.port,
    log,
    ...config.connectionLimits,
  }).catch(async (error) => {
    // The port was free at the start-up check but taken since: one line, like every start-up error.
    console.error(startupFailureLine(error));
    await service.close().catch(() => {});
    Deno.exit(1);
  });
  log({
    level: "info",
    message: `KMS listening on http://${server.addr.hostname}:${server.addr.port}`,
    region: config.region,
    workers: 1,
    maxConnections: server.maxConnections,
  });
  // SIGTERM/SIGINT: drain, flush the audit log, close; exit by the deadline whatever happens
  // (core/shutdown.ts). A second signal exits at once.
  let stopping = false;
  const stop = async () => {
    if (stopping) Deno.exit(1);
    stopping = true;
    Deno.exit(
      await shutDown({
        drain: () => server.shutdown(),
        close: () => service.close(),
        unflushed: () => service.audit?.buffer.size ?? 0,
        log,
        timeoutMs: config.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS,
      }),
    );
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  // SIGHUP re-reads the root keyring file (README "Rotating the root key").
  if (Deno.build.os !== "windows") {
    Deno.addSignalListener("SIGHUP", () => {
      service.reloadRootKeys().then(
        (ids) => log({ level: "info", message: "root keyring reloaded", rootKeys: ids }),
        (error) =>
          log({ level: "error", message: "root keyring reload refused", error: String(error) }),
      );
    });
  }
}

if (import.meta.main) await main();
