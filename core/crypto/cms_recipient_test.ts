import assert from "node:assert/strict";
import { ContentInfo, EnvelopedData, id_data, id_envelopedData } from "@peculiar/asn1-cms";
import { id_mgf1, id_RSAES_OAEP, id_sha256, RsaEsOaepParams } from "@peculiar/asn1-rsa";
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import { AlgorithmIdentifier } from "@peculiar/asn1-x509";
import { envelopeForRecipient, ID_AES256_CBC, subjectKeyIdentifier } from "./cms_recipient.ts";

const RSA_OAEP_2048 = {
  name: "RSA-OAEP",
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: "SHA-256",
};

interface Recipient {
  spki: Uint8Array;
  privateKeyPem: string;
}

async function newRecipient(): Promise<Recipient> {
  const keys = await crypto.subtle.generateKey(RSA_OAEP_2048, true, ["encrypt", "decrypt"]);
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  const lines = pkcs8.toBase64().match(/.{1,64}/g)!.join("\n");
  return {
    spki,
    privateKeyPem: `-----BEGIN PRIVATE KEY-----\n${lines}\n-----END PRIVATE KEY-----\n`,
  };
}

const recipient = await newRecipient();
const stranger = await newRecipient();

/** Runs `openssl cms -decrypt -inform DER` on the envelope with a private key; no -recip. */
async function opensslDecrypt(
  envelope: Uint8Array,
  privateKeyPem: string,
): Promise<{ success: boolean; plaintext: Uint8Array }> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/envelope.der`, envelope);
    await Deno.writeTextFile(`${dir}/key.pem`, privateKeyPem);
    const { success } = await new Deno.Command("openssl", {
      args: [
        "cms",
        "-decrypt",
        "-binary",
        "-inform",
        "DER",
        "-in",
        `${dir}/envelope.der`,
        "-inkey",
        `${dir}/key.pem`,
        "-out",
        `${dir}/plaintext.bin`,
      ],
      stdout: "null",
      stderr: "null",
    }).output();
    const plaintext = success ? await Deno.readFile(`${dir}/plaintext.bin`) : new Uint8Array(0);
    return { success, plaintext };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("openssl cms -decrypt opens a 32-byte data key sealed to the recipient's key", async () => {
  const dataKey = crypto.getRandomValues(new Uint8Array(32));
  const opened = await opensslDecrypt(
    await envelopeForRecipient(dataKey, recipient.spki),
    recipient.privateKeyPem,
  );
  assert.ok(opened.success);
  assert.deepEqual(opened.plaintext, dataKey);
});

Deno.test("openssl cms -decrypt opens a 1217-byte payload (an RSA_2048 PKCS #8 key) exactly", async () => {
  const payload = crypto.getRandomValues(new Uint8Array(1217));
  const opened = await opensslDecrypt(
    await envelopeForRecipient(payload, recipient.spki),
    recipient.privateKeyPem,
  );
  assert.ok(opened.success);
  assert.deepEqual(opened.plaintext, payload);
});

Deno.test("another RSA private key cannot open the envelope", async () => {
  const envelope = await envelopeForRecipient(new Uint8Array(32).fill(7), recipient.spki);
  const opened = await opensslDecrypt(envelope, stranger.privateKeyPem);
  assert.equal(opened.success, false);
  assert.equal(opened.plaintext.length, 0);
});

Deno.test("openssl reads the algorithms as RSAES-OAEP with SHA-256/MGF1-SHA-256 and AES-256-CBC", async () => {
  const envelope = await envelopeForRecipient(new Uint8Array(32), recipient.spki);
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/envelope.der`, envelope);
    const { success, stdout } = await new Deno.Command("openssl", {
      args: ["cms", "-cmsout", "-print", "-inform", "DER", "-in", `${dir}/envelope.der`],
      stderr: "null",
    }).output();
    assert.ok(success);
    const printed = new TextDecoder().decode(stdout);
    assert.match(printed, /contentType: pkcs7-envelopedData/);
    assert.match(printed, /algorithm: rsaesOaep/);
    assert.match(printed, /OBJECT\s+:sha256[\s\S]*OBJECT\s+:mgf1[\s\S]*OBJECT\s+:sha256/);
    assert.match(printed, /algorithm: aes-256-cbc/);
    assert.match(printed, /d\.subjectKeyIdentifier/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the envelope uses the BER layout of KMS replies: indefinite lengths on the outer four", async () => {
  // 32 bytes of plaintext pad to 48 bytes of AES-256-CBC ciphertext.
  const envelope = await envelopeForRecipient(new Uint8Array(32), recipient.spki);
  // ContentInfo SEQUENCE (indefinite), id-envelopedData, [0] (indefinite),
  // EnvelopedData SEQUENCE (indefinite), version 2, then the recipientInfos SET (definite).
  const head = "3080" + "06092a864886f70d010703" + "a080" + "3080" + "020102" + "31";
  assert.equal(envelope.subarray(0, head.length / 2).toHex(), head);
  // KeyTransRecipientInfo: version 2, rid [0] with a 32-byte key identifier.
  const ktri = envelope.subarray(head.length / 2 + 3, head.length / 2 + 3 + 4 + 3 + 2);
  assert.equal(ktri.toHex(), "30820167" + "020102" + "8020");
  // Encrypted content: constructed [0], indefinite, one 48-byte OCTET STRING, then the
  // end-of-contents octets of the [0], EncryptedContentInfo, EnvelopedData, [0], ContentInfo.
  assert.equal(envelope.subarray(-(4 + 48 + 10), -(48 + 10)).toHex(), "a080" + "0430");
  assert.equal(envelope.subarray(-10).toHex(), "00".repeat(10));
});

