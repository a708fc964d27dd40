/**
 * The grant family (core/operations/grants.ts) in process: CreateGrant, ListGrants,
 * ListRetirableGrants, RetireGrant and RevokeGrant on a KMS over `:memory:`
 * (tests/helpers/in_process.ts), with a grantee who has no policy of its own, so whatever it may
 * do it may do by the grant. The HTTP tests (tests/access_control_test.ts) keep the protocol.
 *
 * @module
 */
import assert from "node:assert/strict";
import { rejectionOf, userCaller, withInProcessKms } from "../../tests/helpers/in_process.ts";
import { ACCOUNT_ID } from "../../tests/helpers/server.ts";

const BOB_ARN = `arn:aws:iam::${ACCOUNT_ID}:user/bob`;
const BOB = userCaller("bob");
const PLAINTEXT = new TextEncoder().encode("granted").toBase64();

Deno.test("a grant lets its grantee call exactly the granted operations, until it is revoked", () =>
  withInProcessKms(async ({ call }) => {
    const KeyId = (await call("CreateKey")).KeyMetadata.KeyId;
    assert.equal(
      await rejectionOf(call("Encrypt", { KeyId, Plaintext: PLAINTEXT }, BOB)),
      "AccessDeniedException",
    );
    const { GrantId } = await call("CreateGrant", {
      KeyId,
      GranteePrincipal: BOB_ARN,
      Operations: ["Encrypt"],
    });
    const { CiphertextBlob } = await call("Encrypt", { KeyId, Plaintext: PLAINTEXT }, BOB);
    assert.equal(
      await rejectionOf(call("Decrypt", { CiphertextBlob: CiphertextBlob.toBase64() }, BOB)),
      "AccessDeniedException",
      "Decrypt was not granted",
    );
    await call("RevokeGrant", { KeyId, GrantId });
    assert.equal(
      await rejectionOf(call("Encrypt", { KeyId, Plaintext: PLAINTEXT }, BOB)),
      "AccessDeniedException",
    );
  }));

Deno.test("an EncryptionContextEquals constraint admits the grantee's calls with exactly that context only", () =>
  withInProcessKms(async ({ call }) => {
    const KeyId = (await call("CreateKey")).KeyMetadata.KeyId;
    await call("CreateGrant", {
      KeyId,
      GranteePrincipal: BOB_ARN,
      Operations: ["Encrypt"],
      Constraints: { EncryptionContextEquals: { tenant: "a" } },
    });
    await call("Encrypt", { KeyId, Plaintext: PLAINTEXT, EncryptionContext: { tenant: "a" } }, BOB);
    for (const EncryptionContext of [{ tenant: "b" }, { tenant: "a", extra: "x" }, undefined]) {
      assert.equal(
        await rejectionOf(
          call("Encrypt", {
            KeyId,
            Plaintext: PLAINTEXT,
            ...(EncryptionContext ? { EncryptionContext } : {}),
          }, BOB),
        ),
        "AccessDeniedException",
        JSON.stringify(EncryptionContext),
      );
    }
  }));

Deno.test("CreateGrant with a grantee that is not a principal ARN is a ValidationException and creates no grant", () =>
  withInProcessKms(async ({ call }) => {
    const KeyId = (await call("CreateKey")).KeyMetadata.KeyId;
    assert.equal(
      await rejectionOf(
        call("CreateGrant", { KeyId, GranteePrincipal: "bob", Operations: ["Encrypt"] }),
      ),
      "ValidationException",
    );
    assert.deepEqual((await call("ListGrants", { KeyId })).Grants, []);
  }));

Deno.test("ListGrants pages through every grant of a key once; ListRetirableGrants finds those a principal may retire; RetireGrant removes one", () =>
  withInProcessKms(async ({ call }) => {
    const KeyId = (await call("CreateKey")).KeyMetadata.KeyId;
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const { GrantId } = await call("CreateGrant", {
        KeyId,
        GranteePrincipal: BOB_ARN,
        Operations: ["Encrypt"],
        Name: `grant-${i}`,
        ...(i === 0 ? { RetiringPrincipal: BOB_ARN } : {}),
      });
      ids.add(GrantId);
    }
    const listed: string[] = [];
    let Marker: string | undefined;
    do {
      const page = await call("ListGrants", { KeyId, Limit: 2, ...(Marker ? { Marker } : {}) });
      assert.ok(page.Grants.length <= 2);
      listed.push(...page.Grants.map((grant: { GrantId: string }) => grant.GrantId));
      assert.equal(page.Truncated, page.NextMarker !== undefined);
      Marker = page.NextMarker;
    } while (Marker !== undefined);
    assert.equal(listed.length, 5);
    assert.deepEqual(new Set(listed), ids);

    const retirable = (await call("ListRetirableGrants", { RetiringPrincipal: BOB_ARN })).Grants;
    assert.equal(retirable.length, 1);
    assert.equal(retirable[0].Name, "grant-0");
    await call("RetireGrant", { KeyId, GrantId: retirable[0].GrantId }, BOB);
    const left = (await call("ListGrants", { KeyId })).Grants.map((g: { GrantId: string }) =>
      g.GrantId
    );
    assert.equal(left.length, 4);
    assert.ok(!left.includes(retirable[0].GrantId));
  }));
