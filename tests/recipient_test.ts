/**
 * `Recipient` end to end: a test attestation PKI trusted through
 * KMS_ATTESTATION_ROOTS, an enclave RSA key made by OpenSSL, and
 * `openssl cms -decrypt` as the enclave opening CiphertextForRecipient.
 */
import assert from "node:assert/strict";
import {
  CreateKeyCommand,
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyPairCommand,
  GenerateRandomCommand,
  type KMSClient,
  type RecipientInfo,
} from "@aws-sdk/client-kms";
import { flipByte, TestAttestationPki } from "./helpers/attestation.ts";
import { type Enclave, newEnclave, openInEnclave } from "./helpers/enclave.ts";
import { runOpenssl } from "./helpers/openssl.ts";
import { errorName, type TestServer, withServer } from "./helpers/server.ts";

/** SM2 keys and data key pairs outside China Regions need the switch (core/region_profile.ts). */
const SM2_EVERYWHERE = { env: { KMS_SM2_ALL_REGIONS: "true" } };

async function recipientFor(pki: TestAttestationPki, enclave: Enclave): Promise<RecipientInfo> {
  return {
    KeyEncryptionAlgorithm: "RSAES_OAEP_SHA_256",
    AttestationDocument: await pki.makeAttestationDocument({ publicKey: enclave.spki }),
  };
}

async function withAttestedServer(
  fn: (ctx: {
    server: TestServer;
    client: KMSClient;
    pki: TestAttestationPki;
    enclave: Enclave;
    keyId: string;
  }) => Promise<void>,
): Promise<void> {
  const pki = await TestAttestationPki.create();
  const enclave = await newEnclave();
  try {
    await withServer(async (server) => {
      const { KeyMetadata } = await server.client.send(new CreateKeyCommand({}));
      await fn({ server, client: server.client, pki, enclave, keyId: KeyMetadata!.KeyId! });
    }, { env: { KMS_ATTESTATION_ROOTS: pki.rootPem, KMS_SM2_ALL_REGIONS: "true" } });
  } finally {
    await Deno.remove(enclave.dir, { recursive: true });
  }
}

const CONTEXT = { app: "enclave" };

Deno.test("GenerateDataKey with Recipient returns the data key only sealed to the enclave", () =>
  withAttestedServer(async ({ client, pki, enclave, keyId }) => {
    const out = await client.send(
      new GenerateDataKeyCommand({
        KeyId: keyId,
        KeySpec: "AES_256",
        EncryptionContext: CONTEXT,
        Recipient: await recipientFor(pki, enclave),
      }),
    );
    assert.equal(out.Plaintext, undefined);
    const dataKey = await openInEnclave(enclave, out.CiphertextForRecipient!);
    assert.equal(dataKey.length, 32);
    const decrypted = await client.send(
      new DecryptCommand({ CiphertextBlob: out.CiphertextBlob, EncryptionContext: CONTEXT }),
    );
    assert.deepEqual(decrypted.Plaintext, dataKey);
  }));

Deno.test("GenerateDataKeyPair with Recipient seals the PKCS#8 private key to the enclave", () =>
  withAttestedServer(async ({ client, pki, enclave, keyId }) => {
    const out = await client.send(
      new GenerateDataKeyPairCommand({
        KeyId: keyId,
        KeyPairSpec: "ECC_NIST_P256",
        Recipient: await recipientFor(pki, enclave),
      }),
    );
    assert.equal(out.PrivateKeyPlaintext, undefined);
    const privateKey = await openInEnclave(enclave, out.CiphertextForRecipient!);
    const decrypted = await client.send(
      new DecryptCommand({ CiphertextBlob: out.PrivateKeyCiphertextBlob }),
    );
    assert.deepEqual(decrypted.Plaintext, privateKey);
    const derived = await runOpenssl(["pkey", "-inform", "DER", "-pubout", "-outform", "DER"], {
      stdin: privateKey,
    });
    assert.deepEqual(derived.stdout, out.PublicKey);
  }));

Deno.test("GenerateRandom with Recipient returns the random bytes only sealed to the enclave", () =>
  withAttestedServer(async ({ client, pki, enclave }) => {
    const out = await client.send(
      new GenerateRandomCommand({ NumberOfBytes: 48, Recipient: await recipientFor(pki, enclave) }),
    );
    assert.equal(out.Plaintext, undefined);
    assert.equal((await openInEnclave(enclave, out.CiphertextForRecipient!)).length, 48);
  }));

