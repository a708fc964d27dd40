/**
 * Where a request's server time goes, measured in isolation in one process:
 * `deno run -A tests/bench/components_bench.ts`. Per call, min / median of
 * several rounds, in µs. Companion to `http_bench.ts` (which measures over
 * HTTP); the components here are the steps of `routes/app.ts`'s request flow
 * and of `core/crypto/symmetric.ts`.
 *
 * @module
 */
import { decodeCiphertextBlob } from "../../core/ciphertext_blob.ts";
import { parseConfig } from "../../core/config.ts";
import { decryptWithKeyMaterial, encryptWithKeyMaterial } from "../../core/crypto/symmetric.ts";
import { canonicalEncryptionContext } from "../../core/encryption_context.ts";
import { SecretBytes } from "../../core/secret.ts";
import type { Credential } from "../../core/types.ts";
import { openService } from "../../main.ts";
import { parseJsonObject, readBody, toWire } from "../../routes/protocol.ts";
import {
  DecryptRequest,
  EncryptRequest,
  GenerateDataKeyRequest,
} from "../../routes/schemas/crypto.ts";
import { verifySigV4 } from "../../routes/sigv4.ts";
import { presign, type PresignedRequest } from "./signing.ts";

const ROUNDS = Number(Deno.env.get("ROUNDS") ?? 7);
const ITERATIONS = Number(Deno.env.get("ITERATIONS") ?? 3000);
const HOST = "127.0.0.1:8080";
const ADMIN = {
  accessKeyId: "AKIABENCHADMIN000001",
  secretAccessKey: "bench-secret-access-key-000000000000000",
};
const REGION = "us-east-1";

/** min / median µs per call of `fn` over ROUNDS rounds of ITERATIONS calls. */
async function measure(
  name: string,
  fn: () => unknown | Promise<unknown>,
  iterations = ITERATIONS,
): Promise<void> {
  for (let i = 0; i < Math.min(500, iterations); i++) await fn();
  const perCall: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < iterations; i++) await fn();
    perCall.push(((performance.now() - t0) * 1000) / iterations);
  }
  perCall.sort((a, b) => a - b);
  const median = perCall[Math.floor(perCall.length / 2)]!;
  console.log(
    `${name.padEnd(68)} ${perCall[0]!.toFixed(1).padStart(7)} / ${
      median.toFixed(1).padStart(7)
    } µs`,
  );
}

function toRequest(path: string, p: PresignedRequest): Request {
  return new Request(`http://${HOST}${path}`, {
    method: "POST",
    headers: p.headers,
    body: p.body,
  });
}

