import assert from "node:assert/strict";
import { NotFoundException, UnsupportedOperationException } from "../errors.ts";
import type { Kms, LoadedKey } from "../kms.ts";
import { getKeyLastUsage } from "../operations/key_last_usage.ts";
import type { Caller, KeyRecord } from "../types.ts";
import type { KeyUsage, KeyUsageLog } from "./ports.ts";

const KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab";
const ARN = `arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}`;
const CALLER: Caller = {
  accessKeyId: "AKIA",
  accountId: "111122223333",
  principalArn: "arn:aws:iam::111122223333:root",
  region: "us-east-1",
};

function fakeKms(createdAt: number, log: KeyUsageLog | undefined, calls: string[]) {
  const record = { keyId: KEY_ID, createdAt } as KeyRecord;
  return {
    keyLastUsage: log,
    resolveKey: (
      _caller: Caller,
      keyId: string,
      options: { allowAlias: boolean; action: string },
    ) => {
      calls.push(`resolve ${keyId} ${options.allowAlias} ${options.action}`);
      if (keyId.startsWith("alias/")) return Promise.reject(new NotFoundException("alias"));
      return Promise.resolve({ record, arn: ARN } as LoadedKey);
    },
  } as unknown as Kms;
}

function fakeLog(
  usage: KeyUsage | null,
  trackingStart: number | null,
  calls: string[],
): KeyUsageLog {
  return {
    flush: () => {
      calls.push("flush");
      return Promise.resolve();
    },
    lastUsage: (arn) => {
      calls.push(`lastUsage ${arn}`);
      return Promise.resolve(usage);
    },
    trackingStart: () => Promise.resolve(trackingStart),
  };
}

Deno.test("GetKeyLastUsage flushes the audit buffer, then answers from the log", async () => {
  const calls: string[] = [];
  const usage = { operation: "Encrypt", time: 1_773_253_497_000, eventId: "ev", requestId: "rq" };
  const kms = fakeKms(1_773_253_425_560, fakeLog(usage, 1_700_000_000_000, calls), calls);
  const result = await getKeyLastUsage(kms, CALLER, { KeyId: ARN });
  assert.deepEqual(calls, [
    `resolve ${ARN} false kms:GetKeyLastUsage`,
    "flush",
    `lastUsage ${ARN}`,
  ]);
  assert.deepEqual(result, {
    KeyId: KEY_ID,
    KeyCreationDate: new Date(1_773_253_425_560),
    // The later of tracking start and key creation.
    TrackingStartDate: new Date(1_773_253_425_560),
    KeyLastUsage: {
      Operation: "Encrypt",
      Timestamp: new Date(1_773_253_497_000),
      CloudTrailEventId: "ev",
      KmsRequestId: "rq",
    },
  });
});

Deno.test("GetKeyLastUsage without usage leaves KeyLastUsage out", async () => {
  const calls: string[] = [];
  const kms = fakeKms(1_000, fakeLog(null, 5_000, calls), calls);
  assert.deepEqual(await getKeyLastUsage(kms, CALLER, { KeyId: KEY_ID }), {
    KeyId: KEY_ID,
    KeyCreationDate: new Date(1_000),
    TrackingStartDate: new Date(5_000),
  });
  await assert.rejects(getKeyLastUsage(kms, CALLER, { KeyId: "alias/x" }), NotFoundException);
});

Deno.test("GetKeyLastUsage without an audit log is unsupported", async () => {
  const calls: string[] = [];
  await assert.rejects(
    getKeyLastUsage(fakeKms(1_000, undefined, calls), CALLER, { KeyId: KEY_ID }),
    UnsupportedOperationException,
  );
});
