/**
 * The Worker entry of `db_worker_client.ts`: serves the worker's own scope with a
 * DbWriterHost (storage/db_writer_host.ts), so that a local database file's
 * statements and a commit's fsync block this thread instead of the request
 * thread. One call at a time, in the order received (see the host).
 *
 * Not to be imported: it installs the worker's message handler when loaded.
 *
 * @module
 */
import type { DbWorkerReply, DbWorkerRequest } from "./db_worker_client.ts";
import { DbWriterHost, type HostPort } from "./db_writer_host.ts";

new DbWriterHost().serve(globalThis as unknown as HostPort<DbWorkerRequest, DbWorkerReply>);
