/**
 * The operation catalogue: every operation of AWS's KMS API, with what the
 * rest of the code needs to know about it, in one typed table. The dispatch
 * table (routes/dispatch_table.ts), the key-state check (core/key_state.ts),
 * the cross-account rule (core/kms.ts), AWS's grant operations
 * (core/access/grants.ts) and the audit classification (core/audit/record.ts)
 * are all derived from it; none of them lists operations of its own.
 *
 * An operation is authorised as one or more IAM actions (`kms:<Action>`).
 * Every operation is its own action except ReEncrypt, which is two:
 * ReEncryptFrom on the source key and ReEncryptTo on the destination key.
 * Each action says whether it has a row in AWS's key-state table, whether
 * another account may call it on a key ("Cross-account use: Yes" in the API
 * reference) and whether a grant may allow it (AWS's GrantOperation).
 *
 * Entries are grouped by family (the files routes/<family>.ts and
 * core/operations/<family>.ts), in the order AWS added the grantable ones, so
 * that `GRANT_OPERATIONS` comes out in the order of AWS's GrantOperation enum.
 * core/catalogue_test.ts checks the table against AWS's model: every operation
 * of the model is here, answered or explicitly not (`answered: false`).
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_Operations.html
 * @module
 */

/** The group of operations that share a route module and a core/operations module. */
export type Family =
  | "crypto"
  | "asymmetric"
  | "grants"
  | "keys"
  | "dataKeyPairs"
  | "mac"
  | "keyAgreement"
  | "aliases"
  | "tags"
  | "keyPolicies"
  | "keyLastUsage"
  | "import"
  | "rotation"
  | "multiRegion"
  | "customKeyStores";

/**
 * How the audit log treats a successful call: a state change (CloudTrail's `readOnly: false`,
 * committed with the change), a use of its keys (what GetKeyLastUsage reports: AWS's
 * KeyLastUsageTrackingOperation), or any other read.
 */
export type AuditCategory = "stateChange" | "keyUsage" | "read";

/** The rules of one IAM action. */
export interface ActionFacts {
  /** Whether the action has a row in AWS's key-state table (core/key_state.ts). */
  readonly keyState: boolean;
  /** Whether another account may call it on a key (given by key ARN). */
  readonly crossAccount: boolean;
  /** Whether a grant may allow it (one of AWS's GrantOperation values). */
  readonly grantable: boolean;
}

/** What the code needs to know about one operation. */
export interface OperationFacts {
  readonly family: Family;
  readonly audit: AuditCategory;
  /** Whether the request has AWS's `DryRun` member. */
  readonly dryRun: boolean;
  /**
   * Whether AWS's model lists DependencyTimeoutException for it; when it does not, a store that
   * did not answer in time is reported as KMSInternalException (routes/dependency_timeout.ts).
   */
  readonly dependencyTimeout: boolean;
  /**
   * Whether this KMS answers it. The one it does not, CreateCustomKeyStore (a CloudHSM cluster or
   * an external key store proxy would have to be reached), answers UnknownOperationException and
   * is audited like the others.
   */
  readonly answered: boolean;
  /** The IAM action `kms:<Operation>`, or for ReEncrypt the actions it is made of, by name. */
  readonly iam: ActionFacts | Readonly<Record<string, ActionFacts>>;
  /**
   * Which of AWS's request quotas it counts against (core/quotas.ts): the cryptographic operations'
   * quota shared per key type, the GenerateDataKeyPair quota per key pair spec, or (absent) a
   * quota of its own.
   */
  readonly quota?: SharedQuota;
}

/** AWS's request quotas shared by several operations. */
export type SharedQuota = "cryptographic" | "dataKeyPair";

/** An action on a key that has no key-state row, is not cross-account and not grantable. */
const OWN_ACCOUNT = { keyState: false, crossAccount: false, grantable: false } as const;
/** Management of one's own key: checked against the key-state table. */
const MANAGE_KEY = { keyState: true, crossAccount: false, grantable: false } as const;
/** A use of a key that another account may make, and a grant may allow. */
const USE_KEY = { keyState: true, crossAccount: true, grantable: true } as const;
/** A read or change of a key that another account may make, but no grant allows. */
const SHARED_NOT_GRANTABLE = { keyState: true, crossAccount: true, grantable: false } as const;

