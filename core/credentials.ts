/**
 * Access keys as the authentication layer sees them: looked up from the
 * store with their principal's state and identity policies (compiled), and
 * kept in memory for at most `ttlMs`, so a disabled key or principal, or a
 * changed identity policy, takes effect within that bound even when another
 * process made the change.
 *
 * @module
 */
import { compilePolicyDocument, type PolicyDocument } from "./access/access_control.ts";
import { accountRootArn } from "./identifiers.ts";
import { LruMap } from "./lru.ts";
import type { Clock, CredentialStore } from "./ports.ts";
import type { Credential } from "./types.ts";

/** A principal's state and identity policy documents, as stored. */
export interface PrincipalIdentity {
  enabled: boolean;
  policies: readonly { name: string; document: string }[];
}

/** Where principals' identities come from; null for a principal that does not exist. */
export interface IdentitySource {
  identityOf(principalArn: string): Promise<PrincipalIdentity | null>;
}

/** A credential with its principal's compiled identity policies. */
export interface AuthenticatedCredential extends Credential {
  identityPolicies: readonly PolicyDocument[];
}

const DENY_ALL = compilePolicyDocument(
  '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}',
  "identity",
);

interface Entry {
  credential: AuthenticatedCredential | null;
  expires: number;
}

/** Bounded, time-limited cache of credentials (including "no such key" answers). */
export class CredentialCache {
  readonly #store: CredentialStore;
  readonly #identities: IdentitySource | undefined;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #onPolicyError: (principalArn: string, error: unknown) => void;
  readonly #entries = new LruMap<string, Entry>(4096);
  readonly #loading = new Map<string, Promise<AuthenticatedCredential | null>>();
  /** Bumped by every `forget`: loads begun before it are not cached. */
  #generation = 0;

  constructor(
    store: CredentialStore,
    clock: Clock,
    options: {
      ttlMs?: number;
      identities?: IdentitySource;
      onPolicyError?: (principalArn: string, error: unknown) => void;
    } = {},
  ) {
    this.#store = store;
    this.#clock = clock;
    this.#ttlMs = options.ttlMs ?? 1000;
    this.#identities = options.identities;
    this.#onPolicyError = options.onPolicyError ?? (() => {});
  }

  /** The credential of `accessKeyId` with its identity policies, or null when unknown. */
  get(accessKeyId: string): Promise<AuthenticatedCredential | null> {
    const now = this.#clock.now();
    const entry = this.#entries.get(accessKeyId);
    if (entry !== undefined && entry.expires > now) return Promise.resolve(entry.credential);
    // One load per key at a time: the requests that find the entry expired together share it.
    const loading = this.#loading.get(accessKeyId);
    if (loading !== undefined) return loading;
    const generation = this.#generation;
    const load = this.#load(accessKeyId).then((credential) => {
      // A load that began before a `forget` does not bring back what was forgotten.
      if (generation === this.#generation) {
        this.#entries.set(accessKeyId, { credential, expires: now + this.#ttlMs });
      }
      return credential;
    }).finally(() => {
      if (this.#loading.get(accessKeyId) === load) this.#loading.delete(accessKeyId);
    });
    this.#loading.set(accessKeyId, load);
    return load;
  }

  /** Forgets a credential after this process changed it. */
  forget(accessKeyId: string): void {
    this.#generation++;
    this.#entries.delete(accessKeyId);
    this.#loading.delete(accessKeyId);
  }

  /** Forgets every credential (another instance changed credentials, principals or policies). */
  forgetAll(): void {
    this.#generation++;
    this.#entries.clear();
    this.#loading.clear();
  }

  async #load(accessKeyId: string): Promise<AuthenticatedCredential | null> {
    const credential = await this.#store.getCredential(accessKeyId);
    if (credential === null) return null;
    if (
      credential.principalArn === accountRootArn(credential.accountId) ||
      this.#identities === undefined
    ) {
      return { ...credential, identityPolicies: [] };
    }
    const identity = await this.#identities.identityOf(credential.principalArn);
    if (identity === null) return { ...credential, enabled: false, identityPolicies: [] };
    return {
      ...credential,
      enabled: credential.enabled && identity.enabled,
      identityPolicies: this.#compile(credential.principalArn, identity.policies),
    };
  }

  #compile(
    principalArn: string,
    policies: PrincipalIdentity["policies"],
  ): PolicyDocument[] {
    const compiled: PolicyDocument[] = [];
    for (const policy of policies) {
      try {
        compiled.push(compilePolicyDocument(policy.document, "identity"));
      } catch (error) {
        // A stored policy that no longer parses fails closed: it could have held a Deny.
        this.#onPolicyError(principalArn, error);
        return [DENY_ALL];
      }
    }
    return compiled;
  }
}
