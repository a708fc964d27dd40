/**
 * Entry point for Deno Deploy (and any host without a writable disk or native addons): the same
 * service as main.ts on a remote libSQL database, reached through `@libsql/client/web`, with the
 * root key and the admin credential taken from environment secrets.
 *
 * - `KMS_DB_URL` must be remote (`libsql://`, `https://`, `wss://`...), with `KMS_DB_AUTH_TOKEN`
 *   when the server wants one; a `file:` or `:memory:` URL is refused.
 * - `KMS_ROOT_KEY` is required (no key file is read or created), as are
 *   `KMS_ADMIN_ACCESS_KEY_ID` and `KMS_ADMIN_SECRET_ACCESS_KEY` (so no generated secret is ever
 *   printed into the platform's logs).
 * - Defaults differ from main.ts where isolates differ from a long-running process:
 *   `KMS_CRYPTO_WORKERS=0` (no Web Workers) and `KMS_RSA_POOL_*=0` (RSA pairs generated on demand,
 *   no background CPU); set them to override.
 *
 * Background work (purging deleted keys, expiring imported material, automatic rotation, in every
 * served Region) is `openService`'s, as for main.ts (core/background.ts).
 *
 * On Deno Deploy (`DENO_DEPLOYMENT_ID` set) the platform chooses the address; elsewhere
 * `KMS_HOST`/`KMS_PORT` apply, so `deno task deploy:local` runs the same entry on a laptop.
 *
 * @module
 */
import { type Config, ConfigError, parseConfig } from "./core/config.ts";
import { jsonLog, openService, type Service } from "./main.ts";
import { databaseDriver } from "./storage/client.ts";

/** Settings Deno Deploy gets unless its environment says otherwise. */
export const DEPLOY_DEFAULTS: Readonly<Record<string, string>> = Object.freeze({
  KMS_CRYPTO_WORKERS: "0",
  KMS_RSA_POOL_2048: "0",
  KMS_RSA_POOL_3072: "0",
  KMS_RSA_POOL_4096: "0",
});

/**
 * The configuration of the Deploy entry: `parseConfig` over `DEPLOY_DEFAULTS`, plus the rules
 * above.
 * @throws {ConfigError} a local database URL, or a missing root key or admin credential.
 */
export function parseDeployConfig(env: Record<string, string | undefined>): Config {
  const given = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ""));
  const config = parseConfig({ ...DEPLOY_DEFAULTS, ...given });
  if (given.KMS_DB_URL === undefined || databaseDriver(config.dbUrl) !== "web") {
    throw new ConfigError(
      "KMS_DB_URL must name a remote libSQL database (libsql://, https://, wss://): " +
        "this entry has no disk to keep a database on",
    );
  }
  if (config.rootKey === undefined) {
    throw new ConfigError(
      "KMS_ROOT_KEY must be set (as an environment secret): this entry reads no root key file",
    );
  }
  if (config.adminAccessKeyId === undefined) {
    throw new ConfigError(
      "KMS_ADMIN_ACCESS_KEY_ID and KMS_ADMIN_SECRET_ACCESS_KEY must be set (as environment " +
        "secrets): this entry never generates and prints a credential",
    );
  }
  return config;
}

/**
 * Opens the service for `env` and serves it until the process ends; SIGINT/SIGTERM (where the
 * platform delivers them) flush the audit log and close the store first.
 */
export async function serveDeploy(env: Record<string, string | undefined>): Promise<Service> {
  const config = parseDeployConfig(env);
  const service = await openService(config);
  const log = jsonLog(config.logLevel);
  const onListen = ({ hostname, port }: Deno.NetAddr) =>
    log({
      level: "info",
      message: `KMS listening on http://${hostname}:${port}`,
      region: config.region,
    });
  const server = env.DENO_DEPLOYMENT_ID !== undefined
    ? Deno.serve({ onListen }, service.app.fetch)
    : Deno.serve({ hostname: config.host, port: config.port, onListen }, service.app.fetch);
  const stop = async () => {
    await server.shutdown();
    await service.close();
    Deno.exit(0);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(signal, stop);
    } catch {
      // A platform without signals ends the isolate itself.
    }
  }
  return service;
}

if (import.meta.main) {
  try {
    await serveDeploy(Deno.env.toObject());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`configuration error: ${error.message}`);
    Deno.exit(2);
  }
}
