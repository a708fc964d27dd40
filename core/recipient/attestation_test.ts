import assert from "node:assert/strict";
import { Decoder } from "cbor-x";
import { KeyUsageFlags } from "@peculiar/asn1-x509";
import { ValidationException } from "../errors.ts";
import {
  type AttestationDocumentOptions,
  flipByte,
  indexOfBytes,
  replacePayload,
  signCoseSign1,
  TestAttestationPki,
  toPem,
} from "../../tests/helpers/attestation.ts";
import {
  AWS_NITRO_ENCLAVES_ROOT_G1_PEM,
  AWS_NITRO_ENCLAVES_ROOT_G1_SHA256,
  parseTrustedRoots,
  type TrustedRoots,
  verifyAttestationDocument,
} from "./attestation.ts";

const NOW = new Date("2026-03-01T12:00:00Z");
const HOUR = 3_600_000;
const pki = await TestAttestationPki.create({ now: NOW });
const otherPki = await TestAttestationPki.create({ now: NOW });
const roots = parseTrustedRoots(pki.rootPem);
const rsaKeys = await crypto.subtle.generateKey(
  {
    name: "RSA-OAEP",
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: "SHA-256",
  },
  true,
  ["encrypt", "decrypt"],
);
const publicKey = new Uint8Array(await crypto.subtle.exportKey("spki", rsaKeys.publicKey));
const PCR0 = new Uint8Array(48).fill(0xab);
const decoder = new Decoder({ mapsAsObjects: false, useRecords: false });

function document(options: Partial<AttestationDocumentOptions> = {}): Promise<Uint8Array> {
  return pki.makeAttestationDocument({ publicKey, now: NOW, ...options });
}

async function assertRejected(
  doc: Uint8Array,
  reason: RegExp,
  options: { roots?: TrustedRoots; now?: Date } = {},
): Promise<void> {
  await assert.rejects(
    verifyAttestationDocument(doc, options.roots ?? roots, options.now ?? NOW),
    (error: unknown) => {
      assert.ok(error instanceof ValidationException, `not a ValidationException: ${error}`);
      assert.match(
        error.message,
        /^The attestation document in the Recipient parameter is not valid: /,
      );
      assert.match(error.message, reason);
      return true;
    },
  );
}

Deno.test("the embedded AWS Nitro Enclaves G1 root has the SHA-256 fingerprint AWS publishes", async () => {
  const [root] = parseTrustedRoots(AWS_NITRO_ENCLAVES_ROOT_G1_PEM).certificates;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", root!.der));
  assert.equal(digest.toHex(), AWS_NITRO_ENCLAVES_ROOT_G1_SHA256);
});

Deno.test("parseTrustedRoots reads every certificate of a PEM bundle and skips other text", () => {
  const bundle = `# test roots\n${pki.rootPem}\nsome comment\n${otherPki.rootPem}`;
  const parsed = parseTrustedRoots(bundle);
  assert.deepEqual(parsed.certificates.map((root) => root.der), [pki.rootDer, otherPki.rootDer]);
});

Deno.test("parseTrustedRoots rejects text without a certificate and a corrupt certificate", () => {
  assert.throws(() => parseTrustedRoots("/etc/kms/roots.pem"), TypeError);
  assert.throws(() => parseTrustedRoots(toPem("CERTIFICATE", new Uint8Array(40))), TypeError);
});

Deno.test("a valid document verifies and yields its public key, PCRs and other fields", async () => {
  const userData = new Uint8Array([1, 2, 3]);
  const nonce = new Uint8Array(16).fill(9);
  const pcrs = new Map([[0, PCR0], [1, new Uint8Array(48).fill(1)], [8, new Uint8Array(48)]]);
  const doc = await document({ pcrs, userData, nonce, moduleId: "i-abc-enc123" });
  const enclave = await verifyAttestationDocument(doc, roots, NOW);
  assert.deepEqual(enclave.publicKey, publicKey);
  assert.deepEqual([...enclave.pcrs.entries()], [...pcrs.entries()]);
  assert.equal(enclave.moduleId, "i-abc-enc123");
  assert.equal(enclave.digest, "SHA384");
  assert.equal(enclave.timestamp.getTime(), NOW.getTime());
  assert.deepEqual(enclave.userData, userData);
  assert.deepEqual(enclave.nonce, nonce);
});

