/**
 * The crashing database worker (crashing_db_worker.ts: dies after committing the first write
 * that mentions "crash-after-commit") that also cannot be started a second time for the same
 * database file: its `open` creates a marker directory beside the file and fails when the
 * marker is already there. So the client's restart after the crash fails to open, as a worker
 * that cannot restart mid-run would. Only to be loaded as a worker
 * (storage/db_worker_client_test.ts).
 *
 * @module
 */
import "./crashing_db_worker.ts";
import type { DbWorkerReply, DbWorkerRequest } from "../../storage/db_worker_client.ts";
import { localFilePath } from "../../storage/client.ts";

interface WorkerScope {
  onmessage: ((event: MessageEvent<DbWorkerRequest>) => void) | null;
  postMessage(reply: DbWorkerReply): void;
}

const scope = globalThis as unknown as WorkerScope;
const handle = scope.onmessage;

scope.onmessage = (event) => {
  const request = event.data;
  if (request.type === "open") {
    try {
      Deno.mkdirSync(`${localFilePath(request.url)}.started`);
    } catch {
      scope.postMessage({
        type: "failed",
        id: request.id,
        error: {
          name: "Error",
          message: "this database worker starts once",
          code: undefined,
          rawCode: undefined,
        },
      });
      return;
    }
  }
  handle?.(event);
};