Deno.test("Decrypt with Recipient returns the plaintext only sealed to the enclave", () =>
  withAttestedServer(async ({ client, pki, enclave, keyId }) => {
    const secret = new TextEncoder().encode("for the enclave's eyes only");
    const { CiphertextBlob } = await client.send(
      new EncryptCommand({ KeyId: keyId, Plaintext: secret }),
    );
    const out = await client.send(
      new DecryptCommand({ CiphertextBlob, Recipient: await recipientFor(pki, enclave) }),
    );
    assert.equal(out.Plaintext, undefined);
    assert.match(out.KeyId!, /^arn:aws:kms:/);
    assert.deepEqual(await openInEnclave(enclave, out.CiphertextForRecipient!), secret);
  }));

Deno.test("A forged attestation document gets ValidationException from every Recipient operation", () =>
  withAttestedServer(async ({ client, pki, enclave, keyId }) => {
    const good = await pki.makeAttestationDocument({ publicKey: enclave.spki });
    const stranger = await TestAttestationPki.create();
    const forgeries = [
      flipByte(good, Math.floor(good.length / 2)),
      flipByte(good, good.length - 5),
      await stranger.makeAttestationDocument({ publicKey: enclave.spki }),
      await pki.makeAttestationDocument({
        publicKey: enclave.spki,
        validity: {
          notBefore: new Date(Date.now() - 7200_000),
          notAfter: new Date(Date.now() - 60_000),
        },
      }),
      new Uint8Array([0xa0]),
    ];
    const { CiphertextBlob } = await client.send(
      new EncryptCommand({ KeyId: keyId, Plaintext: new Uint8Array([1, 2, 3]) }),
    );
    for (const [i, AttestationDocument] of forgeries.entries()) {
      const Recipient = {
        KeyEncryptionAlgorithm: "RSAES_OAEP_SHA_256" as const,
        AttestationDocument,
      };
      const calls = [
        () =>
          client.send(new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: 32, Recipient })),
        () =>
          client.send(
            new GenerateDataKeyPairCommand({ KeyId: keyId, KeyPairSpec: "SM2", Recipient }),
          ),
        () => client.send(new GenerateRandomCommand({ NumberOfBytes: 32, Recipient })),
        () => client.send(new DecryptCommand({ CiphertextBlob, Recipient })),
      ];
      for (const call of calls) {
        assert.equal(await errorName(call()), "ValidationException", `forgery ${i}`);
      }
    }
  }));

Deno.test("DryRun with a valid Recipient gives DryRunOperationException; with a forged one ValidationException", () =>
  withAttestedServer(async ({ client, pki, enclave, keyId }) => {
    const Recipient = await recipientFor(pki, enclave);
    assert.equal(
      await errorName(
        client.send(
          new GenerateDataKeyPairCommand({
            KeyId: keyId,
            KeyPairSpec: "SM2",
            Recipient,
            DryRun: true,
          }),
        ),
      ),
      "DryRunOperationException",
    );
    const forged = {
      ...Recipient,
      AttestationDocument: flipByte(Recipient.AttestationDocument!, 40),
    };
    assert.equal(
      await errorName(
        client.send(
          new GenerateDataKeyPairCommand({
            KeyId: keyId,
            KeyPairSpec: "SM2",
            Recipient: forged,
            DryRun: true,
          }),
        ),
      ),
      "ValidationException",
    );
  }));

Deno.test("Without KMS_ATTESTATION_ROOTS only AWS's Nitro root is trusted, so a test document is refused", async () => {
  const pki = await TestAttestationPki.create();
  const enclave = await newEnclave();
  try {
    await withServer(async ({ client }) => {
      assert.equal(
        await errorName(
          client.send(
            new GenerateRandomCommand({
              NumberOfBytes: 16,
              Recipient: await recipientFor(pki, enclave),
            }),
          ),
        ),
        "ValidationException",
      );
    }, SM2_EVERYWHERE);
  } finally {
    await Deno.remove(enclave.dir, { recursive: true });
  }
});

Deno.test("Recipient rejects an attestation document over 262144 bytes and an unknown algorithm", () =>
  withAttestedServer(async ({ client, pki, enclave }) => {
    const Recipient = await recipientFor(pki, enclave);
    for (
      const bad of [
        { ...Recipient, AttestationDocument: new Uint8Array(262_145) },
        { ...Recipient, KeyEncryptionAlgorithm: "RSAES_OAEP_SHA_1" },
      ]
    ) {
      assert.equal(
        await errorName(
          // deno-lint-ignore no-explicit-any -- deliberately invalid input
          client.send(new GenerateRandomCommand({ NumberOfBytes: 16, Recipient: bad as any })),
        ),
        "ValidationException",
      );
    }
  }));
