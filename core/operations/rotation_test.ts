/**
 * The rotation family (core/operations/rotation.ts) and the scheduler in process: the scheduler's
 * looks are `runDue()` calls the test makes after moving the clock, so nothing waits on a timer
 * (tests/helpers/in_process.ts). The HTTP tests (tests/rotation_test.ts) keep the protocol and
 * the scheduler's own timer.
 *
 * @module
 */
import assert from "node:assert/strict";
import { rejectionOf, withInProcessKms } from "../../tests/helpers/in_process.ts";

const DAY = 86_400_000;

Deno.test("a look before the next rotation date rotates nothing; the first look past it rotates the key once and moves the date one period on", () =>
  withInProcessKms(async ({ call, clock, service }) => {
    const scheduler = service.rotationSchedulers[0]!;
    const KeyId = (await call("CreateKey")).KeyMetadata.KeyId;
    const start = clock.now();
    await call("EnableKeyRotation", { KeyId, RotationPeriodInDays: 90 });
    clock.advance(90 * DAY - 1);
    assert.deepEqual(await scheduler.runDue(), { rotated: [], lost: 0 });
    clock.advance(1);
    assert.deepEqual(await scheduler.runDue(), { rotated: [KeyId], lost: 0 });
    assert.deepEqual(await scheduler.runDue(), { rotated: [], lost: 0 }, "once, not per look");
    const status = await call("GetKeyRotationStatus", { KeyId });
    assert.equal(new Date(status.NextRotationDate).getTime(), start + 180 * DAY);
    const { Rotations } = await call("ListKeyRotations", { KeyId });
    assert.equal(Rotations.length, 1);
    assert.equal(Rotations[0].RotationType, "AUTOMATIC");
  }));

Deno.test("a rotation gives the key new current material and a ciphertext made before it still decrypts", () =>
  withInProcessKms(async ({ call, clock, service }) => {
    const KeyId = (await call("CreateKey")).KeyMetadata.KeyId;
    const Plaintext = new TextEncoder().encode("before").toBase64();
    const before = (await call("Encrypt", { KeyId, Plaintext })).CiphertextBlob;
    const firstMaterial = (await call("DescribeKey", { KeyId })).KeyMetadata.CurrentKeyMaterialId;
    await call("EnableKeyRotation", { KeyId, RotationPeriodInDays: 90 });
    clock.advance(91 * DAY);
    await service.rotationSchedulers[0]!.runDue();
    const secondMaterial = (await call("DescribeKey", { KeyId })).KeyMetadata.CurrentKeyMaterialId;
    assert.notEqual(secondMaterial, firstMaterial);
    const opened = await call("Decrypt", { CiphertextBlob: before.toBase64() });
    assert.equal(new TextDecoder().decode(opened.Plaintext.expose()), "before");
  }));

Deno.test("the scheduler skips a disabled key; enabled again long past its date, one look rotates it once", () =>
  withInProcessKms(async ({ call, clock, service }) => {
    const scheduler = service.rotationSchedulers[0]!;
    const KeyId = (await call("CreateKey")).KeyMetadata.KeyId;
    await call("EnableKeyRotation", { KeyId, RotationPeriodInDays: 90 });
    await call("DisableKey", { KeyId });
    clock.advance(400 * DAY);
    assert.deepEqual((await scheduler.runDue()).rotated, []);
    await call("EnableKey", { KeyId });
    assert.deepEqual((await scheduler.runDue()).rotated, [KeyId]);
    assert.deepEqual((await scheduler.runDue()).rotated, []);
    const status = await call("GetKeyRotationStatus", { KeyId });
    assert.equal(new Date(status.NextRotationDate).getTime(), clock.now() + 90 * DAY);
  }));

Deno.test("RotateKeyOnDemand adds an ON_DEMAND rotation and leaves the automatic schedule as it was", () =>
  withInProcessKms(async ({ call, clock }) => {
    const KeyId = (await call("CreateKey")).KeyMetadata.KeyId;
    const start = clock.now();
    await call("EnableKeyRotation", { KeyId, RotationPeriodInDays: 90 });
    clock.advance(DAY);
    await call("RotateKeyOnDemand", { KeyId });
    const { Rotations } = await call("ListKeyRotations", { KeyId });
    assert.deepEqual(Rotations.map((r: { RotationType: string }) => r.RotationType), ["ON_DEMAND"]);
    const status = await call("GetKeyRotationStatus", { KeyId });
    assert.equal(new Date(status.NextRotationDate).getTime(), start + 90 * DAY);
  }));

Deno.test("RotationPeriodInDays outside 90..2560 is a ValidationException and leaves rotation off", () =>
  withInProcessKms(async ({ call }) => {
    const KeyId = (await call("CreateKey")).KeyMetadata.KeyId;
    for (const RotationPeriodInDays of [89, 2561]) {
      assert.equal(
        await rejectionOf(call("EnableKeyRotation", { KeyId, RotationPeriodInDays })),
        "ValidationException",
        String(RotationPeriodInDays),
      );
    }
    assert.equal((await call("GetKeyRotationStatus", { KeyId })).KeyRotationEnabled, false);
  }));
