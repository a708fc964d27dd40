/**
 * Starts a real KMS on an ephemeral port for end-to-end tests and returns an
 * AWS SDK client pointed at it.
 *
 * @module
 */
import { listen } from "../../routes/listener.ts";
import { KMSClient } from "@aws-sdk/client-kms";
import { parseConfig } from "../../core/config.ts";
import type { Clock } from "../../core/ports.ts";
import { SecretBytes } from "../../core/secret.ts";
import { openService, type Service } from "../../main.ts";

/** The test admin credential. */
export const ADMIN = {
  accessKeyId: "AKIAADMINTEST0000001",
  secretAccessKey: "test-secret-access-key-0000000000000000",
};
/** The test account and region. */
export const ACCOUNT_ID = "111122223333";
export const REGION = "us-east-1";

/** A running test server. */
export interface TestServer {
  url: string;
  service: Service;
  client: KMSClient;
  /** A client with other credentials (and, given, another region of `KMS_REGIONS`). */
  clientFor(
    credentials: { accessKeyId: string; secretAccessKey: string },
    region?: string,
  ): KMSClient;
  close(): Promise<void>;
}

/** Options of `startServer`. */
export interface StartOptions {
  /** libSQL URL; default a fresh temp file. */
  dbUrl?: string;
  /** Base64 root key; default a fixed test key. */
  rootKey?: string;
  env?: Record<string, string>;
  /** Time source of key lifecycle (deletion dates); SigV4 always checks against the wall clock. */
  clock?: Clock;
}

const TEST_ROOT_KEY = new Uint8Array(32).fill(7).toBase64();

/** Starts the KMS on 127.0.0.1 with an ephemeral port. */
export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const dir = options.dbUrl === undefined
    ? await Deno.makeTempDir({ prefix: "kms-test-" })
    : undefined;
  const config = parseConfig({
    KMS_DB_URL: options.dbUrl ?? `file:${dir}/kms.db`,
    KMS_ROOT_KEY: options.rootKey ?? TEST_ROOT_KEY,
    KMS_ADMIN_ACCESS_KEY_ID: ADMIN.accessKeyId,
    KMS_ADMIN_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
    KMS_ACCOUNT_ID: ACCOUNT_ID,
    KMS_REGION: REGION,
    KMS_PORT: "0",
    // No background RSA generation unless a test asks for a pool: it would compete for the CPU.
    KMS_RSA_POOL_2048: "0",
    KMS_RSA_POOL_3072: "0",
    KMS_RSA_POOL_4096: "0",
    ...options.env,
  });
  const service = await openService(config, {
    log: () => {},
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const server = await listen(service.app.fetch, {
    hostname: "127.0.0.1",
    port: 0,
    log: () => {},
    ...config.connectionLimits,
  });
  const url = `http://127.0.0.1:${server.addr.port}`;
  const clients: KMSClient[] = [];
  const clientFor = (
    credentials: { accessKeyId: string; secretAccessKey: string },
    region = REGION,
  ) => {
    const client = new KMSClient({ endpoint: url, region, credentials, maxAttempts: 1 });
    clients.push(client);
    return client;
  };
  const client = clientFor(ADMIN);
  return {
    url,
    service,
    client,
    clientFor,
    async close() {
      for (const c of clients) c.destroy();
      await server.shutdown();
      await service.close();
      if (dir !== undefined) await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Runs `fn` against a fresh server and closes it afterwards. */
export async function withServer(
  fn: (server: TestServer) => Promise<void>,
  options?: StartOptions,
): Promise<void> {
  const server = await startServer(options);
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

/** The AWS exception name of a rejected SDK call (fails when the call succeeded). */
export async function errorName(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as { name: string }).name;
  }
  throw new Error("expected the call to fail");
}

/** A clock tests can move forward. */
export class ManualClock implements Clock {
  #now: number;
  constructor(start = Date.now()) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  advance(ms: number): void {
    this.#now += ms;
  }
}

/** Registers a second account's access key directly in the store and returns its credentials. */
export async function addAccountCredential(
  server: TestServer,
  accountId: string,
): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  const credentials = {
    accessKeyId: `AKIAOTHER${accountId.slice(0, 11)}`,
    secretAccessKey: `secret-of-${accountId}`,
  };
  await server.service.store.putCredential({
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: new SecretBytes(new TextEncoder().encode(credentials.secretAccessKey)),
    accountId,
    principalArn: `arn:aws:iam::${accountId}:root`,
    enabled: true,
    createdAt: Date.now(),
  });
  return credentials;
}

/** Environment for an external AWS client (CLI, boto3) using the test admin and nothing from the user's profile. */
export function awsClientEnv(): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: ADMIN.accessKeyId,
    AWS_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_PAGER: "",
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    AWS_EC2_METADATA_DISABLED: "true",
  };
}