const CHANGE = {
  audit: "stateChange",
  dryRun: false,
  dependencyTimeout: true,
  answered: true,
} as const;
const READ = { audit: "read", dryRun: false, dependencyTimeout: true, answered: true } as const;
const USAGE = { audit: "keyUsage", dryRun: true, dependencyTimeout: true, answered: true } as const;
/** Counts against the cryptographic operations' quota of its key's type. */
const CRYPTO_QUOTA = { quota: "cryptographic" } as const;
/** Custom key store operations: AWS's model lists no DependencyTimeoutException for them. */
const CUSTOM_KEY_STORE = { family: "customKeyStores", dependencyTimeout: false } as const;

/** The catalogue: operation name -> facts. */
export const CATALOGUE = {
  Decrypt: { ...CRYPTO_QUOTA, family: "crypto", ...USAGE, iam: USE_KEY },
  Encrypt: { ...CRYPTO_QUOTA, family: "crypto", ...USAGE, iam: USE_KEY },
  GenerateDataKey: { ...CRYPTO_QUOTA, family: "crypto", ...USAGE, iam: USE_KEY },
  GenerateDataKeyWithoutPlaintext: { ...CRYPTO_QUOTA, family: "crypto", ...USAGE, iam: USE_KEY },
  ReEncrypt: {
    ...CRYPTO_QUOTA,
    family: "crypto",
    ...USAGE,
    iam: { ReEncryptFrom: USE_KEY, ReEncryptTo: USE_KEY },
  },
  GenerateRandom: { ...CRYPTO_QUOTA, family: "crypto", ...READ, iam: OWN_ACCOUNT },

  Sign: { ...CRYPTO_QUOTA, family: "asymmetric", ...USAGE, iam: USE_KEY },
  Verify: { ...CRYPTO_QUOTA, family: "asymmetric", ...USAGE, iam: USE_KEY },
  GetPublicKey: { family: "asymmetric", ...READ, iam: USE_KEY },

  CreateGrant: { family: "grants", ...CHANGE, dryRun: true, iam: USE_KEY },
  ListGrants: { family: "grants", ...READ, iam: SHARED_NOT_GRANTABLE },
  ListRetirableGrants: { family: "grants", ...READ, iam: OWN_ACCOUNT },
  RetireGrant: { family: "grants", ...CHANGE, dryRun: true, iam: USE_KEY },
  RevokeGrant: { family: "grants", ...CHANGE, dryRun: true, iam: SHARED_NOT_GRANTABLE },

  CancelKeyDeletion: { family: "keys", ...CHANGE, iam: MANAGE_KEY },
  CreateKey: { family: "keys", ...CHANGE, iam: OWN_ACCOUNT },
  DescribeKey: { family: "keys", ...READ, iam: USE_KEY },
  DisableKey: { family: "keys", ...CHANGE, iam: MANAGE_KEY },
  EnableKey: { family: "keys", ...CHANGE, iam: MANAGE_KEY },
  ListKeys: { family: "keys", ...READ, iam: OWN_ACCOUNT },
  ScheduleKeyDeletion: { family: "keys", ...CHANGE, iam: MANAGE_KEY },
  UpdateKeyDescription: { family: "keys", ...CHANGE, iam: MANAGE_KEY },

  GenerateDataKeyPair: { family: "dataKeyPairs", ...USAGE, quota: "dataKeyPair", iam: USE_KEY },
  GenerateDataKeyPairWithoutPlaintext: {
    family: "dataKeyPairs",
    ...USAGE,
    quota: "dataKeyPair",
    iam: USE_KEY,
  },

  GenerateMac: { ...CRYPTO_QUOTA, family: "mac", ...USAGE, dependencyTimeout: false, iam: USE_KEY },
  VerifyMac: { ...CRYPTO_QUOTA, family: "mac", ...USAGE, dependencyTimeout: false, iam: USE_KEY },

  DeriveSharedSecret: { ...CRYPTO_QUOTA, family: "keyAgreement", ...USAGE, iam: USE_KEY },

  CreateAlias: { family: "aliases", ...CHANGE, iam: MANAGE_KEY },
  DeleteAlias: { family: "aliases", ...CHANGE, iam: MANAGE_KEY },
  ListAliases: { family: "aliases", ...READ, iam: MANAGE_KEY },
  UpdateAlias: { family: "aliases", ...CHANGE, iam: MANAGE_KEY },

  ListResourceTags: { family: "tags", ...READ, dependencyTimeout: false, iam: MANAGE_KEY },
  TagResource: { family: "tags", ...CHANGE, dependencyTimeout: false, iam: MANAGE_KEY },
  UntagResource: { family: "tags", ...CHANGE, dependencyTimeout: false, iam: MANAGE_KEY },

  GetKeyPolicy: { family: "keyPolicies", ...READ, iam: MANAGE_KEY },
  ListKeyPolicies: { family: "keyPolicies", ...READ, iam: MANAGE_KEY },
  PutKeyPolicy: { family: "keyPolicies", ...CHANGE, iam: MANAGE_KEY },

  GetKeyLastUsage: { family: "keyLastUsage", ...READ, iam: OWN_ACCOUNT },

  DeleteImportedKeyMaterial: { family: "import", ...CHANGE, iam: MANAGE_KEY },
  GetParametersForImport: { family: "import", ...READ, iam: MANAGE_KEY },
  ImportKeyMaterial: { family: "import", ...CHANGE, iam: MANAGE_KEY },

  DisableKeyRotation: { family: "rotation", ...CHANGE, iam: MANAGE_KEY },
  EnableKeyRotation: { family: "rotation", ...CHANGE, iam: MANAGE_KEY },
  GetKeyRotationStatus: { family: "rotation", ...READ, iam: SHARED_NOT_GRANTABLE },
  ListKeyRotations: { family: "rotation", ...READ, dependencyTimeout: false, iam: MANAGE_KEY },
  RotateKeyOnDemand: { family: "rotation", ...CHANGE, iam: MANAGE_KEY },

  ReplicateKey: { family: "multiRegion", ...CHANGE, dependencyTimeout: false, iam: MANAGE_KEY },
  UpdatePrimaryRegion: {
    family: "multiRegion",
    ...CHANGE,
    dependencyTimeout: false,
    iam: MANAGE_KEY,
  },

  ConnectCustomKeyStore: { ...CHANGE, ...CUSTOM_KEY_STORE, iam: OWN_ACCOUNT },
  CreateCustomKeyStore: { ...CHANGE, ...CUSTOM_KEY_STORE, answered: false, iam: OWN_ACCOUNT },
  DeleteCustomKeyStore: { ...CHANGE, ...CUSTOM_KEY_STORE, iam: OWN_ACCOUNT },
  DescribeCustomKeyStores: { ...READ, ...CUSTOM_KEY_STORE, iam: OWN_ACCOUNT },
  DisconnectCustomKeyStore: { ...CHANGE, ...CUSTOM_KEY_STORE, iam: OWN_ACCOUNT },
  UpdateCustomKeyStore: { ...CHANGE, ...CUSTOM_KEY_STORE, iam: OWN_ACCOUNT },
} as const satisfies Readonly<Record<string, OperationFacts>>;

