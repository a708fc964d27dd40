/**
 * The AWS CLI v2 against a real server: create-key, create-alias,
 * generate-data-key, decrypt, generate-data-key-pair(-without-plaintext), key policies and
 * grants, and the China Regions profile with `--region cn-north-1`. Skipped (and said so) when `aws` is not installed;
 * .ci/run installs it.
 */
import assert from "node:assert/strict";
import {
  opensslCheckPrivateKey,
  opensslParsePublicKey,
  opensslPublicFromPrivate,
} from "./helpers/openssl.ts";
import { awsClientEnv, startServer } from "./helpers/server.ts";

/** SM2 keys and data key pairs outside China Regions need the switch (core/region_profile.ts). */
const SM2_EVERYWHERE = { env: { KMS_SM2_ALL_REGIONS: "true" } };

/** The AWS CLI v2 binary: Debian's awscli at /usr/bin/aws (a pyenv shim may shadow it with v1), else `aws`. */
const AWS = Deno.env.get("KMS_TEST_AWS_CLI") ?? "/usr/bin/aws";

async function hasAwsCli(): Promise<boolean> {
  try {
    const { success, stdout } = await new Deno.Command(AWS, {
      args: ["--version"],
      stdout: "piped",
      stderr: "null",
    })
      .output();
    return success && new TextDecoder().decode(stdout).startsWith("aws-cli/2.");
  } catch {
    return false;
  }
}

const available = await hasAwsCli();
if (!available && Deno.env.get("CI") === "true") {
  throw new Error("the AWS CLI v2 is required in CI (.ci/run installs Debian's awscli)");
}

