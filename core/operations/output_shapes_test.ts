/**
 * Every "when is this member present" statement in AWS's model, checked through the real
 * operations in process (tests/helpers/in_process.ts).
 *
 * The statements are read from the documentation of each output shape's members in
 * `kms.smithy.json` (../shared/reference/, tests/helpers/aws_model.ts): sentences saying a member
 * is "omitted", "included ... only when", "present only", "appears ... only when", "null or
 * empty", "does not appear". Each statement is matched to one check below by its wording; a
 * statement no check recognises fails the coverage test, so a new statement in a newer model is
 * noticed rather than skipped. Ignored where the reference model is absent.
 *
 * @module
 */
import assert from "node:assert/strict";
import { TestAttestationPki } from "../../tests/helpers/attestation.ts";
import { readSmithyModel } from "../../tests/helpers/aws_model.ts";
import { newEnclave } from "../../tests/helpers/enclave.ts";
import {
  type InProcessKms,
  type Result,
  withInProcessKms,
} from "../../tests/helpers/in_process.ts";
import { ManualClock } from "../../tests/helpers/server.ts";

/** One statement of the model about when an output member is present. */
interface Statement {
  operation: string;
  member: string;
  text: string;
}

const PRESENCE =
  /omitted|included in the response only|present only|appears in the response only|null or empty|does not\s+appear|element is empty/i;

function plainText(documentation: string): string {
  return documentation.replace(/<[^>]+>/g, "").replace(/\s+/g, " ").trim();
}

/** The presence statements of every `…Response` shape, one per sentence. */
function presenceStatements(model: Record<string, unknown>): Statement[] {
  const shapes = model.shapes as Record<string, { members?: Record<string, unknown> }>;
  const found: Statement[] = [];
  for (const [id, shape] of Object.entries(shapes)) {
    const name = id.split("#")[1] ?? "";
    if (!name.endsWith("Response")) continue;
    for (const [member, definition] of Object.entries(shape.members ?? {})) {
      const traits = (definition as { traits?: Record<string, unknown> }).traits ?? {};
      const documentation = traits["smithy.api#documentation"];
      if (typeof documentation !== "string") continue;
      for (const sentence of plainText(documentation).split(/(?<=\.)\s+/)) {
        if (PRESENCE.test(sentence)) {
          found.push({ operation: name.slice(0, -"Response".length), member, text: sentence });
        }
      }
    }
  }
  return found;
}

function isAbsent(value: unknown): boolean {
  return value === undefined || value === null ||
    (value instanceof Uint8Array && value.length === 0);
}

/** The calls a check compares, made once per test KMS. */
interface Fixtures {
  kms: InProcessKms;
  /** A Recipient with a valid attestation document of a test enclave. */
  recipient: Record<string, unknown>;
  symmetricKey: string;
  rsaEncryptKey: string;
  rsaCiphertext: string;
  eccAgreementKey: string;
  peerPublicKey: string;
}

/** The request of `operation` that has a Recipient variant, without the Recipient. */
function recipientRequest(
  f: Fixtures,
  operation: string,
  ciphertext: string,
): Record<string, unknown> {
  switch (operation) {
    case "Decrypt":
      return { CiphertextBlob: ciphertext };
    case "GenerateDataKey":
      return { KeyId: f.symmetricKey, KeySpec: "AES_256" };
    case "GenerateDataKeyPair":
      return { KeyId: f.symmetricKey, KeyPairSpec: "ECC_NIST_P256" };
    case "GenerateRandom":
      return { NumberOfBytes: 32 };
    case "DeriveSharedSecret":
      return {
        KeyId: f.eccAgreementKey,
        KeyAgreementAlgorithm: "ECDH",
        PublicKey: f.peerPublicKey,
      };
    default:
      throw new Error(`no Recipient request for ${operation}`);
  }
}

/** `operation` called without and with Recipient. */
async function withAndWithoutRecipient(
  f: Fixtures,
  operation: string,
): Promise<{ without: Result; with: Result }> {
  const ciphertext = (await f.kms.call("Encrypt", { KeyId: f.symmetricKey, Plaintext: "AQID" }))
    .CiphertextBlob.toBase64();
  const request = recipientRequest(f, operation, ciphertext);
  return {
    without: await f.kms.call(operation, request),
    with: await f.kms.call(operation, { ...request, Recipient: f.recipient }),
  };
}

/** A check of one kind of statement; `rule` matches the statement's wording. */
interface Check {
  rule: RegExp;
  check(f: Fixtures, s: Statement): Promise<void>;
}

