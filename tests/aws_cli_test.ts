/**
 * The AWS CLI v2 against a real server: create-key, create-alias,
 * generate-data-key, decrypt. Skipped (and said so) when `aws` is not installed;
 * .ci/run installs it.
 */
import assert from "node:assert/strict";
import { awsClientEnv, startServer } from "./helpers/server.ts";

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
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(AWS, {
    args: ["--endpoint-url", url, "--output", "json", "kms", ...args],
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