Deno.test("the envelope carries one version-2 KeyTransRecipientInfo with explicit OAEP parameters", async () => {
  const envelope = await envelopeForRecipient(new Uint8Array(32), recipient.spki);
  const info = AsnConvert.parse(envelope, ContentInfo);
  assert.equal(info.contentType, id_envelopedData);
  const enveloped = AsnConvert.parse(info.content, EnvelopedData);
  assert.equal(enveloped.version, 2);
  assert.equal(enveloped.recipientInfos.length, 1);
  const ktri = enveloped.recipientInfos[0]!.ktri!;
  assert.equal(ktri.version, 2);
  assert.deepEqual(
    new Uint8Array(ktri.rid.subjectKeyIdentifier!.buffer),
    await subjectKeyIdentifier(recipient.spki),
  );
  assert.equal(ktri.keyEncryptionAlgorithm.algorithm, id_RSAES_OAEP);
  const oaep = AsnConvert.parse(ktri.keyEncryptionAlgorithm.parameters!, RsaEsOaepParams);
  assert.equal(oaep.hashAlgorithm.algorithm, id_sha256);
  assert.equal(oaep.maskGenAlgorithm.algorithm, id_mgf1);
  const mgfHash = AsnConvert.parse(oaep.maskGenAlgorithm.parameters!, AlgorithmIdentifier);
  assert.equal(mgfHash.algorithm, id_sha256);
  assert.equal(ktri.encryptedKey.byteLength, 256);
  const content = enveloped.encryptedContentInfo;
  assert.equal(content.contentType, id_data);
  assert.equal(content.contentEncryptionAlgorithm.algorithm, ID_AES256_CBC);
  const iv = AsnConvert.parse(content.contentEncryptionAlgorithm.parameters!, OctetString);
  assert.equal(iv.byteLength, 16);
});

Deno.test("every envelope has a fresh content key and IV", async () => {
  const plaintext = new Uint8Array(32).fill(1);
  const [a, b] = await Promise.all([
    envelopeForRecipient(plaintext, recipient.spki),
    envelopeForRecipient(plaintext, recipient.spki),
  ]);
  const parse = (envelope: Uint8Array) => {
    const info = AsnConvert.parse(envelope, ContentInfo);
    const enveloped = AsnConvert.parse(info.content, EnvelopedData);
    return {
      encryptedKey: new Uint8Array(enveloped.recipientInfos[0]!.ktri!.encryptedKey.buffer),
      iv: new Uint8Array(enveloped.encryptedContentInfo.contentEncryptionAlgorithm.parameters!),
    };
  };
  assert.notDeepEqual(parse(a).iv, parse(b).iv);
  assert.notDeepEqual(parse(a).encryptedKey, parse(b).encryptedKey);
});

Deno.test("envelopeForRecipient rejects a key that is not an RSA public key", async () => {
  const ec = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
  ]);
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", ec.publicKey));
  await assert.rejects(envelopeForRecipient(new Uint8Array(32), spki), TypeError);
});
