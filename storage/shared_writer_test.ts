/**
 * The main thread's shared writer (storage/shared_writer.ts) serving two isolates' clients over
 * ports: their commits and audit appends go through one connection and one appender (one buffer
 * chain, contiguous, verifying, nothing lost), a port's exactly-once state is its own, and the
 * connection closes with the last port. The clients are the real DbWorkerClient and
 * AuditWorkerSink; the ports are real MessageChannels (host and clients in this thread).
 */
import assert from "node:assert/strict";
import { AuditBuffer } from "../core/audit/buffer.ts";
import { AuditEntry } from "../core/audit/entry.ts";
import { type AuditRecord, recordLine } from "../core/audit/record.ts";
import { SqliteAuditStore } from "./audit_store.ts";
import type { AuditWorkerReply, AuditWorkerRequest } from "./audit_writer.ts";
import { AuditWorkerSink } from "./audit_writer.ts";
import { openDatabase } from "./client.ts";
import { DbWorkerClient } from "./db_worker_client.ts";
import { migrate } from "./migrate.ts";
import { SharedWriter, sharedWriterFor } from "./shared_writer.ts";
import { WriteQueue } from "./write_queue.ts";
import { ConfigError, parseConfig } from "../core/config.ts";
import { waitFor } from "../tests/helpers/wait.ts";

const KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

function record(requestId: string, time: number, operation = "Encrypt"): AuditRecord {
  const entry = new AuditEntry({
    time,
    requestId,
    operation,
    principal: {
      arn: "arn:aws:iam::111122223333:root",
      accountId: "111122223333",
      accessKeyId: "A",
    },
    sourceIp: "127.0.0.1",
    userAgent: "test",
    region: "us-east-1",
  });
  entry.addResource(KEY);
  entry.setDecision("Allow");
  entry.setRequestParameters(operation, { KeyId: KEY });
  entry.succeeded();
  return entry.record();
}

async function migratedDatabase(): Promise<{ dir: string; url: string }> {
  const dir = await Deno.makeTempDir({ prefix: "kms_shared_writer_" });
  const url = `file:${dir}/kms.db`;
  const db = await openDatabase(url);
  await migrate(db);
  db.close();
  return { dir, url };
}

/** What one isolate holds: its database client, its store-like queue, its audit buffer. */
interface IsolateSide {
  db: DbWorkerClient;
  queue: WriteQueue;
  sink: AuditWorkerSink;
  buffer: AuditBuffer;
}

function isolateSide(writer: SharedWriter, url: string): IsolateSide {
  const { ports } = writer.connect();
  const db = new DbWorkerClient(url, { port: ports.db });
  const sink = new AuditWorkerSink(url, ports.audit);
  return {
    db,
    queue: new WriteQueue(db),
    sink,
    buffer: new AuditBuffer(sink, { flushRows: 16, flushIntervalMs: 5 }),
  };
}