/** Every operation of AWS's KMS API. */
export type OperationName = keyof typeof CATALOGUE;

/** The operations this KMS answers (the dispatch table's names). */
export type AnsweredOperationName = {
  [N in OperationName]: (typeof CATALOGUE)[N]["answered"] extends true ? N : never;
}[OperationName];

type IamOf<N extends OperationName> = (typeof CATALOGUE)[N]["iam"];

/** Every action with its facts, as a union of `{ name, facts }`. */
type ActionEntry = {
  [N in OperationName]: IamOf<N> extends ActionFacts ? { name: N; facts: IamOf<N> }
    : { [A in keyof IamOf<N> & string]: { name: A; facts: IamOf<N>[A] } }[keyof IamOf<N> & string];
}[OperationName];

/** The name of an IAM action: an operation's, or ReEncryptFrom / ReEncryptTo. */
export type ActionName = ActionEntry["name"];

/** An IAM action of KMS, as policies and AccessDeniedException name it. */
export type KmsAction = `kms:${ActionName}`;

/** Actions with a row in AWS's key-state table. */
export type KeyOperation = Extract<ActionEntry, { facts: { keyState: true } }>["name"];

/** AWS's GrantOperation: the actions a grant may allow. */
export type GrantOperation = Extract<ActionEntry, { facts: { grantable: true } }>["name"];

