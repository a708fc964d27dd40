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

/**
 * One turn of the event loop: every callback already queued (a resolved write, a zero-delay
 * timer) runs before this resolves. Not a wait for time; use it to check that something did NOT
 * happen in response to an action that would have done it at once.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
