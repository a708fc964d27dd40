import assert from "node:assert/strict";
import { waitFor } from "../tests/helpers/wait.ts";
import {
  accessLineRecord,
  accessLineText,
  accessLogSink,
  JsonLines,
  jsonLog,
  type LineWriter,
} from "./access_log.ts";
import { RequestTrace } from "./metrics.ts";

/** A writer that keeps every write and takes at most `chunk` bytes per call. */
function collector(chunk = Number.POSITIVE_INFINITY): LineWriter & { writes: Uint8Array[] } {
  const writes: Uint8Array[] = [];
  return {
    writes,
    writeSync(bytes) {
      const taken = bytes.slice(0, Math.min(bytes.length, chunk));
      writes.push(taken);
      return taken.length;
    },
  };
}

const text = (writes: Uint8Array[]) => writes.map((w) => new TextDecoder().decode(w)).join("");

Deno.test("queued lines are written later, together, in one write and in order", async () => {
  const writer = collector();
  const lines = new JsonLines(writer);
  lines.write('{"n":1}');
  lines.write('{"n":2}');
  lines.write('{"n":3}');
  assert.equal(writer.writes.length, 0, "nothing is written on the caller's path");
  await waitFor(() => writer.writes.length > 0, "the queued lines written");
  assert.equal(writer.writes.length, 1);
  assert.equal(text(writer.writes), '{"n":1}\n{"n":2}\n{"n":3}\n');
  assert.equal(lines.size, 0);
});

Deno.test("a writer that takes part of the bytes gets the rest, nothing lost or repeated", () => {
  const writer = collector(5);
  const lines = new JsonLines(writer);
  lines.write('{"message":"first"}');
  lines.write('{"message":"second"}');
  lines.flush();
  assert.equal(text(writer.writes), '{"message":"first"}\n{"message":"second"}\n');
});

Deno.test("64 KiB of queued lines are written at once, without waiting for the timer", () => {
  const writer = collector();
  const lines = new JsonLines(writer, { flushMs: 60_000 });
  const line = "x".repeat(1024);
  for (let i = 0; i < 64; i++) lines.write(line);
  assert.equal(writer.writes.length, 1);
  assert.equal(text(writer.writes), (line + "\n").repeat(64));
  lines.flush();
});

Deno.test("jsonLog drops records below its level and stamps the others with an ISO time", () => {
  const writer = collector();
  const lines = new JsonLines(writer);
  const log = jsonLog("warn", lines);
  log({ level: "info", message: "dropped" });
  log({ level: "error", message: "kept" });
  lines.flush();
  const records = text(writer.writes).trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(records.length, 1);
  assert.equal(records[0].message, "kept");
  assert.equal(new Date(records[0].time).toISOString(), records[0].time);
});

Deno.test("no access line sink at KMS_LOG_LEVEL=warn or error or with KMS_ACCESS_LOG=off", () => {
  const log = () => {};
  assert.equal(accessLogSink({ logLevel: "warn" }, log), null);
  assert.equal(accessLogSink({ logLevel: "error" }, log), null);
  assert.equal(accessLogSink({ logLevel: "info", accessLog: false }, log), null);
  assert.notEqual(accessLogSink({ logLevel: "info", accessLog: true }, log), null);
  assert.notEqual(accessLogSink({ logLevel: "debug" }, log), null);
});

function traces(): { trace: RequestTrace; status: number }[] {
  const ok = new RequestTrace({
    requestId: crypto.randomUUID(),
    target: "TrentService.GenerateDataKey",
    sourceIp: "127.0.0.1",
  });
  ok.principalArn = 'arn:aws:iam::111122223333:user/o"brien\\x';
  const refused = new RequestTrace({
    requestId: crypto.randomUUID(),
    target: "TrentService.Nope",
    sourceIp: undefined,
  });
  refused.exception = "UnrecognizedClientException";
  return [{ trace: ok, status: 200 }, { trace: refused, status: 400 }];
}

Deno.test("the access line written as text is the record jsonLog would write, member for member", () => {
  for (const { trace, status } of traces()) {
    const fromText = JSON.parse(accessLineText(trace, status));
    const fromRecord = JSON.parse(
      JSON.stringify({ time: new Date().toISOString(), ...accessLineRecord(trace, status) }),
    );
    assert.deepEqual(Object.keys(fromText), Object.keys(fromRecord));
    for (const key of Object.keys(fromRecord)) {
      if (key === "time" || key === "durationMs") continue;
      assert.equal(fromText[key], fromRecord[key], key);
    }
    assert.equal(typeof fromText.durationMs, "number");
    assert.equal(new Date(fromText.time).toISOString(), fromText.time);
  }
});

Deno.test("a jsonLog sink gets access lines as text in its queue; another sink gets records", () => {
  const writer = collector();
  const lines = new JsonLines(writer);
  const [{ trace, status }] = traces() as [{ trace: RequestTrace; status: number }];
  accessLogSink({ logLevel: "info" }, jsonLog("info", lines))!(trace, status);
  lines.flush();
  assert.equal(JSON.parse(text(writer.writes)).requestId, trace.requestId);
  const records: Record<string, unknown>[] = [];
  accessLogSink({ logLevel: "info" }, (record) => records.push(record))!(trace, status);
  assert.equal(records.length, 1);
  assert.equal(records[0]!.message, "request");
  assert.equal(records[0]!.principalArn, trace.principalArn);
});

Deno.test("lines queued when the process exits are written before it ends", async () => {
  const script = `
    import { jsonLog } from ${JSON.stringify(new URL("./access_log.ts", import.meta.url).href)};
    const log = jsonLog("info");
    for (let i = 0; i < 3; i++) log({ level: "info", message: "line " + i });
    Deno.exit(0);
  `;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const records = new TextDecoder().decode(output.stdout).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
  assert.deepEqual(records.map((r) => r.message), ["line 0", "line 1", "line 2"]);
});