/** One action with the operation it belongs to. */
export interface CatalogueAction {
  readonly name: ActionName;
  readonly operation: OperationName;
  readonly facts: ActionFacts;
}

function isSingleAction(iam: OperationFacts["iam"]): iam is ActionFacts {
  return typeof (iam as Partial<ActionFacts>).keyState === "boolean";
}

/** Every operation name, in catalogue order. */
export const OPERATION_NAMES: readonly OperationName[] = Object.keys(CATALOGUE) as OperationName[];

/** Every action, in catalogue order. */
export const ACTIONS: readonly CatalogueAction[] = OPERATION_NAMES.flatMap((operation) => {
  const iam: OperationFacts["iam"] = CATALOGUE[operation].iam;
  if (isSingleAction(iam)) return [{ name: operation as ActionName, operation, facts: iam }];
  return Object.entries(iam).map(([name, facts]) => ({
    name: name as ActionName,
    operation,
    facts,
  }));
});

const ACTION_BY_NAME: ReadonlyMap<string, CatalogueAction> = new Map(
  ACTIONS.map((action) => [action.name, action]),
);

/** Whether `name` is an operation of AWS's KMS API (answered or not). */
export function isOperationName(name: string): name is OperationName {
  return Object.hasOwn(CATALOGUE, name);
}

/** The operations this KMS answers, in catalogue order. */
export const ANSWERED_OPERATIONS: readonly AnsweredOperationName[] = OPERATION_NAMES.filter((
  name,
): name is AnsweredOperationName => CATALOGUE[name].answered);

/** The operations whose audit category is `category`, in catalogue order. */
export function operationsInAuditCategory(category: AuditCategory): OperationName[] {
  return OPERATION_NAMES.filter((name) => CATALOGUE[name].audit === category);
}

/** The operations that count against the shared quota `quota`, in catalogue order. */
export function operationsSharingQuota(quota: SharedQuota): OperationName[] {
  return OPERATION_NAMES.filter((name) => (CATALOGUE[name] as OperationFacts).quota === quota);
}

/** The action `kms:<name>` names, or undefined for anything else. */
export function actionOf(action: string): CatalogueAction | undefined {
  return action.startsWith("kms:") ? ACTION_BY_NAME.get(action.slice("kms:".length)) : undefined;
}

/** The name of an action without its `kms:` prefix. */
export function actionName(action: KmsAction): ActionName {
  return action.slice("kms:".length) as ActionName;
}

/** AWS's GrantOperation values, in the enum's order. */
export const GRANT_OPERATIONS = ACTIONS.filter((a) => a.facts.grantable).map((a) =>
  a.name
) as readonly GrantOperation[] as readonly [GrantOperation, ...GrantOperation[]];

/** Actions with a row in the key-state table. */
export const KEY_STATE_OPERATIONS: readonly KeyOperation[] = ACTIONS.filter((a) => a.facts.keyState)
  .map((a) => a.name as KeyOperation);

/** Whether another account may call `action` on a key: the other actions are AccessDenied. */
export function allowsCrossAccount(action: KmsAction): boolean {
  return actionOf(action)?.facts.crossAccount === true;
}

/** Whether a grant may allow `action`. */
export function isGrantable(action: KmsAction): boolean {
  return actionOf(action)?.facts.grantable === true;
}

/** Whether `action` belongs to an operation that changes state. */
export function isStateChangingAction(action: KmsAction): boolean {
  const found = actionOf(action);
  return found !== undefined && CATALOGUE[found.operation].audit === "stateChange";
}