Deno.test("two isolates' commits and audit appends through one shared writer: one contiguous buffer chain that verifies, every record stored once, connections closed with the last port", async () => {
  const { dir, url } = await migratedDatabase();
  const writer = new SharedWriter({ db: true, audit: true });
  const sides = [isolateSide(writer, url), isolateSide(writer, url)];
  const reader = await openDatabase(url);
  try {
    await Promise.all(sides.flatMap((side) => [side.db.open(), side.sink.open()]));
    assert.deepEqual(writer.ports, { db: 2, audit: 2 });
    const pushed: string[] = [];
    const committed: string[] = [];
    await Promise.all(sides.map(async (side, isolate) => {
      for (let i = 0; i < 150; i++) {
        const requestId = `isolate${isolate}-${i}`;
        pushed.push(requestId);
        await side.buffer.push(record(requestId, 1_700_000_000_000 + i));
        // State changes commit their records with them (chain 0) through the same writer.
        if (i % 30 === 0) {
          const change = `isolate${isolate}-change-${i}`;
          await side.queue.submit([], [record(change, 1_700_000_000_000 + i, "CreateAlias")]);
          committed.push(change);
        }
      }
    }));
    for (const side of sides) await side.buffer.close();
    for (const side of sides) {
      await side.sink.close();
      await side.db.close();
    }
    assert.deepEqual(writer.ports, { db: 0, audit: 0 });
    const store = new SqliteAuditStore(reader);
    const events = await store.query({ limit: 10_000 });
    const buffered = events.filter((e) => e.chain === 1);
    assert.deepEqual(buffered.map((e) => e.requestId).sort(), [...pushed].sort());
    assert.deepEqual(buffered.map((e) => e.chainSeq), pushed.map((_, i) => i + 1));
    assert.deepEqual(
      events.filter((e) => e.chain === 0).map((e) => e.requestId).sort(),
      [...committed].sort(),
    );
    const verified = await store.verify();
    assert.ok(verified.ok, JSON.stringify(verified));
  } finally {
    reader.close();
    await writer.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/** An audit request without its id (the raw port numbers them). */
type Unnumbered = AuditWorkerRequest extends infer R
  ? R extends { id: number } ? Omit<R, "id"> : never
  : never;

/** Sends raw audit requests on one port and awaits each answer. */
function rawAuditPort(writer: SharedWriter) {
  const { ports } = writer.connect();
  const port = ports.audit!;
  let nextId = 1;
  const waiting = new Map<number, (reply: AuditWorkerReply) => void>();
  port.onmessage = (event: MessageEvent<AuditWorkerReply>) =>
    waiting.get(event.data.id)?.(event.data);
  return {
    ask(request: Unnumbered): Promise<AuditWorkerReply> {
      const id = nextId++;
      const reply = new Promise<AuditWorkerReply>((resolve) => waiting.set(id, resolve));
      port.postMessage({ ...request, id });
      return reply;
    },
    close: () => port.close(),
  };
}

Deno.test("a port opened again re-sends an append without storing it twice, while another port's appends are not taken for it", async () => {
  const { dir, url } = await migratedDatabase();
  const writer = new SharedWriter({ db: false, audit: true });
  const first = rawAuditPort(writer);
  const second = rawAuditPort(writer);
  const reader = await openDatabase(url);
  try {
    // Records are made once: a re-sent batch is the same records (same event ids).
    const made = new Map<string, string>();
    const lines = (ids: string[]) =>
      ids.map((id) => {
        const line = made.get(id) ?? recordLine(record(id, 1_700_000_000_000 + made.size));
        made.set(id, line);
        return line;
      }).join("\n");
    assert.equal((await first.ask({ type: "open", url })).type, "opened");
    assert.equal((await second.ask({ type: "open", url })).type, "opened");
    assert.equal(
      (await first.ask({ type: "append", lines: lines(["a1", "a2"]) })).type,
      "appended",
    );
    assert.equal((await second.ask({ type: "append", lines: lines(["b1"]) })).type, "appended");
    // The first sender got no answer (as far as it knows), opens its port again and re-sends;
    // without waiting for the answer it sends the same batch a third time.
    assert.equal((await first.ask({ type: "open", url })).type, "opened");
    const again = first.ask({ type: "append", lines: lines(["a1", "a2"]) });
    const third = first.ask({ type: "append", lines: lines(["a3"]) });
    assert.equal((await again).type, "appended");
    assert.equal((await third).type, "appended");
    assert.equal((await second.ask({ type: "append", lines: lines(["b2"]) })).type, "appended");
    const stored = (await new SqliteAuditStore(reader).query({ limit: 100 }))
      .filter((e) => e.chain === 1).map((e) => e.requestId);
    assert.deepEqual(stored, ["a1", "a2", "b1", "a3", "b2"]);
    assert.equal((await first.ask({ type: "close" })).type, "closed");
    assert.equal(writer.ports.audit, 1);
    // The other port still appends after the first closed.
    assert.equal((await second.ask({ type: "append", lines: lines(["b3"]) })).type, "appended");
    assert.equal((await second.ask({ type: "close" })).type, "closed");
    assert.equal(writer.ports.audit, 0);
    assert.ok((await new SqliteAuditStore(reader).verify()).ok);
  } finally {
    first.close();
    second.close();
    reader.close();
    await writer.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("audit retention asked for by every isolate runs once in the shared writer: a failing pass is told to one isolate only", async () => {
  const { dir, url } = await migratedDatabase();
  const writer = new SharedWriter({ db: false, audit: true });
  // The export directory is a file: every pass that has records to remove fails.
  const blocker = `${dir}/not-a-dir`;
  await Deno.writeTextFile(blocker, "");
  const errors: string[][] = [[], []];
  const sinks = errors.map((told) =>
    new AuditWorkerSink(url, writer.connect().ports.audit, undefined, {
      policy: { maxAgeMs: 60_000, maxBytes: null },
      exportDir: `${blocker}/export`,
      intervalMs: 20,
      onError: (message) => told.push(message),
    })
  );
  try {
    await sinks[0]!.open();
    await sinks[1]!.open();
    // Records of 2023 are older than a minute: each pass tries to export and remove them.
    await sinks[1]!.appendAudit([record("old-1", 1_700_000_000_000)]);
    await waitFor(() => errors[0]!.length >= 3, "three failed retention passes");
    assert.deepEqual(errors[1], []);
  } finally {
    for (const sink of sinks) await sink.close();
    await writer.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sharedWriterFor: only for several isolates on a local database file, off with KMS_SHARED_WRITER=off", () => {
  const file = { dbUrl: "file:/tmp/kms.db" };
  assert.ok(sharedWriterFor(file, 2) instanceof SharedWriter);
  assert.ok(sharedWriterFor({ ...file, sharedWriter: true }, 2) instanceof SharedWriter);
  assert.equal(sharedWriterFor({ ...file, sharedWriter: false }, 2), undefined);
  assert.equal(sharedWriterFor(file, 1), undefined);
  assert.equal(sharedWriterFor({ dbUrl: "libsql://db.example.com" }, 2), undefined);
  assert.equal(sharedWriterFor({ dbUrl: ":memory:" }, 2), undefined);
  // KMS_DB_WORKER=off: isolates commit on their own threads; audit appends still shared.
  const noDb = sharedWriterFor({ ...file, dbWorker: false }, 2)!;
  const { ports } = noDb.connect();
  assert.equal(ports.db, undefined);
  assert.ok(ports.audit instanceof MessagePort);
  ports.audit.close();
});

Deno.test("KMS_SHARED_WRITER is parsed with the configuration: on by default, off, anything else refused", () => {
  const base = { KMS_DB_URL: "file:/tmp/kms.db" };
  assert.equal(parseConfig(base).sharedWriter, true);
  assert.equal(parseConfig({ ...base, KMS_SHARED_WRITER: "off" }).sharedWriter, false);
  assert.throws(() => parseConfig({ ...base, KMS_SHARED_WRITER: "yes" }), ConfigError);
});
