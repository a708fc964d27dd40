/**
 * A stand-in Nitro enclave for Recipient tests: an RSA key pair made by
 * OpenSSL, and `openssl cms -decrypt` as the enclave opening
 * CiphertextForRecipient.
 *
 * @module
 */
import assert from "node:assert/strict";
import { runOpenssl } from "./openssl.ts";

/** An enclave's key pair: the private key as a PEM file in `dir`, the public key as DER SPKI. */
export interface Enclave {
  dir: string;
  keyFile: string;
  spki: Uint8Array;
}

/** Makes an enclave key pair in `dir` (a new temporary directory when not given). */
export async function newEnclave(dir?: string, bits = 2048): Promise<Enclave> {
  const home = dir ?? await Deno.makeTempDir({ prefix: "enclave-" });
  const keyFile = `${home}/enclave-${crypto.randomUUID()}.pem`;
  const gen = await runOpenssl([
    "genpkey",
    "-algorithm",
    "RSA",
    "-pkeyopt",
    `rsa_keygen_bits:${bits}`,
    "-out",
    keyFile,
  ]);
  assert.equal(gen.code, 0, gen.stderr);
  const pub = await runOpenssl(["pkey", "-in", keyFile, "-pubout", "-outform", "DER"]);
  assert.equal(pub.code, 0, pub.stderr);
  return { dir: home, keyFile, spki: pub.stdout };
}

/** What the enclave reads from CiphertextForRecipient, through `openssl cms -decrypt`. */
export async function openInEnclave(enclave: Enclave, cms: Uint8Array): Promise<Uint8Array> {
  const file = `${enclave.dir}/${crypto.randomUUID()}.cms`;
  await Deno.writeFile(file, cms);
  const opened = await runOpenssl([
    "cms",
    "-decrypt",
    "-inform",
    "DER",
    "-in",
    file,
    "-inkey",
    enclave.keyFile,
    "-binary",
  ]);
  assert.equal(opened.code, 0, opened.stderr);
  return opened.stdout;
}
