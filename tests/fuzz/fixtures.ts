/**
 * The keys, aliases, grants and blobs the fuzzer's valid requests point at, so
 * that generated requests reach the operations' real work and not only their
 * validation: one key of each kind, aliases for them, a grant, real
 * ciphertexts, signatures, a MAC, public keys and import parameters.
 *
 * @module
 */
import { ACCOUNT_ID, REGION } from "../helpers/server.ts";
import { call } from "./send.ts";

/** A key the fuzzer keeps in a known state. */
export interface FixtureKey {
  name: string;
  keyId: string;
  arn: string;
  /** Whether the key should be Enabled (restored after the fuzzer disables or schedules it). */
  enabled: boolean;
}

/** Everything generated values may pick from, by AWS member name. */
export interface Fixtures {
  keys: FixtureKey[];
  aliases: { name: string; target: string }[];
  /** Interesting values per member name: valid ones and near-misses. */
  pools: Record<string, unknown[]>;
  /**
   * Per operation, requests known to fit the fixtures (the right key for the operation, a
   * matching algorithm, a real ciphertext or signature): generated requests are laid over them
   * so that valid cases reach the operation's real work.
   */
  templates: Record<string, Record<string, unknown>[]>;
}

/** The message the fixture signatures and MAC are over. */
const MESSAGE = new TextEncoder().encode("fuzz message").toBase64();
const CONTEXT = { purpose: "fuzz" };

