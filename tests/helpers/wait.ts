/**
 * The one documented way tests wait: poll a condition until it holds, with a generous deadline.
 * Tests never sleep for a fixed time and then assert; they wait for what they need to see.
 *
 * @module
 */

/** How long `waitFor` keeps looking before it fails (busy 2-core CI machines need slack). */
export const DEFAULT_WAIT_MS = 20_000;

/**
 * Resolves once `check` returns true; polls every `intervalMs` (default 20 ms).
 * @throws {Error} naming `what` when the condition does not hold within `timeoutMs`.
 */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  { timeoutMs = DEFAULT_WAIT_MS, intervalMs = 20 }: { timeoutMs?: number; intervalMs?: number } =
    {},
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!await check()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
