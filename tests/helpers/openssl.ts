/**
 * OpenSSL 3 (`openssl` on PATH) as the independent referee for key encodings and
 * signatures: parse SPKI and PKCS#8 DER, check private keys, derive the public
 * key from a private key, and sign with one side and verify with the other.
 *
 * Keys travel through files in a temporary directory (pkeyutl and dgst read keys
 * from files only); every helper removes its directory before returning.
 *
 * @module
 */

/** What an `openssl` run gave back. */
export interface OpensslResult {
  readonly code: number;
  readonly stdout: Uint8Array;
  readonly stderr: string;
}

/** Key types `opensslSignAndVerify` knows how to sign with (AWS `DataKeyPairSpec` names). */
export type OpensslKeySpec =
  | "RSA_2048"
  | "RSA_3072"
  | "RSA_4096"
  | "ECC_NIST_P256"
  | "ECC_NIST_P384"
  | "ECC_NIST_P521"
  | "ECC_SECG_P256K1"
  | "SM2"
  | "ECC_NIST_EDWARDS25519";

/** The GB/T 32918.2 default distinguishing ID, which AWS KMS also uses for SM2. */
export const SM2_DEFAULT_DISTID = "1234567812345678";

const DIGEST_FOR_SPEC: Readonly<Record<OpensslKeySpec, string | undefined>> = {
  RSA_2048: "sha256",
  RSA_3072: "sha256",
  RSA_4096: "sha256",
  ECC_NIST_P256: "sha256",
  ECC_NIST_P384: "sha384",
  ECC_NIST_P521: "sha512",
  ECC_SECG_P256K1: "sha256",
  SM2: "sm3",
  ECC_NIST_EDWARDS25519: undefined,
};

