/**
 * The administrator's access key on first start: taken from configuration
 * when given, created once (and reported to the caller, who prints it) when
 * the store holds no credential at all.
 *
 * @module
 */
import { accountRootArn } from "./identifiers.ts";
import type { Clock, CredentialStore } from "./ports.ts";
import { SecretBytes } from "./secret.ts";

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** A new access key id in AWS's form: `AKIA` + 16 base32 characters. */
export function newAccessKeyId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return "AKIA" + Array.from(bytes, (b) => BASE32[b % 32]).join("");
}

/** A new 40-character secret access key. */
export function newSecretAccessKey(): string {
  return crypto.getRandomValues(new Uint8Array(30)).toBase64();
}

/** What `ensureAdminCredential` did; `secretAccessKey` is set only when it created one. */
export interface AdminCredentialResult {
  accessKeyId: string;
  created: boolean;
  secretAccessKey?: SecretBytes;
}

/** Makes sure the admin credential exists for `accountId`; a configured one always wins over the stored one. */
export async function ensureAdminCredential(
  store: CredentialStore,
  clock: Clock,
  options: {
    accountId: string;
    accessKeyId?: string | undefined;
    secretAccessKey?: string | undefined;
  },
): Promise<AdminCredentialResult | null> {
  const principalArn = accountRootArn(options.accountId);
  if (options.accessKeyId !== undefined && options.secretAccessKey !== undefined) {
    await store.upsertCredential({
      accessKeyId: options.accessKeyId,
      secretAccessKey: new SecretBytes(new TextEncoder().encode(options.secretAccessKey)),
      accountId: options.accountId,
      principalArn,
      enabled: true,
      createdAt: clock.now(),
    });
    return { accessKeyId: options.accessKeyId, created: false };
  }
  if (await store.countCredentials() > 0) return null;
  const accessKeyId = newAccessKeyId();
  const secret = newSecretAccessKey();
  const secretAccessKey = new SecretBytes(new TextEncoder().encode(secret));
  await store.putCredential({
    accessKeyId,
    secretAccessKey,
    accountId: options.accountId,
    principalArn,
    enabled: true,
    createdAt: clock.now(),
  });
  return { accessKeyId, created: true, secretAccessKey };
}