const CHECKS: Check[] = [
  {
    // "This field is included in the response only when the Recipient parameter in the request
    // includes a valid attestation document ..."
    rule: /included in the response only when the Recipient parameter/,
    async check(f, s) {
      const r = await withAndWithoutRecipient(f, s.operation);
      assert.ok(isAbsent(r.without[s.member]), `${s.member} without Recipient`);
      assert.ok(!isAbsent(r.with[s.member]), `${s.member} with Recipient`);
    },
  },
  {
    // "If the response includes the CiphertextForRecipient field, the Plaintext field is null or
    // empty."
    rule:
      /If the response includes the CiphertextForRecipient field, the (\w+) field is null or empty/,
    async check(f, s) {
      const r = await withAndWithoutRecipient(f, s.operation);
      assert.ok(!isAbsent(r.without[s.member]), `${s.member} without Recipient`);
      assert.ok(!isAbsent(r.with.CiphertextForRecipient), "CiphertextForRecipient with Recipient");
      assert.ok(isAbsent(r.with[s.member]), `${s.member} with Recipient`);
    },
  },
  {
    // "This field is omitted if the request includes the Recipient parameter."
    rule: /omitted if the request includes the Recipient parameter/,
    async check(f, s) {
      const r = await withAndWithoutRecipient(f, s.operation);
      assert.ok(!isAbsent(r.without[s.member]), `${s.member} without Recipient`);
      assert.ok(isAbsent(r.with[s.member]), `${s.member} with Recipient`);
    },
  },
  {
    // Decrypt KeyMaterialId: "present only when the operation uses a symmetric encryption KMS key".
    rule: /present only when the operation uses a symmetric encryption KMS key/,
    async check(f, s) {
      assert.equal(s.operation, "Decrypt");
      const sealed = await f.kms.call("Encrypt", { KeyId: f.symmetricKey, Plaintext: "AQID" });
      const symmetric = await f.kms.call("Decrypt", {
        CiphertextBlob: sealed.CiphertextBlob.toBase64(),
      });
      const asymmetric = await f.kms.call("Decrypt", {
        CiphertextBlob: f.rsaCiphertext,
        KeyId: f.rsaEncryptKey,
        EncryptionAlgorithm: "RSAES_OAEP_SHA_256",
      });
      assert.ok(!isAbsent(symmetric[s.member]), "symmetric key");
      assert.ok(isAbsent(asymmetric[s.member]), "asymmetric key");
    },
  },
  {
    // ReEncrypt SourceKeyMaterialId / DestinationKeyMaterialId: present only for the side that
    // is a symmetric encryption key.
    rule: /present only when (the original encryption used|data is reencrypted using) a symmetric/,
    async check(f, s) {
      const sealed = await f.kms.call("Encrypt", { KeyId: f.symmetricKey, Plaintext: "AQID" });
      const symToRsa = await f.kms.call("ReEncrypt", {
        CiphertextBlob: sealed.CiphertextBlob.toBase64(),
        DestinationKeyId: f.rsaEncryptKey,
        DestinationEncryptionAlgorithm: "RSAES_OAEP_SHA_256",
      });
      const rsaToSym = await f.kms.call("ReEncrypt", {
        CiphertextBlob: f.rsaCiphertext,
        SourceKeyId: f.rsaEncryptKey,
        SourceEncryptionAlgorithm: "RSAES_OAEP_SHA_256",
        DestinationKeyId: f.symmetricKey,
      });
      const symmetricSide = s.member === "SourceKeyMaterialId" ? symToRsa : rsaToSym;
      const asymmetricSide = s.member === "SourceKeyMaterialId" ? rsaToSym : symToRsa;
      assert.ok(!isAbsent(symmetricSide[s.member]), `${s.member} for a symmetric key`);
      assert.ok(isAbsent(asymmetricSide[s.member]), `${s.member} for an asymmetric key`);
    },
  },
  {
    // GetPublicKey EncryptionAlgorithms / SigningAlgorithms / KeyAgreementAlgorithms: only for
    // the matching KeyUsage.
    rule: /(appears in the response|present) only when the (KMS key has a )?KeyUsage/,
    async check(f, s) {
      const usage = /KeyUsage (?:value )?(?:of the public key )?(?:is |of )?(\w+)/.exec(s.text)
        ?.[1];
      assert.ok(usage, s.text);
      const signKey = (await f.kms.call("CreateKey", {
        KeySpec: "ECC_NIST_P256",
        KeyUsage: "SIGN_VERIFY",
      })).KeyMetadata.KeyId;
      const byUsage: Record<string, string> = {
        ENCRYPT_DECRYPT: f.rsaEncryptKey,
        SIGN_VERIFY: signKey,
        KEY_AGREEMENT: f.eccAgreementKey,
      };
      assert.ok(usage in byUsage, usage);
      for (const [keyUsage, KeyId] of Object.entries(byUsage)) {
        const answer = await f.kms.call("GetPublicKey", { KeyId });
        assert.equal(
          !isAbsent(answer[s.member]),
          keyUsage === usage,
          `${s.member} for a ${keyUsage} key`,
        );
      }
    },
  },
  {
    // ScheduleKeyDeletion DeletionDate: "If the KMS key is a multi-Region primary key with replica
    // keys, this field does not appear."
    rule: /multi-Region primary key with replica keys, this field does not appear/,
    async check(f, s) {
      const primary = (await f.kms.call("CreateKey", { MultiRegion: true })).KeyMetadata.KeyId;
      await f.kms.call("ReplicateKey", { KeyId: primary, ReplicaRegion: "eu-west-1" });
      const lone = (await f.kms.call("CreateKey", { MultiRegion: true })).KeyMetadata.KeyId;
      const withReplicas = await f.kms.call(s.operation, {
        KeyId: primary,
        PendingWindowInDays: 7,
      });
      const without = await f.kms.call(s.operation, { KeyId: lone, PendingWindowInDays: 7 });
      assert.ok(isAbsent(withReplicas[s.member]), "primary with a replica");
      assert.ok(!isAbsent(without[s.member]), "primary without replicas");
    },
  },
  {
    // GetKeyLastUsage KeyLastUsage: "If the key has not been used since tracking began, this
    // response element is empty."
    rule: /has not been used since tracking began, this response element is empty/,
    async check(f, s) {
      // Uses are recorded where requests are answered (HTTP), which in-process calls skip: the
      // other half (present once used) is tests/audit_log_test.ts's.
      const KeyId = (await f.kms.call("CreateKey")).KeyMetadata.KeyId;
      const unused = await f.kms.call(s.operation, { KeyId });
      assert.ok(isAbsent(unused[s.member]), "a key not used yet");
      assert.ok(!isAbsent(unused.KeyCreationDate), "the rest of the answer is there");
    },
  },
];

