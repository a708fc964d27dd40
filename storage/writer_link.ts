/**
 * The client end of a writer's message protocol (the database worker's, storage/db_worker_client.ts;
 * the audit worker's, storage/audit_writer.ts): either a dedicated Worker the client starts, or a
 * MessagePort to a writer another thread hosts for several isolates (storage/shared_writer.ts).
 * A client speaks the same protocol over both; only what "stopping" means differs: a Worker is
 * terminated (the next link starts a new one), a port stays open for the next link, since the
 * host outlives the client's view of it.
 *
 * @module
 */

/** Where a client's writer is: a worker script to start, or a port to a shared writer. */
export type WriterTarget = URL | MessagePort;

/** One link to a writer: started by `linkTo`, replaced after a failure. */
export interface WriterLink<Request> {
  post(message: Request): void;
  /** Stops listening: a Worker is terminated, a port is left usable for a later link. */
  drop(): void;
  /** Stops for good: a Worker is terminated, a port closed. */
  close(): void;
}

/** What a link tells its client. */
export interface LinkHandlers<Reply> {
  reply(message: Reply): void;
  /** The writer failed (an uncaught error in a Worker, a message that could not be read). */
  failed(detail: string): void;
}

/** Links to `target`: starts the Worker named `name` from a URL, or listens on a port. */
export function linkTo<Request, Reply>(
  target: WriterTarget,
  name: string,
  handlers: LinkHandlers<Reply>,
): WriterLink<Request> {
  const fail = (event: Event) => {
    event.preventDefault();
    handlers.failed(event instanceof ErrorEvent ? event.message : event.type);
  };
  const onmessage = (event: MessageEvent<Reply>) => handlers.reply(event.data);
  if (target instanceof URL) {
    const worker = new Worker(target, { type: "module", name });
    worker.onmessage = onmessage;
    worker.onerror = fail;
    worker.onmessageerror = fail;
    return {
      post: (message) => worker.postMessage(message),
      drop: () => worker.terminate(),
      close: () => worker.terminate(),
    };
  }
  const port = target;
  port.onmessage = onmessage;
  port.onmessageerror = fail;
  const detach = () => {
    if (port.onmessage === onmessage) port.onmessage = null;
    if (port.onmessageerror === fail) port.onmessageerror = null;
  };
  return {
    post: (message) => port.postMessage(message),
    drop: detach,
    close: () => {
      detach();
      port.close();
    },
  };
}
