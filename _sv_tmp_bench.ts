import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SecretBytes } from "./core/secret.ts";
import { verifySigV4, type SignedRequest } from "./routes/sigv4.ts";
const AK = "AKIAIOSFODNN7EXAMPLE", SK = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const NOW = Date.UTC(2015, 7, 30, 12, 36, 0);
const body = JSON.stringify({ KeyId: "alias/x", Plaintext: "A".repeat(4096 - 40) });
const cred = { accessKeyId: AK, secretAccessKey: new SecretBytes(new TextEncoder().encode(SK)), accountId: "1", principalArn: "a", enabled: true, createdAt: 0 };
async function make(applyChecksum: boolean): Promise<SignedRequest> {
  const s = new SignatureV4({ credentials: { accessKeyId: AK, secretAccessKey: SK }, region: "eu-west-1", service: "kms", sha256: Sha256, applyChecksum });
  const r = await s.sign({ method: "POST", protocol: "https:", hostname: "kms.eu-west-1.amazonaws.com", path: "/", query: {}, headers: {
    host: "kms.eu-west-1.amazonaws.com", "content-type": "application/x-amz-json-1.1", "x-amz-target": "TrentService.Encrypt",
    "x-amz-user-agent": "aws-sdk-js/3.1160.0", "amz-sdk-invocation-id": crypto.randomUUID(), "amz-sdk-request": "attempt=1; max=3", "content-length": String(body.length) }, body } as any, { signingDate: new Date(NOW) });
  return { method: "POST", url: "https://kms.eu-west-1.amazonaws.com/", headers: new Headers(r.headers as Record<string,string>), body: new TextEncoder().encode(body) };
}
const opts = { region: "eu-west-1", service: "kms", now: NOW, requiredSignedHeaders: ["host", "x-amz-target", "content-type"], lookupCredential: () => cred };
for (const cs of [true, false]) {
  const req = await make(cs);
  console.log("body bytes", req.body.length);
  for (let i = 0; i < 5000; i++) await verifySigV4(req, opts);
  for (let round = 0; round < 3; round++) {
    const N = 50000;
    const t = performance.now();
    for (let i = 0; i < N; i++) await verifySigV4(req, opts);
    console.log(`x-amz-content-sha256=${cs}: ${((performance.now() - t) / N * 1000).toFixed(1)} us/verify`);
  }
}