/** Runs `openssl ...args`, feeding `stdin` if given; never throws on a non-zero exit. */
export async function runOpenssl(
  args: readonly string[],
  options: { stdin?: Uint8Array; cwd?: string } = {},
): Promise<OpensslResult> {
  const command = new Deno.Command("openssl", {
    args: [...args],
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  const child = command.spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(options.stdin);
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  return { code, stdout, stderr: new TextDecoder().decode(stderr) };
}

/** `openssl pkey -pubin -inform DER -text`: the text form of a DER SPKI. */
export async function opensslParsePublicKey(spkiDer: Uint8Array): Promise<string> {
  const args = ["pkey", "-pubin", "-inform", "DER", "-noout", "-text"];
  return _text(await _expectSuccess(args, spkiDer));
}

/** `openssl pkey -inform DER -text`: the text form of a DER PKCS#8 private key. */
export async function opensslParsePrivateKey(pkcs8Der: Uint8Array): Promise<string> {
  const args = ["pkey", "-inform", "DER", "-noout", "-text"];
  return _text(await _expectSuccess(args, pkcs8Der));
}

/** `openssl pkey -check`: whether OpenSSL reads the PKCS#8 key and finds it consistent. */
export async function opensslCheckPrivateKey(
  pkcs8Der: Uint8Array,
): Promise<{ ok: boolean; output: string }> {
  const result = await runOpenssl(["pkey", "-inform", "DER", "-check", "-noout"], {
    stdin: pkcs8Der,
  });
  const output = _text(result.stdout) + result.stderr;
  return { ok: result.code === 0 && output.includes("Key is valid"), output };
}

/** The DER SPKI that OpenSSL derives from a DER PKCS#8 private key. */
export async function opensslPublicFromPrivate(pkcs8Der: Uint8Array): Promise<Uint8Array> {
  const args = ["pkey", "-inform", "DER", "-pubout", "-outform", "DER"];
  return await _expectSuccess(args, pkcs8Der);
}

/**
 * Signs a message with the private key and verifies it with the public key, both in OpenSSL.
 * RSA: PKCS#1 v1.5 with SHA-256; ECDSA: SHA-256/384/512 by curve; SM2: SM3 with the default
 * distinguishing ID; Ed25519: pure EdDSA (`pkeyutl -rawin`). Resolves to whether it verified.
 * @throws {Error} when OpenSSL cannot sign with the private key.
 */
export async function opensslSignAndVerify(
  pkcs8Der: Uint8Array,
  spkiDer: Uint8Array,
  spec: OpensslKeySpec,
): Promise<boolean> {
  const dir = await Deno.makeTempDir({ prefix: "openssl_sign_" });
  try {
    await Deno.writeFile(`${dir}/key.der`, pkcs8Der);
    await Deno.writeFile(`${dir}/pub.der`, spkiDer);
    await Deno.writeTextFile(`${dir}/msg`, `message signed by a ${spec} key\n`);
    const { sign, verify } = _signVerifyArgs(spec);
    const signed = await runOpenssl(sign, { cwd: dir });
    if (signed.code !== 0) throw new Error(`openssl could not sign: ${signed.stderr}`);
    const verified = await runOpenssl(verify, { cwd: dir });
    return verified.code === 0;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** One key's outcome in `opensslCheckMany`. */
export interface OpensslBatchCheck {
  /** `openssl pkey -check` found the key valid. */
  readonly valid: boolean;
  /** The DER SPKI OpenSSL derived from the key (empty when it could not read it). */
  readonly derivedPublicKey: Uint8Array;
}

const KEY_IS_VALID = new TextEncoder().encode("Key is valid\n");

/**
 * Checks many PKCS#8 keys: one `openssl pkey -check -pubout` per key, `parallelism` at a time
 * (default 2), so each key is both checked and has its public key derived in one process.
 */
export async function opensslCheckMany(
  pkcs8Ders: readonly Uint8Array[],
  options: { parallelism?: number } = {},
): Promise<OpensslBatchCheck[]> {
  const results = new Array<OpensslBatchCheck>(pkcs8Ders.length);
  let next = 0;
  const worker = async () => {
    while (next < pkcs8Ders.length) {
      const index = next++;
      results[index] = await _checkAndDerive(pkcs8Ders[index]!);
    }
  };
  await Promise.all(Array.from({ length: options.parallelism ?? 2 }, worker));
  return results;
}

async function _checkAndDerive(pkcs8Der: Uint8Array): Promise<OpensslBatchCheck> {
  const args = ["pkey", "-inform", "DER", "-check", "-pubout", "-outform", "DER"];
  const { code, stdout } = await runOpenssl(args, { stdin: pkcs8Der });
  const valid = code === 0 && _startsWith(stdout, KEY_IS_VALID);
  return { valid, derivedPublicKey: valid ? stdout.slice(KEY_IS_VALID.length) : new Uint8Array() };
}

function _signVerifyArgs(spec: OpensslKeySpec): { sign: string[]; verify: string[] } {
  const digest = DIGEST_FOR_SPEC[spec];
  if (digest === undefined) {
    return {
      sign: ["pkeyutl", "-sign", "-inkey", "key.der", "-keyform", "DER", "-rawin", "-in", "msg"]
        .concat(["-out", "sig"]),
      verify: ["pkeyutl", "-verify", "-pubin", "-inkey", "pub.der", "-keyform", "DER", "-rawin"]
        .concat(["-in", "msg", "-sigfile", "sig"]),
    };
  }
  const sigopt = spec === "SM2" ? ["-sigopt", `distid:${SM2_DEFAULT_DISTID}`] : [];
  return {
    sign: ["dgst", `-${digest}`, "-sign", "key.der", "-keyform", "DER", ...sigopt]
      .concat(["-out", "sig", "msg"]),
    verify: ["dgst", `-${digest}`, "-verify", "pub.der", "-keyform", "DER", ...sigopt]
      .concat(["-signature", "sig", "msg"]),
  };
}

async function _expectSuccess(args: readonly string[], stdin: Uint8Array): Promise<Uint8Array> {
  const result = await runOpenssl(args, { stdin });
  if (result.code !== 0) {
    throw new Error(`openssl ${args.join(" ")} failed (${result.code}): ${result.stderr}`);
  }
  return result.stdout;
}

function _startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

function _text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}
