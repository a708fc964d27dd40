import assert from "node:assert/strict";
import { ValidationException } from "../errors.ts";
import { SecretBytes } from "../secret.ts";
import { TestAttestationPki, toPem } from "../../tests/helpers/attestation.ts";
import { parseTrustedRoots } from "./attestation.ts";
import { RECIPIENT_KEY_ENCRYPTION_ALGORITHM, RecipientSealer } from "./recipient.ts";

const NOW = new Date("2026-03-01T12:00:00Z");
const pki = await TestAttestationPki.create({ now: NOW });
const sealer = new RecipientSealer(parseTrustedRoots(pki.rootPem), () => NOW);

function rsaKeyPair(modulusLength: number): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(
    { name: "RSA-OAEP", modulusLength, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["encrypt", "decrypt"],
  );
}

async function spkiOf(key: CryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.exportKey("spki", key));
}

const enclaveKeys = await rsaKeyPair(2048);
const enclaveSpki = await spkiOf(enclaveKeys.publicKey);

function documentFor(publicKey: Uint8Array | null): Promise<Uint8Array> {
  return pki.makeAttestationDocument({ publicKey, now: NOW });
}

async function assertValidationError(promise: Promise<unknown>, reason: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ValidationException, `not a ValidationException: ${error}`);
    assert.match(error.message, reason);
    return true;
  });
}

/** The enclave's side: `openssl cms -decrypt` with its private key. */
async function openAsEnclave(envelope: Uint8Array): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir();
  try {
    const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", enclaveKeys.privateKey));
    await Deno.writeTextFile(`${dir}/key.pem`, toPem("PRIVATE KEY", pkcs8));
    await Deno.writeFile(`${dir}/envelope.der`, envelope);
    const { success } = await new Deno.Command("openssl", {
      args: ["cms", "-decrypt", "-binary", "-inform", "DER", "-in", `${dir}/envelope.der`]
        .concat(["-inkey", `${dir}/key.pem`, "-out", `${dir}/plaintext.bin`]),
      stderr: "null",
    }).output();
    assert.ok(success, "openssl cms -decrypt failed");
    return await Deno.readFile(`${dir}/plaintext.bin`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("attest then seal gives CiphertextForRecipient that only the enclave's key opens", async () => {
  const enclave = await sealer.attest({
    keyEncryptionAlgorithm: RECIPIENT_KEY_ENCRYPTION_ALGORITHM,
    attestationDocument: await documentFor(enclaveSpki),
  });
  assert.deepEqual(enclave.publicKey, enclaveSpki);
  const dataKey = crypto.getRandomValues(new Uint8Array(32));
  const ciphertextForRecipient = await sealer.seal(enclave, new SecretBytes(dataKey.slice()));
  assert.deepEqual(await openAsEnclave(ciphertextForRecipient), dataKey);
});

Deno.test("attest reads an omitted KeyEncryptionAlgorithm as RSAES_OAEP_SHA_256", async () => {
  const enclave = await sealer.attest({ attestationDocument: await documentFor(enclaveSpki) });
  assert.deepEqual(enclave.publicKey, enclaveSpki);
  assert.equal(enclave.pcrs.size, 16);
});

Deno.test("attest rejects any other KeyEncryptionAlgorithm", async () => {
  const attestationDocument = await documentFor(enclaveSpki);
  for (const keyEncryptionAlgorithm of ["RSAES_OAEP_SHA_1", "rsaes_oaep_sha_256", ""]) {
    await assertValidationError(
      sealer.attest({ keyEncryptionAlgorithm, attestationDocument }),
      /^The KeyEncryptionAlgorithm in the Recipient parameter must be RSAES_OAEP_SHA_256\.$/,
    );
  }
});

Deno.test("attest rejects a Recipient without an AttestationDocument", async () => {
  await assertValidationError(
    sealer.attest({ keyEncryptionAlgorithm: RECIPIENT_KEY_ENCRYPTION_ALGORITHM }),
    /must include an AttestationDocument/,
  );
});

Deno.test("attest rejects an attested public key that is not RSA", async () => {
  const ec = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, [
    "deriveBits",
  ]);
  for (const publicKey of [await spkiOf(ec.publicKey), new Uint8Array(32).fill(4)]) {
    await assertValidationError(
      sealer.attest({ attestationDocument: await documentFor(publicKey) }),
      /its public key is not a DER-encoded RSA public key/,
    );
  }
});

Deno.test("attest rejects an RSA public key shorter than 2048 bits", async () => {
  const small = await spkiOf((await rsaKeyPair(1024)).publicKey);
  await assertValidationError(
    sealer.attest({ attestationDocument: await documentFor(small) }),
    /its RSA public key must be 2048 to 4096 bits long/,
  );
});

Deno.test("attest rejects a document without a public key", async () => {
  await assertValidationError(
    sealer.attest({ attestationDocument: await documentFor(null) }),
    /it does not contain a public key/,
  );
});

Deno.test("attest checks certificate validity at the sealer's clock", async () => {
  const attestationDocument = await documentFor(enclaveSpki);
  const later = new RecipientSealer(
    parseTrustedRoots(pki.rootPem),
    () => new Date(NOW.getTime() + 4 * 3_600_000),
  );
  await assertValidationError(
    later.attest({ attestationDocument }),
    /its signing certificate has expired/,
  );
});

Deno.test("attest refuses every document when no attestation roots are configured", async () => {
  const unconfigured = new RecipientSealer({ certificates: [] }, () => NOW);
  await assertValidationError(
    unconfigured.attest({ attestationDocument: await documentFor(enclaveSpki) }),
    /no attestation roots are configured/,
  );
});
