/**
 * Test-root mode for Recipient attestation: a private stand-in for the AWS Nitro
 * Attestation PKI, so enclave code that calls KMS with a `Recipient` can be tested on a
 * laptop, without Nitro hardware.
 *
 * ```sh
 * # 1. Create a test root CA (root.pem, and root.key.pem readable by you only).
 * deno run -A scripts/attestation_test_root.ts init ./test-root
 *
 * # 2. Start the KMS trusting that root instead of AWS's.
 * KMS_ATTESTATION_ROOTS=./test-root/root.pem deno task start
 *
 * # 3. For an enclave key pair, write an attestation document signed under the test root.
 * openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out enclave.pem
 * openssl pkey -in enclave.pem -pubout -outform DER -out enclave.spki.der
 * deno run -A scripts/attestation_test_root.ts document ./test-root \
 *   --public-key enclave.spki.der --pcr0 <96 hex digits> --out attestation.cbor
 *
 * # 4. Use it, then open CiphertextForRecipient with the enclave key.
 * aws kms generate-data-key --key-id alias/my-key --key-spec AES_256 \
 *   --recipient KeyEncryptionAlgorithm=RSAES_OAEP_SHA_256,AttestationDocument=fileb://attestation.cbor \
 *   --query CiphertextForRecipient --output text | base64 -d > for-enclave.cms
 * openssl cms -decrypt -inform DER -in for-enclave.cms -inkey enclave.pem -binary -out data-key.bin
 * ```
 *
 * Every `document` call issues a fresh intermediate CA and a leaf certificate valid for three
 * hours from now, as the NSM does. Documents carry PCR0-PCR15 of 48 zero bytes (a debug-mode
 * enclave) unless `--pcr0` or `--pcr N=hex` says otherwise. Never configure a test root in a
 * KMS that guards real data: whoever holds root.key.pem can attest any enclave.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { fromPem, TestAttestationPki } from "../tests/helpers/attestation.ts";

const USAGE = `Usage:
  attestation_test_root.ts init <dir> [--force]
  attestation_test_root.ts document <dir> --public-key <spki.der|spki.pem>
      [--pcr0 <hex>] [--pcr <index>=<hex>]... [--user-data <hex>] [--nonce <hex>]
      [--module-id <text>] [--out <file>] [--base64]

init      writes <dir>/root.pem (trust it with KMS_ATTESTATION_ROOTS) and <dir>/root.key.pem
document  writes an attestation document signed under <dir>'s root to --out
          (default <dir>/attestation.cbor), or prints it as base64 with --base64`;

const PCR_LENGTHS = [32, 48, 64];

/** Runs the CLI with `args`; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const [command, dir] = args;
  try {
    if (command === "init" && dir !== undefined) return await init(dir, args.slice(2));
    if (command === "document" && dir !== undefined) return await document(dir, args.slice(2));
  } catch (error) {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  console.error(USAGE);
  return 2;
}

async function init(dir: string, rest: string[]): Promise<number> {
  const { values } = parseArgs({ args: rest, options: { force: { type: "boolean" } } });
  const [certPath, keyPath] = [`${dir}/root.pem`, `${dir}/root.key.pem`];
  if (!values.force && (await exists(certPath) || await exists(keyPath))) {
    throw new Error(`${dir} already holds a test root; pass --force to replace it`);
  }
  const pki = await TestAttestationPki.create({ commonName: "test-root.nitro-enclaves" });
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(keyPath, await pki.rootKeyPem(), { mode: 0o600 });
  await Deno.writeTextFile(certPath, pki.rootPem);
  console.log(`wrote ${certPath} and ${keyPath}`);
  console.log(`start the KMS with KMS_ATTESTATION_ROOTS=${certPath}`);
  return 0;
}

async function document(dir: string, rest: string[]): Promise<number> {
  const { values } = parseArgs({
    args: rest,
    options: {
      "public-key": { type: "string" },
      pcr0: { type: "string" },
      pcr: { type: "string", multiple: true },
      "user-data": { type: "string" },
      nonce: { type: "string" },
      "module-id": { type: "string" },
      out: { type: "string" },
      base64: { type: "boolean" },
    },
  });
  if (values["public-key"] === undefined) throw new Error("--public-key is required");
  const pki = await TestAttestationPki.load(
    await Deno.readTextFile(`${dir}/root.pem`),
    await Deno.readTextFile(`${dir}/root.key.pem`),
  );
  const doc = await pki.makeAttestationDocument({
    publicKey: await readPublicKey(values["public-key"]),
    pcrs: pcrs(values.pcr0, values.pcr ?? []),
    ...optionalHex("userData", values["user-data"]),
    ...optionalHex("nonce", values.nonce),
    ...(values["module-id"] === undefined ? {} : { moduleId: values["module-id"] }),
  });
  if (values.base64) {
    console.log(doc.toBase64());
    return 0;
  }
  const out = values.out ?? `${dir}/attestation.cbor`;
  await Deno.writeFile(out, doc);
  console.log(`wrote ${out} (${doc.length} bytes)`);
  return 0;
}

/** A DER SubjectPublicKeyInfo from a DER file or a PEM "PUBLIC KEY" file. */
async function readPublicKey(path: string): Promise<Uint8Array> {
  const bytes = await Deno.readFile(path);
  const text = new TextDecoder().decode(bytes);
  if (text.includes("-----BEGIN RSA PUBLIC KEY-----")) {
    throw new Error(`${path} is PKCS #1; convert it: openssl rsa -RSAPublicKey_in -pubout`);
  }
  return text.includes("-----BEGIN PUBLIC KEY-----") ? fromPem("PUBLIC KEY", text) : bytes;
}

/** PCR0-PCR15 of zeros, overridden by --pcr0 and --pcr index=hex. */
function pcrs(pcr0: string | undefined, assignments: string[]): Map<number, Uint8Array> {
  const result = new Map(Array.from({ length: 16 }, (_, i) => [i, new Uint8Array(48)]));
  const all = pcr0 === undefined ? assignments : [`0=${pcr0}`, ...assignments];
  for (const assignment of all) {
    const match = assignment.match(/^(\d{1,2})=((?:[0-9a-fA-F]{2})+)$/);
    const index = Number(match?.[1]);
    const value = match === null ? undefined : Uint8Array.fromHex(match[2]!);
    if (value === undefined || index > 31 || !PCR_LENGTHS.includes(value.length)) {
      throw new Error(`bad PCR "${assignment}": want <0-31>=<64, 96 or 128 hex digits>`);
    }
    result.set(index, value);
  }
  return result;
}

function optionalHex<K extends string>(key: K, hex: string | undefined) {
  return hex === undefined ? {} : { [key]: Uint8Array.fromHex(hex) } as Record<K, Uint8Array>;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
