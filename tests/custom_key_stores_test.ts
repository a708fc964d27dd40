/**
 * Custom key store operations through the AWS SDK, answered as AWS answers an
 * account with no custom key store: an empty list, CustomKeyStoreNotFoundException
 * for any store named, and AccessDeniedException first for a principal whose
 * IAM policies do not allow the action. CreateCustomKeyStore stays unanswered.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  ConnectCustomKeyStoreCommand,
  CreateCustomKeyStoreCommand,
  DeleteCustomKeyStoreCommand,
  DescribeCustomKeyStoresCommand,
  DisconnectCustomKeyStoreCommand,
  UpdateCustomKeyStoreCommand,
} from "@aws-sdk/client-kms";
import { ACCOUNT_ID, errorName, withServer } from "./helpers/server.ts";
import { signedFetch } from "./helpers/signed_fetch.ts";

const BOB = {
  accessKeyId: "AKIABOBCKSTEST000001",
  secretAccessKey: "bob-secret-access-key-000000000000000000",
};

async function withBob(
  fn: Parameters<typeof withServer>[0],
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kms-cks-" });
  const file = `${dir}/principals.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({ principals: [{ accountId: ACCOUNT_ID, userName: "bob", ...BOB }] }),
  );
  try {
    await withServer(fn, { env: { KMS_PRINCIPALS_FILE: file } });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("DescribeCustomKeyStores lists no custom key store", () =>
  withServer(async (server) => {
    const answer = await server.client.send(new DescribeCustomKeyStoresCommand({ Limit: 10 }));
    assert.deepEqual(answer.CustomKeyStores, []);
    assert.equal(answer.Truncated, false);
  }));

Deno.test("DescribeCustomKeyStores of a named store answers CustomKeyStoreNotFoundException", () =>
  withServer(async (server) => {
    for (
      const input of [{ CustomKeyStoreId: "cks-1234567890abcdef0" }, { CustomKeyStoreName: "hsm" }]
    ) {
      assert.equal(
        await errorName(server.client.send(new DescribeCustomKeyStoresCommand(input))),
        "CustomKeyStoreNotFoundException",
      );
    }
    assert.equal(
      await errorName(server.client.send(new DescribeCustomKeyStoresCommand({ Marker: "m" }))),
      "InvalidMarkerException",
    );
  }));

Deno.test("Connect, Disconnect, Update and DeleteCustomKeyStore answer CustomKeyStoreNotFoundException", () =>
  withServer(async (server) => {
    const CustomKeyStoreId = "cks-1234567890abcdef0";
    const calls = [
      server.client.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId })),
      server.client.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId })),
      server.client.send(
        new UpdateCustomKeyStoreCommand({ CustomKeyStoreId, NewCustomKeyStoreName: "renamed" }),
      ),
      server.client.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId })),
    ];
    for (const call of calls) {
      assert.equal(await errorName(call), "CustomKeyStoreNotFoundException");
    }
  }));

Deno.test("a principal without an IAM policy for it is denied a custom key store operation", () =>
  withBob(async (server) => {
    const bob = server.clientFor(BOB);
    assert.equal(
      await errorName(bob.send(new DescribeCustomKeyStoresCommand({}))),
      "AccessDeniedException",
    );
    assert.equal(
      await errorName(
        bob.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: "cks-1234567890abcdef0" })),
      ),
      "AccessDeniedException",
    );
  }));

Deno.test("UpdateCustomKeyStore validates its secret members without quoting them", () =>
  withServer(async (server) => {
    const password = "short";
    const reply = await signedFetch(
      server.url,
      "UpdateCustomKeyStore",
      JSON.stringify({ CustomKeyStoreId: "cks-1", KeyStorePassword: password }),
    );
    assert.equal(reply.status, 400);
    assert.equal(reply.type, "ValidationException");
    assert.ok(
      !(reply.message ?? "").includes(password),
      `the message quotes the password: ${reply.message}`,
    );
  }));

Deno.test("CreateCustomKeyStore is not answered: UnknownOperationException", () =>
  withServer(async (server) => {
    assert.equal(
      await errorName(
        server.client.send(new CreateCustomKeyStoreCommand({ CustomKeyStoreName: "hsm" })),
      ),
      "UnknownOperationException",
    );
  }));
