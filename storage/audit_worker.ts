/**
 * The Worker entry of `audit_writer.ts`: serves the worker's own scope with an
 * AuditWriterHost (storage/audit_writer_host.ts), so that the buffer chain's
 * SQL, hashing and fsync run beside the request thread instead of on it
 * (exactly-once appends and retention: see the host).
 *
 * Not to be imported: it installs the worker's message handler when loaded.
 *
 * @module
 */
import type { AuditWorkerReply, AuditWorkerRequest } from "./audit_writer.ts";
import { AuditWriterHost } from "./audit_writer_host.ts";
import type { HostPort } from "./db_writer_host.ts";

new AuditWriterHost().serve(
  globalThis as unknown as HostPort<AuditWorkerRequest, AuditWorkerReply>,
);