async function aws(
  url: string,
  args: string[],
  region?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const regionArgs = region === undefined ? [] : ["--region", region];
  const output = await new Deno.Command(AWS, {
    args: ["--endpoint-url", url, ...regionArgs, "--output", "json", "kms", ...args],
    env: awsClientEnv(),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

Deno.test({
  name: "AWS CLI creates a key, names it, generates a data key under the alias and decrypts it",
  ignore: !available,
  async fn() {
    const server = await startServer();
    try {
      const created = await aws(server.url, ["create-key", "--description", "cli key"]);
      assert.equal(created.code, 0, created.stderr);
      const keyId = JSON.parse(created.stdout).KeyMetadata.KeyId as string;
      const alias = await aws(server.url, [
        "create-alias",
        "--alias-name",
        "alias/x",
        "--target-key-id",
        keyId,
      ]);
      assert.equal(alias.code, 0, alias.stderr);
      const gdk = await aws(server.url, [
        "generate-data-key",
        "--key-id",
        "alias/x",
        "--key-spec",
        "AES_256",
        "--encryption-context",
        "purpose=cli",
      ]);
      assert.equal(gdk.code, 0, gdk.stderr);
      const dataKey = JSON.parse(gdk.stdout);
      assert.equal(Uint8Array.fromBase64(dataKey.Plaintext).length, 32);
      const dir = await Deno.makeTempDir();
      const blobFile = `${dir}/blob.bin`;
      await Deno.writeFile(blobFile, Uint8Array.fromBase64(dataKey.CiphertextBlob));
      const dec = await aws(server.url, [
        "decrypt",
        "--ciphertext-blob",
        `fileb://${blobFile}`,
        "--encryption-context",
        "purpose=cli",
      ]);
      assert.equal(dec.code, 0, dec.stderr);
      const decrypted = JSON.parse(dec.stdout);
      assert.equal(decrypted.Plaintext, dataKey.Plaintext);
      assert.equal(decrypted.KeyId, dataKey.KeyId);
      const wrong = await aws(server.url, ["decrypt", "--ciphertext-blob", `fileb://${blobFile}`]);
      assert.notEqual(wrong.code, 0);
      assert.match(wrong.stderr, /InvalidCiphertextException/);
      await Deno.remove(dir, { recursive: true });
    } finally {
      await server.close();
    }
  },
});

for (const [spec, curve] of [["SM2", "SM2"], ["ECC_SECG_P256K1", "secp256k1"]] as const) {
  Deno.test({
    name:
      `AWS CLI generate-data-key-pair ${spec} returns keys OpenSSL loads and decrypt returns the private key`,
    ignore: !available,
    async fn() {
      const server = await startServer(SM2_EVERYWHERE);
      const dir = await Deno.makeTempDir();
      try {
        const created = await aws(server.url, ["create-key"]);
        assert.equal(created.code, 0, created.stderr);
        const keyId = JSON.parse(created.stdout).KeyMetadata.KeyId as string;
        const generated = await aws(server.url, [
          "generate-data-key-pair",
          "--key-id",
          keyId,
          "--key-pair-spec",
          spec,
          "--encryption-context",
          "app=cli",
        ]);
        assert.equal(generated.code, 0, generated.stderr);
        const pair = JSON.parse(generated.stdout);
        assert.equal(pair.KeyPairSpec, spec);
        const publicKey = Uint8Array.fromBase64(pair.PublicKey);
        const privateKey = Uint8Array.fromBase64(pair.PrivateKeyPlaintext);
        assert.match(await opensslParsePublicKey(publicKey), new RegExp(`ASN1 OID: ${curve}`));
        const check = await opensslCheckPrivateKey(privateKey);
        assert.ok(check.ok, check.output);
        assert.deepEqual(await opensslPublicFromPrivate(privateKey), publicKey);
        const blobFile = `${dir}/private.bin`;
        await Deno.writeFile(blobFile, Uint8Array.fromBase64(pair.PrivateKeyCiphertextBlob));
        const dec = await aws(server.url, [
          "decrypt",
          "--ciphertext-blob",
          `fileb://${blobFile}`,
          "--encryption-context",
          "app=cli",
        ]);
        assert.equal(dec.code, 0, dec.stderr);
        assert.equal(JSON.parse(dec.stdout).Plaintext, pair.PrivateKeyPlaintext);
        const without = await aws(server.url, [
          "generate-data-key-pair-without-plaintext",
          "--key-id",
          keyId,
          "--key-pair-spec",
          spec,
        ]);
        assert.equal(without.code, 0, without.stderr);
        const withoutPair = JSON.parse(without.stdout);
        assert.equal(withoutPair.PrivateKeyPlaintext, undefined);
        assert.match(
          await opensslParsePublicKey(Uint8Array.fromBase64(withoutPair.PublicKey)),
          new RegExp(`ASN1 OID: ${curve}`),
        );
      } finally {
        await Deno.remove(dir, { recursive: true });
        await server.close();
      }
    },
  });
}

Deno.test({
  name: "AWS CLI puts and gets a key policy, creates, lists and revokes a grant",
  ignore: !available,
  async fn() {
    const server = await startServer();
    try {
      const created = await aws(server.url, ["create-key"]);
      assert.equal(created.code, 0, created.stderr);
      const keyId = JSON.parse(created.stdout).KeyMetadata.KeyId as string;
      const policy = JSON.stringify({
        Version: "2012-10-17",
        Statement: [{
          Sid: "Enable IAM User Permissions",
          Effect: "Allow",
          Principal: { AWS: "arn:aws:iam::111122223333:root" },
          Action: "kms:*",
          Resource: "*",
        }],
      });
      const put = await aws(server.url, [
        "put-key-policy",
        "--key-id",
        keyId,
        "--policy-name",
        "default",
        "--policy",
        policy,
      ]);
      assert.equal(put.code, 0, put.stderr);
      const got = await aws(server.url, [
        "get-key-policy",
        "--key-id",
        keyId,
        "--policy-name",
        "default",
      ]);
      assert.equal(got.code, 0, got.stderr);
      assert.deepEqual(JSON.parse(JSON.parse(got.stdout).Policy), JSON.parse(policy));
      const grant = await aws(server.url, [
        "create-grant",
        "--key-id",
        keyId,
        "--grantee-principal",
        "arn:aws:iam::111122223333:user/someone",
        "--operations",
        "Decrypt",
        "Encrypt",
        "--constraints",
        "EncryptionContextSubset={team=edge}",
        "--name",
        "cli-grant",
      ]);
      assert.equal(grant.code, 0, grant.stderr);
      const { GrantId, GrantToken } = JSON.parse(grant.stdout);
      assert.match(GrantId, /^[0-9a-f]{64}$/);
      assert.ok(GrantToken.length > 0);
      const listed = await aws(server.url, ["list-grants", "--key-id", keyId]);
      assert.equal(listed.code, 0, listed.stderr);
      const grants = JSON.parse(listed.stdout).Grants;
      assert.equal(grants.length, 1);
      assert.deepEqual(grants[0].Constraints, { EncryptionContextSubset: { team: "edge" } });
      assert.deepEqual(grants[0].Operations, ["Decrypt", "Encrypt"]);
      const revoked = await aws(server.url, [
        "revoke-grant",
        "--key-id",
        keyId,
        "--grant-id",
        GrantId,
      ]);
      assert.equal(revoked.code, 0, revoked.stderr);
      const malformed = await aws(server.url, [
        "put-key-policy",
        "--key-id",
        keyId,
        "--policy-name",
        "default",
        "--policy",
        "{}",
      ]);
      assert.notEqual(malformed.code, 0);
      assert.match(malformed.stderr, /MalformedPolicyDocumentException/);
    } finally {
      await server.close();
    }
  },
});

Deno.test({
  name:
    "AWS CLI with --region cn-north-1: create-key gives an arn:aws-cn key whose encrypt, decrypt, generate-data-key (16-byte SM4) and describe-key work",
  ignore: !available,
  async fn() {
    const server = await startServer({ env: { KMS_REGIONS: "us-east-1,cn-north-1" } });
    const dir = await Deno.makeTempDir();
    const cn = (args: string[]) => aws(server.url, args, "cn-north-1");
    try {
      const created = await cn(["create-key", "--description", "Beijing key"]);
      assert.equal(created.code, 0, created.stderr);
      const { KeyId: keyId, Arn: arn } = JSON.parse(created.stdout).KeyMetadata;
      assert.equal(arn, `arn:aws-cn:kms:cn-north-1:111122223333:key/${keyId}`);

      const described = await cn(["describe-key", "--key-id", arn]);
      assert.equal(described.code, 0, described.stderr);
      const metadata = JSON.parse(described.stdout).KeyMetadata;
      assert.equal(metadata.Arn, arn);
      assert.equal(metadata.KeySpec, "SYMMETRIC_DEFAULT");

      const plaintextFile = `${dir}/plaintext.txt`;
      await Deno.writeTextFile(plaintextFile, "hello from cn-north-1");
      const encrypted = await cn([
        "encrypt",
        "--key-id",
        keyId,
        "--plaintext",
        `fileb://${plaintextFile}`,
      ]);
      assert.equal(encrypted.code, 0, encrypted.stderr);
      const { CiphertextBlob, KeyId } = JSON.parse(encrypted.stdout);
      assert.equal(KeyId, arn);
      assert.equal(Uint8Array.fromBase64(CiphertextBlob)[1], 2, "an SM4-GCM blob (format 2)");
      const blobFile = `${dir}/blob.bin`;
      await Deno.writeFile(blobFile, Uint8Array.fromBase64(CiphertextBlob));
      const decrypted = await cn(["decrypt", "--ciphertext-blob", `fileb://${blobFile}`]);
      assert.equal(decrypted.code, 0, decrypted.stderr);
      const opened = JSON.parse(decrypted.stdout);
      assert.equal(
        new TextDecoder().decode(Uint8Array.fromBase64(opened.Plaintext)),
        "hello from cn-north-1",
      );
      assert.equal(opened.KeyId, arn);

      const dataKey = await cn(["generate-data-key", "--key-id", keyId, "--key-spec", "AES_128"]);
      assert.equal(dataKey.code, 0, dataKey.stderr);
      const generated = JSON.parse(dataKey.stdout);
      assert.equal(Uint8Array.fromBase64(generated.Plaintext).length, 16);
      await Deno.writeFile(blobFile, Uint8Array.fromBase64(generated.CiphertextBlob));
      const reopened = await cn(["decrypt", "--ciphertext-blob", `fileb://${blobFile}`]);
      assert.equal(reopened.code, 0, reopened.stderr);
      assert.equal(JSON.parse(reopened.stdout).Plaintext, generated.Plaintext);

      const sm2 = await aws(server.url, [
        "create-key",
        "--key-spec",
        "SM2",
        "--key-usage",
        "SIGN_VERIFY",
      ]);
      assert.notEqual(sm2.code, 0);
      assert.match(
        sm2.stderr,
        /UnsupportedOperationException.*KeySpec SM2 is not supported in this Region/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
      await server.close();
    }
  },
});