const model = await readSmithyModel();
const statements = model === undefined ? [] : presenceStatements(model);

Deno.test({
  name:
    "every presence statement of the model's output shapes has a check, and the Recipient ones are among them",
  ignore: model === undefined,
  fn() {
    const unchecked = statements.filter((s) => !CHECKS.some((c) => c.rule.test(s.text)));
    assert.deepEqual(unchecked, []);
    const about = new Set(statements.map((s) => s.member));
    for (const member of ["CiphertextForRecipient", "Plaintext", "KeyMaterialId"]) {
      assert.ok(about.has(member), `the model states when ${member} is present`);
    }
  },
});

async function withFixtures(fn: (f: Fixtures) => Promise<void>): Promise<void> {
  const pki = await TestAttestationPki.create();
  const enclave = await newEnclave();
  try {
    await withInProcessKms(async (kms) => {
      const key = async (input: Record<string, unknown>) =>
        (await kms.call("CreateKey", input)).KeyMetadata.KeyId as string;
      const rsaEncryptKey = await key({ KeySpec: "RSA_2048", KeyUsage: "ENCRYPT_DECRYPT" });
      const eccAgreementKey = await key({ KeySpec: "ECC_NIST_P256", KeyUsage: "KEY_AGREEMENT" });
      const rsaCiphertext = (await kms.call("Encrypt", {
        KeyId: rsaEncryptKey,
        Plaintext: "AQID",
        EncryptionAlgorithm: "RSAES_OAEP_SHA_256",
      })).CiphertextBlob.toBase64();
      const peer = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, [
        "deriveBits",
      ]);
      const peerPublicKey = new Uint8Array(await crypto.subtle.exportKey("spki", peer.publicKey))
        .toBase64();
      await fn({
        kms,
        recipient: {
          KeyEncryptionAlgorithm: "RSAES_OAEP_SHA_256",
          AttestationDocument: (await pki.makeAttestationDocument({ publicKey: enclave.spki }))
            .toBase64(),
        },
        symmetricKey: await key({}),
        rsaEncryptKey,
        rsaCiphertext,
        eccAgreementKey,
        peerPublicKey,
      });
    }, {
      // The attestation certificates are issued at the real time: the clock starts there.
      clock: new ManualClock(Date.now()),
      env: { KMS_ATTESTATION_ROOTS: pki.rootPem, KMS_REGIONS: "us-east-1,eu-west-1" },
    });
  } finally {
    await Deno.remove(enclave.dir, { recursive: true });
  }
}

Deno.test({
  name: "each presence statement of the model holds for the real operations",
  ignore: model === undefined,
  fn: (t) =>
    withFixtures(async (f) => {
      for (const statement of statements) {
        const check = CHECKS.find((c) => c.rule.test(statement.text));
        if (check === undefined) continue; // reported by the coverage test above
        await t.step(
          `${statement.operation} ${statement.member}: "${statement.text}"`,
          () => check.check(f, statement),
        );
      }
    }),
});
