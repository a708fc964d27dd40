/**
 * Headless Chromium for end-to-end tests of the browser playground: Debian's `chromium`
 * (installed by .ci/run) driven by playwright-core. Tests skip, and say so, when it is missing,
 * except in CI, where a missing browser is a failure.
 *
 * @module
 */
import { type Browser, chromium } from "playwright-core";
import { fileURLToPath } from "node:url";

/** The Chromium binary: Debian's by default, `KMS_TEST_CHROMIUM` to use another. */
export const CHROMIUM = Deno.env.get("KMS_TEST_CHROMIUM") ?? "/usr/bin/chromium";

/** Whether the Chromium binary exists. */
export async function hasChromium(): Promise<boolean> {
  try {
    return (await Deno.stat(CHROMIUM)).isFile;
  } catch {
    return false;
  }
}

/**
 * Whether browser tests run here; throws in CI (`CI=true`) when Chromium is missing.
 * @throws {Error} in CI without Chromium.
 */
export async function chromiumForTests(): Promise<boolean> {
  const available = await hasChromium();
  if (!available && Deno.env.get("CI") === "true") {
    throw new Error(
      `Chromium is required in CI at ${CHROMIUM} (.ci/run installs Debian's chromium)`,
    );
  }
  if (!available) {
    console.warn(`skipping browser tests: no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  }
  return available;
}

/** Launches headless Chromium without a sandbox or GPU (containers, CI). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu"],
  });
}

/** A fresh (emptied) folder for a test's output under tests/output/<name>/. */
export async function outputDir(name: string): Promise<string> {
  const dir = fileURLToPath(new URL(`../output/${name}/`, import.meta.url));
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true });
  return dir;
}
