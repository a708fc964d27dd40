import { generateKeyPairSync } from "node:crypto";
for (
  const [t, o] of [["ed25519", {}], ["ec", { namedCurve: "secp256k1" }], ["ec", {
    namedCurve: "prime256v1",
  }]] as const
) {
  const r = generateKeyPairSync(
    t as "ec",
    {
      ...o,
      publicKeyEncoding: { type: "spki", format: "der" },
      privateKeyEncoding: { type: "pkcs8", format: "der" },
    } as never,
  ) as unknown as { publicKey: Uint8Array; privateKey: Uint8Array };
  const n = (o as { namedCurve?: string }).namedCurve ?? t;
  Deno.writeFileSync(`/tmp/kp/n_${n}.p8`, r.privateKey);
  Deno.writeFileSync(`/tmp/kp/n_${n}.spki`, r.publicKey);
}
