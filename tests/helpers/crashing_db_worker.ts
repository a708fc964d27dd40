/**
 * The real database worker (storage/db_worker.ts) with one fault injected: the
 * first write transaction whose statements mention "crash-after-commit" runs and
 * commits as usual, and then the worker dies of an uncaught error instead of
 * answering: a worker stopped between its commit and its answer. Only to be
 * loaded as a worker (storage/db_worker_client_test.ts).
 *
 * @module
 */
import "../../storage/db_worker.ts";
import type { DbWorkerReply, DbWorkerRequest } from "../../storage/db_worker_client.ts";

/** Statements whose text or arguments hold this crash the worker after their commit. */
const CRASH_MARKER = "crash-after-commit";

interface WorkerScope {
  onmessage: ((event: MessageEvent<DbWorkerRequest>) => void) | null;
  postMessage(reply: DbWorkerReply): void;
}

const scope = globalThis as unknown as WorkerScope;
const handle = scope.onmessage;
const post = scope.postMessage.bind(scope);
let crashOn: number | undefined;

scope.onmessage = (event) => {
  const request = event.data;
  if (
    crashOn === undefined && request.type === "batch" && request.mode === "write" &&
    JSON.stringify(request.statements).includes(CRASH_MARKER)
  ) {
    crashOn = request.id;
  }
  handle?.(event);
};

scope.postMessage = (reply) => {
  if (reply.id !== crashOn) return post(reply);
  setTimeout(() => {
    throw new Error("the database worker crashed after its commit");
  });
};