Deno.test("a document with null user_data and nonce, as the NSM writes them, verifies", async () => {
  const enclave = await verifyAttestationDocument(await document(), roots, NOW);
  assert.equal(enclave.userData, undefined);
  assert.equal(enclave.nonce, undefined);
  assert.equal(enclave.pcrs.size, 16);
});

Deno.test("a document under COSE_Sign1's CBOR tag 18 verifies", async () => {
  const doc = await document({ tagged: true });
  assert.equal(doc[0], 0xd2);
  assert.deepEqual((await verifyAttestationDocument(doc, roots, NOW)).publicKey, publicKey);
});

Deno.test("a cabundle that starts below a trusted root verifies through the root's signature", async () => {
  const doc = await document({ fields: { cabundle: [pki.intermediateDer] } });
  assert.deepEqual((await verifyAttestationDocument(doc, roots, NOW)).publicKey, publicKey);
});

Deno.test("a flipped payload byte breaks the signature", async () => {
  const doc = await document({ pcrs: new Map([[0, PCR0]]) });
  await assertRejected(flipByte(doc, indexOfBytes(doc, PCR0) + 7), /its signature does not verify/);
});

Deno.test("a flipped signature byte breaks the signature", async () => {
  const doc = await document();
  await assertRejected(flipByte(doc, doc.length - 1), /its signature does not verify/);
});

Deno.test("a document signed by a key other than the leaf certificate's is rejected", async () => {
  const forger = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-384" }, false, [
    "sign",
  ]);
  await assertRejected(
    await document({ signingKey: forger.privateKey }),
    /its signature does not verify/,
  );
});

Deno.test("a payload swapped into a validly signed document is rejected", async () => {
  const [original, other] = [await document(), await document({ moduleId: "i-other-enc1" })];
  const cose = decoder.decode(original);
  const forged = replacePayload(cose, decoder.decode(other)[2]);
  await assertRejected(forged, /its signature does not verify/);
});

Deno.test("a chain to an untrusted root is rejected", async () => {
  const doc = await otherPki.makeAttestationDocument({ publicKey, now: NOW });
  await assertRejected(doc, /its certificate chain does not lead to a trusted root/);
});

Deno.test("an intermediate with the right name but another issuer key is rejected", async () => {
  const doc = await document({ fields: { cabundle: [pki.rootDer, otherPki.intermediateDer] } });
  await assertRejected(doc, /a certificate signature in its chain does not verify/);
});

const BAD_CHAINS: [string, Parameters<typeof TestAttestationPki.create>[0], RegExp][] = [
  [
    "an intermediate without basicConstraints cA",
    { intermediate: { cA: false } },
    /a CA certificate in its chain is not marked as a CA/,
  ],
  [
    "an intermediate without keyCertSign",
    { intermediate: { keyUsage: KeyUsageFlags.digitalSignature } },
    /a CA certificate in its chain may not sign certificates/,
  ],
  [
    "a root whose path length forbids an intermediate",
    { root: { pathLength: 0 } },
    /longer than a CA certificate in it allows/,
  ],
  [
    "an unknown critical extension",
    { intermediate: { unknownCriticalExtension: true } },
    /unsupported critical extension/,
  ],
];

for (const [what, profiles, reason] of BAD_CHAINS) {
  Deno.test(`a chain with ${what} is rejected`, async () => {
    const badPki = await TestAttestationPki.create({ now: NOW, ...profiles });
    const doc = await badPki.makeAttestationDocument({ publicKey, now: NOW });
    await assertRejected(doc, reason, { roots: parseTrustedRoots(badPki.rootPem) });
  });
}

Deno.test("an expired leaf certificate is rejected", async () => {
  const validity = {
    notBefore: new Date(NOW.getTime() - 4 * HOUR),
    notAfter: new Date(NOW.getTime() - HOUR),
  };
  await assertRejected(await document({ validity }), /its signing certificate has expired/);
});

Deno.test("a leaf certificate that is not yet valid is rejected", async () => {
  const validity = {
    notBefore: new Date(NOW.getTime() + HOUR),
    notAfter: new Date(NOW.getTime() + 4 * HOUR),
  };
  await assertRejected(await document({ validity }), /its signing certificate is not yet valid/);
});

