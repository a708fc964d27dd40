/**
 * Worker entry of the load generator: each message is a `LoadSpec`, each
 * reply its `LoadResult` (latencies transferred, not copied).
 *
 * @module
 */
import { type LoadSpec, runLoad } from "./load.ts";

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<LoadSpec>) => void) | null;
  postMessage(message: unknown, transfer: Transferable[]): void;
};

scope.onmessage = async (event) => {
  const result = await runLoad(event.data);
  scope.postMessage(result, [result.latencies.buffer]);
};