async function main(): Promise<void> {
  const target = { host: HOST, region: REGION, ...ADMIN };
  const credential: Credential = {
    accessKeyId: ADMIN.accessKeyId,
    secretAccessKey: new SecretBytes(new TextEncoder().encode(ADMIN.secretAccessKey)),
    accountId: "111122223333",
    principalArn: "arn:aws:iam::111122223333:root",
    enabled: true,
    createdAt: 0,
  };
  const keyId = crypto.randomUUID();
  const plaintext = crypto.getRandomValues(new Uint8Array(4096));
  const gdk = await presign(target, "GenerateDataKey", {
    KeyId: keyId,
    KeySpec: "AES_256",
    EncryptionContext: { purpose: "bench" },
  });
  const enc = await presign(target, "Encrypt", { KeyId: keyId, Plaintext: plaintext.toBase64() });
  console.log(
    `per call, min / median of ${ROUNDS} rounds × ${ITERATIONS}; ` +
      `GenerateDataKey body ${gdk.body.length} B, Encrypt 4 KiB body ${enc.body.length} B`,
  );

  console.log("\n-- framing");
  await measure("readBody (stream iterator) of Encrypt 4 KiB request", async () => {
    await readBody(toRequest("/", enc));
  });
  await measure("request.bytes() of the same request", async () => {
    await toRequest("/", enc).bytes();
  });
  await measure("new Request(...) alone (baseline of the two above)", () => toRequest("/", enc));
  await measure("parseJsonObject GenerateDataKey", () => parseJsonObject(gdk.body));
  await measure("parseJsonObject Encrypt 4 KiB", () => parseJsonObject(enc.body));

  console.log("\n-- SigV4 verify (routes/sigv4.ts, smithy re-sign), credential cached");
  for (const [name, p] of [["GenerateDataKey", gdk], ["Encrypt 4 KiB", enc]] as const) {
    const headers = new Headers(p.headers);
    const signed = { method: "POST", url: `http://${HOST}/`, headers, body: p.body };
    const opts = {
      region: REGION,
      service: "kms",
      now: Date.now(),
      requiredSignedHeaders: ["host", "x-amz-target", "content-type"],
      lookupCredential: () => credential,
    };
    await measure(
      `verifySigV4 ${name} (SDK headers, x-amz-content-sha256)`,
      () => verifySigV4(signed, opts),
    );
    const noSha = new Headers(p.headers);
    noSha.delete("x-amz-content-sha256");
    const bare = await presignWithout(p, target);
    const bareSigned = {
      method: "POST",
      url: `http://${HOST}/`,
      headers: new Headers(bare.headers),
      body: bare.body,
    };
    await measure(
      `verifySigV4 ${name} (no x-amz-content-sha256: smithy hashes)`,
      () => verifySigV4(bareSigned, opts),
    );
  }

  console.log("\n-- zod schemas");
  const gdkJson = parseJsonObject(gdk.body);
  const encJson = parseJsonObject(enc.body);
  await measure(
    "GenerateDataKeyRequest.safeParse",
    () => GenerateDataKeyRequest.safeParse(gdkJson),
  );
  await measure(
    "EncryptRequest.safeParse (4 KiB base64 decode)",
    () => EncryptRequest.safeParse(encJson),
  );

  console.log("\n-- symmetric crypto (core/crypto/symmetric.ts)");
  const material = new SecretBytes(crypto.getRandomValues(new Uint8Array(32)));
  const context = canonicalEncryptionContext({ purpose: "bench" });
  await measure(
    "canonicalEncryptionContext {purpose: bench}",
    () => canonicalEncryptionContext({ purpose: "bench" }),
  );
  const dataKey = crypto.getRandomValues(new Uint8Array(32));
  await measure(
    "encryptWithKeyMaterial 32 B (GenerateDataKey)",
    () =>
      encryptWithKeyMaterial({ keyId, materialVersion: 1, material, plaintext: dataKey, context }),
  );
  await measure(
    "encryptWithKeyMaterial 4 KiB",
    () => encryptWithKeyMaterial({ keyId, materialVersion: 1, material, plaintext, context }),
  );
  const blobBytes = await encryptWithKeyMaterial({
    keyId,
    materialVersion: 1,
    material,
    plaintext,
    context,
  });
  await measure("decodeCiphertextBlob 4 KiB", () => decodeCiphertextBlob(blobBytes));
  const blob = decodeCiphertextBlob(blobBytes);
  await measure(
    "decryptWithKeyMaterial 4 KiB",
    () => decryptWithKeyMaterial(blob, { material, context }),
  );
  const { hkdf } = await import("@noble/hashes/hkdf.js");
  const { sha256 } = await import("@noble/hashes/sha2.js");
  const { hkdfSync, createCipheriv } = await import("node:crypto");
  const nonce = crypto.getRandomValues(new Uint8Array(16));
  const info = new TextEncoder().encode(`edge-kms/v1/symmetric-encrypt${keyId}`);
  await measure(
    "  HKDF-SHA256 @noble/hashes",
    () => hkdf(sha256, material.expose(), nonce, info, 32),
  );
  await measure(
    "  HKDF-SHA256 node:crypto hkdfSync",
    () => hkdfSync("sha256", material.expose(), nonce, info, 32),
  );
  const key = hkdf(sha256, material.expose(), nonce, info, 32);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  for (const size of [32, 4096]) {
    const data = plaintext.subarray(0, size);
    await measure(`  AES-256-GCM node:crypto createCipheriv ${size} B`, () => {
      const c = createCipheriv("aes-256-gcm", key, iv);
      c.setAAD(context);
      c.update(data);
      c.final();
      return c.getAuthTag();
    });
    await measure(`  AES-256-GCM WebCrypto importKey + encrypt ${size} B (latency)`, async () => {
      const k = await crypto.subtle.importKey("raw", key, "AES-GCM", false, ["encrypt"]);
      const aad = context as Uint8Array<ArrayBuffer>;
      return await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad }, k, data);
    });
  }

  console.log("\n-- reply");
  const reply = {
    CiphertextBlob: blobBytes,
    Plaintext: new SecretBytes(dataKey),
    KeyId: `arn:aws:kms:us-east-1:111122223333:key/${keyId}`,
    KeyMaterialId: "a".repeat(64),
  };
  await measure(
    "toWire + JSON.stringify + new Response (4 KiB blob)",
    () =>
      new Response(JSON.stringify(toWire(reply)), {
        status: 200,
        headers: { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": "x" },
      }),
  );
  await measure("crypto.randomUUID (request id)", () => crypto.randomUUID());

  console.log("\n-- whole app in process (app.fetch, no socket), file database");
  const dir = await Deno.makeTempDir({ prefix: "kms-components-" });
  const service = await openService(
    parseConfig({
      KMS_DB_URL: `file:${dir}/kms.db`,
      KMS_ROOT_KEY: new Uint8Array(32).fill(42).toBase64(),
      KMS_ADMIN_ACCESS_KEY_ID: ADMIN.accessKeyId,
      KMS_ADMIN_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
      KMS_RSA_POOL_2048: "0",
      KMS_RSA_POOL_3072: "0",
      KMS_RSA_POOL_4096: "0",
      KMS_REGION: REGION,
    }),
    { log: () => {} },
  );
  try {
    const created = await service.app.fetch(
      toRequest("/", await presign(target, "CreateKey", { Description: "components" })),
    );
    const realKeyId = ((await created.json()) as { KeyMetadata: { KeyId: string } }).KeyMetadata
      .KeyId;
    const realGdk = await presign(target, "GenerateDataKey", {
      KeyId: realKeyId,
      KeySpec: "AES_256",
      EncryptionContext: { purpose: "bench" },
    });
    const realEnc = await presign(target, "Encrypt", {
      KeyId: realKeyId,
      Plaintext: plaintext.toBase64(),
    });
    const encReply = await service.app.fetch(toRequest("/", realEnc));
    const ciphertext = ((await encReply.json()) as { CiphertextBlob: string }).CiphertextBlob;
    const realDec = await presign(target, "Decrypt", { CiphertextBlob: ciphertext });
    const decParsed = DecryptRequest.safeParse(parseJsonObject(realDec.body));
    if (!decParsed.success) throw new Error("decrypt schema");
    for (
      const [name, p] of [
        ["GenerateDataKey", realGdk],
        ["Encrypt 4 KiB", realEnc],
        ["Decrypt 4 KiB", realDec],
      ] as const
    ) {
      await measure(`app.fetch ${name} (incl. new Request + reading the reply)`, async () => {
        const response = await service.app.fetch(toRequest("/", p));
        if (response.status !== 200) throw new Error(`${name}: ${await response.text()}`);
        await response.arrayBuffer();
      });
    }
    const minimal = minimalHandlerForComparison();
    const minimalRequest: PresignedRequest = {
      headers: { "content-type": "application/x-amz-json-1.1" },
      body: new TextEncoder().encode(
        JSON.stringify({ KeyId: realKeyId, Plaintext: plaintext.toBase64() }),
      ),
    };
    await measure("minimal endpoint handler, same harness", async () => {
      const response = await minimal(toRequest("/__bench/minimal", minimalRequest));
      await response.arrayBuffer();
    });
  } finally {
    await service.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Re-signs `p`'s body without x-amz-content-sha256 (as a client with applyChecksum off). */
async function presignWithout(
  p: PresignedRequest,
  target: { host: string; region: string; accessKeyId: string; secretAccessKey: string },
): Promise<PresignedRequest> {
  const { SignatureV4 } = await import("@smithy/signature-v4");
  const { Sha256 } = await import("@aws-crypto/sha256-js");
  const signer = new SignatureV4({
    credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
    region: target.region,
    service: "kms",
    sha256: Sha256,
    applyChecksum: false,
  });
  const headers = { ...p.headers };
  delete headers["x-amz-content-sha256"];
  delete headers["authorization"];
  delete headers["x-amz-date"];
  delete headers["user-agent"];
  const signed = await signer.sign({
    method: "POST",
    protocol: "http:",
    hostname: "127.0.0.1",
    port: 8080,
    path: "/",
    query: {},
    headers,
    body: p.body,
  }, { signingDate: new Date() });
  return { headers: signed.headers as Record<string, string>, body: p.body };
}

/** About the work of bench_server.ts's minimal endpoint (with Encrypt's schema), without a server. */
function minimalHandlerForComparison(): (request: Request) => Promise<Response> {
  const keyPromise = crypto.subtle.importKey(
    "raw",
    crypto.getRandomValues(new Uint8Array(32)),
    "AES-GCM",
    false,
    ["encrypt"],
  );
  return async (request) => {
    const key = await keyPromise;
    const json = JSON.parse(new TextDecoder().decode(await request.bytes())) as {
      KeyId: string;
      Plaintext: string;
    };
    const parsed = EncryptRequest.safeParse(json);
    if (!parsed.success) return new Response("bad", { status: 400 });
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const sealed = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv },
      key,
      parsed.data.Plaintext.expose() as Uint8Array<ArrayBuffer>,
    );
    return new Response(JSON.stringify({ CiphertextBlob: new Uint8Array(sealed).toBase64() }));
  };
}

if (import.meta.main) await main();