Deno.test("an expired CA certificate is rejected", async () => {
  const later = new Date(NOW.getTime() + 40 * 24 * HOUR); // the intermediate lives 30 days
  const doc = await document({ now: later });
  await assertRejected(doc, /a CA certificate in its chain has expired/, { now: later });
});

Deno.test("a document without a public key is rejected, whether null or absent", async () => {
  await assertRejected(await document({ publicKey: null }), /it does not contain a public key/);
  await assertRejected(
    await document({ fields: { public_key: undefined } }),
    /it does not contain a public key/,
  );
});

Deno.test("garbage, trailing bytes, an empty and an oversized document are rejected", async () => {
  const doc = await document();
  await assertRejected(crypto.getRandomValues(new Uint8Array(64)).fill(0xff, 0, 1), /CBOR|COSE/);
  await assertRejected(new Uint8Array([...doc, 0x00]), /it is not well-formed CBOR/);
  await assertRejected(new Uint8Array(0), /1 to 262144 bytes/);
  await assertRejected(new Uint8Array(262145), /1 to 262144 bytes/);
  await assertRejected(new Uint8Array([0x83, 0x40, 0xa0, 0x40]), /not a COSE_Sign1 structure/);
});

Deno.test("a protected header that names another algorithm than ES384 is rejected", async () => {
  const payload = decoder.decode(await document())[2];
  const key = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-384" }, false, [
    "sign",
  ]);
  const es256 = new Uint8Array([0xa1, 0x01, 0x26]); // {1: -7}
  const doc = await signCoseSign1(payload, key.privateKey, {
    tagged: false,
    protectedHeader: es256,
  });
  await assertRejected(doc, /does not name the ES384 algorithm/);
});

Deno.test("a signature that is not 96 bytes long is rejected", async () => {
  const [protectedHeader, unprotected, payload] = decoder.decode(await document());
  const { Encoder } = await import("cbor-x");
  const encoder = new Encoder({ useRecords: false, tagUint8Array: false, mapsAsObjects: false });
  const doc = encoder.encode([protectedHeader, unprotected, payload, new Uint8Array(64)]);
  await assertRejected(new Uint8Array(doc), /its signature is not 96 bytes long/);
});

const MALFORMED_FIELDS: [string, unknown][] = [
  ["module_id", ""],
  ["module_id", undefined],
  ["digest", "SHA256"],
  ["timestamp", 0],
  ["timestamp", "2026-03-01"],
  ["pcrs", new Map()],
  ["pcrs", new Map([[32, new Uint8Array(48)]])],
  ["pcrs", new Map([["0", new Uint8Array(48)]])],
  ["pcrs", new Map([[0, new Uint8Array(20)]])],
  ["certificate", "MIIB..."],
  ["certificate", new Uint8Array(1025)],
  ["cabundle", []],
  ["cabundle", new Uint8Array(10)],
  ["public_key", "not bytes"],
  ["user_data", new Uint8Array(1025)],
  ["nonce", 42],
];

Deno.test("each missing or malformed payload field is named in the rejection", async () => {
  for (const [field, value] of MALFORMED_FIELDS) {
    const doc = await document({ fields: { [field]: value } });
    await assertRejected(doc, new RegExp(`its '${field}' field is missing or malformed`));
  }
});

Deno.test("certificates that are not DER X.509 are rejected", async () => {
  const doc = await document({ fields: { certificate: new Uint8Array(300).fill(0x30) } });
  await assertRejected(doc, /a certificate in it is not a DER X\.509 certificate/);
});

Deno.test("with no trusted roots configured every document is rejected", async () => {
  await assertRejected(await document(), /no attestation roots are configured/, {
    roots: { certificates: [] },
  });
});

Deno.test("rejections never quote the document's content", async () => {
  const moduleId = "i-secret-module-enc999";
  const doc = await document({ moduleId, publicKey: null });
  await assert.rejects(verifyAttestationDocument(doc, roots, NOW), (error: unknown) => {
    assert.ok(error instanceof ValidationException);
    assert.ok(!error.message.includes(moduleId));
    assert.ok(!error.message.includes(publicKey.toBase64().slice(0, 20)));
    return true;
  });
});