const KEY_KINDS: { name: string; input: Record<string, unknown> }[] = [
  { name: "symmetric", input: {} },
  { name: "rsa-encrypt", input: { KeySpec: "RSA_2048", KeyUsage: "ENCRYPT_DECRYPT" } },
  { name: "rsa-sign", input: { KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY" } },
  { name: "ecc-sign", input: { KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" } },
  { name: "ecc-agree", input: { KeySpec: "ECC_NIST_P256", KeyUsage: "KEY_AGREEMENT" } },
  { name: "secp256k1", input: { KeySpec: "ECC_SECG_P256K1", KeyUsage: "SIGN_VERIFY" } },
  { name: "ed25519", input: { KeySpec: "ECC_NIST_EDWARDS25519", KeyUsage: "SIGN_VERIFY" } },
  { name: "ml-dsa", input: { KeySpec: "ML_DSA_44", KeyUsage: "SIGN_VERIFY" } },
  { name: "hmac", input: { KeySpec: "HMAC_256", KeyUsage: "GENERATE_VERIFY_MAC" } },
  { name: "sm2-sign", input: { KeySpec: "SM2", KeyUsage: "SIGN_VERIFY" } },
  { name: "sm2-encrypt", input: { KeySpec: "SM2", KeyUsage: "ENCRYPT_DECRYPT" } },
  { name: "external", input: { Origin: "EXTERNAL" } },
  { name: "multi-region", input: { MultiRegion: true } },
  { name: "disabled", input: {} },
  { name: "pending-deletion", input: {} },
];

async function createKey(url: string, kind: (typeof KEY_KINDS)[number]): Promise<FixtureKey> {
  const reply = await call(url, "CreateKey", { ...kind.input, Description: `fuzz ${kind.name}` });
  const meta = reply.KeyMetadata as { KeyId: string; Arn: string };
  const enabled = kind.name !== "disabled" && kind.name !== "pending-deletion" &&
    kind.name !== "external";
  return { name: kind.name, keyId: meta.KeyId, arn: meta.Arn, enabled };
}

function byName(keys: FixtureKey[], name: string): FixtureKey {
  const key = keys.find((k) => k.name === name);
  if (key === undefined) throw new Error(`no fixture key ${name}`);
  return key;
}

/** Creates the fixture keys and everything derived from them on the server at `url`. */
export async function createFixtures(url: string): Promise<Fixtures> {
  const keys: FixtureKey[] = [];
  for (const kind of KEY_KINDS) keys.push(await createKey(url, kind));
  const key = (name: string) => byName(keys, name);
  const aliases = keys.map((k) => ({ name: `alias/fuzz-${k.name}`, target: k.keyId }));
  for (const alias of aliases) {
    await call(url, "CreateAlias", { AliasName: alias.name, TargetKeyId: alias.target });
  }
  await call(url, "DisableKey", { KeyId: key("disabled").keyId });
  await call(url, "ScheduleKeyDeletion", {
    KeyId: key("pending-deletion").keyId,
    PendingWindowInDays: 30,
  });
  const ciphertexts = [
    (await call(url, "Encrypt", {
      KeyId: key("symmetric").keyId,
      Plaintext: MESSAGE,
      EncryptionContext: CONTEXT,
    })).CiphertextBlob,
    (await call(url, "Encrypt", {
      KeyId: key("rsa-encrypt").keyId,
      Plaintext: MESSAGE,
      EncryptionAlgorithm: "RSAES_OAEP_SHA_256",
    })).CiphertextBlob,
    (await call(url, "Encrypt", {
      KeyId: key("sm2-encrypt").keyId,
      Plaintext: MESSAGE,
      EncryptionAlgorithm: "SM2PKE",
    })).CiphertextBlob,
  ];
  const signing: [string, string][] = [
    ["rsa-sign", "RSASSA_PSS_SHA_256"],
    ["ecc-sign", "ECDSA_SHA_256"],
    ["secp256k1", "ECDSA_SHA_256"],
    ["ed25519", "ED25519_SHA_512"],
    ["ml-dsa", "ML_DSA_SHAKE_256"],
    ["sm2-sign", "SM2DSA"],
  ];
  const signatures: unknown[] = [];
  for (const [name, algorithm] of signing) {
    signatures.push(
      (await call(url, "Sign", {
        KeyId: key(name).keyId,
        Message: MESSAGE,
        SigningAlgorithm: algorithm,
      })).Signature,
    );
  }
  const mac = (await call(url, "GenerateMac", {
    KeyId: key("hmac").keyId,
    Message: MESSAGE,
    MacAlgorithm: "HMAC_SHA_256",
  })).Mac;
  const agreementPublicKey = (await call(url, "GetPublicKey", { KeyId: key("ecc-agree").keyId }))
    .PublicKey;
  const signingPublicKey = (await call(url, "GetPublicKey", { KeyId: key("ecc-sign").keyId }))
    .PublicKey;
  const grant = await call(url, "CreateGrant", {
    KeyId: key("symmetric").keyId,
    GranteePrincipal: `arn:aws:iam::${ACCOUNT_ID}:root`,
    Operations: ["Encrypt", "Decrypt", "RetireGrant"],
  });
  // Grants that valid RetireGrant and RevokeGrant requests use up, a few at a time.
  const consumable: { id: unknown; token: unknown }[] = [];
  for (let i = 0; i < 12; i++) {
    const g = await call(url, "CreateGrant", {
      KeyId: key("symmetric").keyId,
      GranteePrincipal: `arn:aws:iam::${ACCOUNT_ID}:root`,
      RetiringPrincipal: `arn:aws:iam::${ACCOUNT_ID}:root`,
      Operations: ["Decrypt"],
    });
    consumable.push({ id: g.GrantId, token: g.GrantToken });
  }
  const importing = await call(url, "GetParametersForImport", {
    KeyId: key("external").keyId,
    WrappingAlgorithm: "RSAES_OAEP_SHA_256",
    WrappingKeySpec: "RSA_2048",
  });
  const encryptedKeyMaterial = await wrapForImport(importing.PublicKey as string);
  const pools = poolsFor(keys, aliases, {
    ciphertexts,
    signatures,
    mac,
    publicKeys: [agreementPublicKey, signingPublicKey, importing.PublicKey],
    grantId: grant.GrantId,
    grantToken: grant.GrantToken,
    importToken: importing.ImportToken,
    encryptedKeyMaterial,
  });
  const templates = templatesFor(key, {
    ciphertexts,
    signatures: signing.map(([name, algorithm], i) => ({
      name,
      algorithm,
      signature: signatures[i],
    })),
    mac,
    agreementPublicKey,
    consumable,
    importToken: importing.ImportToken,
    encryptedKeyMaterial,
  });
  return { keys, aliases, pools, templates };
}

interface TemplateInputs {
  ciphertexts: unknown[];
  signatures: { name: string; algorithm: string; signature: unknown }[];
  mac: unknown;
  agreementPublicKey: unknown;
  consumable: { id: unknown; token: unknown }[];
  importToken: unknown;
  encryptedKeyMaterial: string;
}

/** Requests each operation accepts with the fixtures as they were created. */
function templatesFor(
  key: (name: string) => FixtureKey,
  t: TemplateInputs,
): Record<string, Record<string, unknown>[]> {
  const sym = key("symmetric").keyId;
  const hmac = key("hmac").keyId;
  const external = key("external").keyId;
  const multiRegion = key("multi-region").keyId;
  const principal = `arn:aws:iam::${ACCOUNT_ID}:root`;
  const [symCiphertext, rsaCiphertext, sm2Ciphertext] = t.ciphertexts;
  const keyOnly = (...names: string[]) => names.map((n) => ({ KeyId: key(n).keyId }));
  const dataKeys = [{ KeyId: sym, KeySpec: "AES_256" }, { KeyId: sym, NumberOfBytes: 64 }];
  const dataKeyPairs = ["ECC_NIST_P256", "ECC_NIST_EDWARDS25519", "SM2"].map((spec) => ({
    KeyId: sym,
    KeyPairSpec: spec,
  }));
  return {
    Encrypt: [
      { KeyId: sym, Plaintext: MESSAGE, EncryptionContext: CONTEXT },
      {
        KeyId: key("rsa-encrypt").keyId,
        Plaintext: MESSAGE,
        EncryptionAlgorithm: "RSAES_OAEP_SHA_1",
      },
      { KeyId: key("sm2-encrypt").keyId, Plaintext: MESSAGE, EncryptionAlgorithm: "SM2PKE" },
    ],
    Decrypt: [
      { CiphertextBlob: symCiphertext, EncryptionContext: CONTEXT },
      {
        CiphertextBlob: rsaCiphertext,
        KeyId: key("rsa-encrypt").keyId,
        EncryptionAlgorithm: "RSAES_OAEP_SHA_256",
      },
      {
        CiphertextBlob: sm2Ciphertext,
        KeyId: key("sm2-encrypt").keyId,
        EncryptionAlgorithm: "SM2PKE",
      },
    ],
    ReEncrypt: [
      { CiphertextBlob: symCiphertext, SourceEncryptionContext: CONTEXT, DestinationKeyId: sym },
      {
        CiphertextBlob: rsaCiphertext,
        SourceKeyId: key("rsa-encrypt").keyId,
        SourceEncryptionAlgorithm: "RSAES_OAEP_SHA_256",
        DestinationKeyId: multiRegion,
      },
    ],
    GenerateDataKey: dataKeys,
    GenerateDataKeyWithoutPlaintext: dataKeys,
    GenerateDataKeyPair: dataKeyPairs,
    GenerateDataKeyPairWithoutPlaintext: dataKeyPairs,
    GenerateRandom: [{ NumberOfBytes: 32 }],
    Sign: t.signatures.map((s) => ({
      KeyId: key(s.name).keyId,
      Message: MESSAGE,
      SigningAlgorithm: s.algorithm,
    })),
    Verify: t.signatures.map((s) => ({
      KeyId: key(s.name).keyId,
      Message: MESSAGE,
      SigningAlgorithm: s.algorithm,
      Signature: s.signature,
    })),
    GetPublicKey: keyOnly("rsa-sign", "ecc-agree", "sm2-encrypt", "ml-dsa"),
    GenerateMac: [{ KeyId: hmac, Message: MESSAGE, MacAlgorithm: "HMAC_SHA_256" }],
    VerifyMac: [{ KeyId: hmac, Message: MESSAGE, MacAlgorithm: "HMAC_SHA_256", Mac: t.mac }],
    DeriveSharedSecret: [{
      KeyId: key("ecc-agree").keyId,
      KeyAgreementAlgorithm: "ECDH",
      PublicKey: t.agreementPublicKey,
    }],
    GetParametersForImport: [{
      KeyId: external,
      WrappingAlgorithm: "RSAES_OAEP_SHA_256",
      WrappingKeySpec: "RSA_2048",
    }],
    ImportKeyMaterial: [{
      KeyId: external,
      ImportToken: t.importToken,
      EncryptedKeyMaterial: t.encryptedKeyMaterial,
      ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE",
    }],
    ReplicateKey: [{ KeyId: multiRegion, ReplicaRegion: "eu-west-1" }],
    UpdatePrimaryRegion: [{ KeyId: multiRegion, PrimaryRegion: "eu-west-1" }],
    DeleteImportedKeyMaterial: keyOnly("external"),
    DisableKeyRotation: keyOnly("symmetric"),
    CreateAlias: [{ AliasName: "alias/fuzz-new", TargetKeyId: sym }],
    CreateGrant: [{ KeyId: sym, GranteePrincipal: principal, Operations: ["Encrypt", "Decrypt"] }],
    ListGrants: [{ KeyId: sym }],
    ListRetirableGrants: [{ RetiringPrincipal: principal }],
    RetireGrant: [
      ...t.consumable.slice(0, 6).map((g) => ({ KeyId: sym, GrantId: g.id })),
      ...t.consumable.slice(6, 9).map((g) => ({ GrantToken: g.token })),
    ],
    RevokeGrant: t.consumable.slice(9).map((g) => ({ KeyId: sym, GrantId: g.id })),
    CreateKey: [
      {},
      { KeySpec: "ECC_NIST_P384", KeyUsage: "SIGN_VERIFY" },
      { KeySpec: "HMAC_512", KeyUsage: "GENERATE_VERIFY_MAC" },
    ],
    UpdateAlias: [{ AliasName: "alias/fuzz-symmetric", TargetKeyId: sym }],
    EnableKeyRotation: [{ KeyId: sym, RotationPeriodInDays: 90 }],
    RotateKeyOnDemand: keyOnly("symmetric", "hmac"),
    ListKeyRotations: keyOnly("symmetric"),
    TagResource: [{ KeyId: sym, Tags: [{ TagKey: "fuzz", TagValue: "yes" }] }],
    UntagResource: [{ KeyId: sym, TagKeys: ["fuzz"] }],
    ScheduleKeyDeletion: [{ KeyId: sym, PendingWindowInDays: 7 }],
    CancelKeyDeletion: keyOnly("symmetric", "pending-deletion"),
  };
}

/** 32 random bytes wrapped with RSAES_OAEP_SHA_256 under the import public key (base64 DER). */
async function wrapForImport(publicKey: string): Promise<string> {
  const wrapping = await crypto.subtle.importKey(
    "spki",
    Uint8Array.fromBase64(publicKey),
    { name: "RSA-OAEP", hash: "SHA-256" },
    false,
    ["encrypt"],
  );
  const material = crypto.getRandomValues(new Uint8Array(32));
  return new Uint8Array(await crypto.subtle.encrypt({ name: "RSA-OAEP" }, wrapping, material))
    .toBase64();
}

interface Derived {
  ciphertexts: unknown[];
  signatures: unknown[];
  mac: unknown;
  publicKeys: unknown[];
  grantId: unknown;
  grantToken: unknown;
  importToken: unknown;
  encryptedKeyMaterial: string;
}

const FAST_KEY_SPECS = [
  "SYMMETRIC_DEFAULT",
  "ECC_NIST_P256",
  "ECC_NIST_P384",
  "ECC_NIST_P521",
  "ECC_SECG_P256K1",
  "ECC_NIST_EDWARDS25519",
  "HMAC_224",
  "HMAC_256",
  "HMAC_384",
  "HMAC_512",
  "SM2",
  "ML_DSA_44",
  "ML_DSA_65",
  "ML_DSA_87",
];

const UNKNOWN_KEY = "00000000-1111-4222-8333-444455556666";

function poolsFor(
  keys: FixtureKey[],
  aliases: { name: string }[],
  derived: Derived,
): Record<string, unknown[]> {
  const sym = byName(keys, "symmetric");
  const keyIds = [
    ...keys.flatMap((k) => [k.keyId, k.arn]),
    ...aliases.flatMap((a) => [a.name, `arn:aws:kms:${REGION}:${ACCOUNT_ID}:${a.name}`]),
    // Near misses: unknown ids, other partitions, accounts and regions, malformed ARNs.
    UNKNOWN_KEY,
    `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/${UNKNOWN_KEY}`,
    sym.arn.replace("arn:aws:", "arn:aws-cn:"),
    sym.arn.replace(ACCOUNT_ID, "444455556666"),
    sym.arn.replace(REGION, "eu-west-1"),
    sym.arn.replace(":key/", ":alias/"),
    `key/${sym.keyId}`,
    sym.keyId.toUpperCase(),
    ` ${sym.keyId}`,
    "alias/aws/ebs",
    "alias/missing",
    "alias/",
    "arn:aws:kms:::",
    "mrk-00000000000000000000000000000000",
  ];
  const message = MESSAGE;
  return {
    KeyId: keyIds,
    TargetKeyId: keyIds,
    DestinationKeyId: keyIds,
    CiphertextBlob: derived.ciphertexts,
    SourceCiphertext: derived.ciphertexts,
    Signature: derived.signatures,
    Mac: [derived.mac],
    Message: [message],
    Plaintext: [message],
    PublicKey: derived.publicKeys,
    EncryptionContext: [CONTEXT],
    SourceEncryptionContext: [CONTEXT],
    DestinationEncryptionContext: [CONTEXT],
    GrantTokens: [[derived.grantToken]],
    GrantToken: [derived.grantToken],
    GrantId: [derived.grantId],
    ImportToken: [derived.importToken],
    EncryptedKeyMaterial: [derived.encryptedKeyMaterial],
    AliasName: [...aliases.map((a) => a.name), "alias/aws/s3", "alias/fuzz-new"],
    GranteePrincipal: [`arn:aws:iam::${ACCOUNT_ID}:root`, `arn:aws:iam::${ACCOUNT_ID}:role/R`],
    RetiringPrincipal: [`arn:aws:iam::${ACCOUNT_ID}:root`],
    ReplicaRegion: ["eu-west-1", REGION, "ap-southeast-2"],
    PrimaryRegion: ["eu-west-1", REGION],
    Policy: [defaultPolicy()],
    PolicyName: ["default"],
    // RSA key generation takes 0.1-3 s a key on a busy machine: valid requests mostly ask for
    // other specs (the model's generator still picks RSA one time in five), to bound CI time.
    "CreateKey.KeySpec": FAST_KEY_SPECS,
    "CreateKey.CustomerMasterKeySpec": FAST_KEY_SPECS,
    "GenerateDataKeyPair.KeyPairSpec": FAST_KEY_SPECS.filter((s) => s.startsWith("ECC")),
    "GenerateDataKeyPairWithoutPlaintext.KeyPairSpec": FAST_KEY_SPECS.filter((s) =>
      s.startsWith("ECC")
    ),
    "GetParametersForImport.WrappingKeySpec": ["RSA_2048", "SM2"],
    DryRun: [false],
  };
}

function defaultPolicy(): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{
      Sid: "Enable IAM User Permissions",
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` },
      Action: "kms:*",
      Resource: "*",
    }],
  });
}

/**
 * Puts the fixture keys and aliases back in their intended states: the fuzzer's
 * valid requests disable keys, schedule their deletion and move or delete aliases.
 */
export async function restoreFixtures(url: string, fixtures: Fixtures): Promise<void> {
  for (const key of fixtures.keys.filter((k) => k.enabled)) {
    await call(url, "CancelKeyDeletion", { KeyId: key.keyId }).catch(() => {});
    await call(url, "EnableKey", { KeyId: key.keyId }).catch(() => {});
  }
  for (const alias of fixtures.aliases) {
    await call(url, "UpdateAlias", { AliasName: alias.name, TargetKeyId: alias.target })
      .catch(() => call(url, "CreateAlias", { AliasName: alias.name, TargetKeyId: alias.target }))
      .catch(() => {});
  }
}
