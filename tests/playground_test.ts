/**
 * The browser playground at /playground: its static assets and headers in-process, and end to
 * end in a real headless Chromium (tests/helpers/browser.ts): sign in, create a key and an alias,
 * generate SM2 and ECC_NIST_P256 data key pairs, decrypt their private key blobs, and check what
 * the page shows. A screenshot of each step goes to tests/output/playground/.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
} from "@aws-sdk/client-kms";
import type { Browser, Page } from "playwright-core";
import { chromiumForTests, launchChromium, outputDir } from "./helpers/browser.ts";
import { opensslPublicFromPrivate } from "./helpers/openssl.ts";
import { ADMIN, awsClientEnv, startServer } from "./helpers/server.ts";

/** SM2 keys and data key pairs outside China Regions need the switch (core/region_profile.ts). */
const SM2_EVERYWHERE = { env: { KMS_SM2_ALL_REGIONS: "true" } };

const available = await chromiumForTests();

/** The AWS CLI v2 (Debian's awscli), to run the commands the page offers; optional here. */
const AWS = Deno.env.get("KMS_TEST_AWS_CLI") ?? "/usr/bin/aws";
const hasAwsCli = await new Deno.Command(AWS, {
  args: ["--version"],
  stdout: "piped",
  stderr: "null",
})
  .output().then((o) => o.success && new TextDecoder().decode(o.stdout).startsWith("aws-cli/2."))
  .catch(() => false);

/** The AWS CLI v1 (the `aws` first on PATH here), for the v1 forms the page offers; optional. */
const AWS_V1 = Deno.env.get("KMS_TEST_AWS_CLI_V1") ?? "aws";
const hasAwsCliV1 = await new Deno.Command(AWS_V1, {
  args: ["--version"],
  stdout: "piped",
  stderr: "piped",
})
  .output().then((o) => {
    const text = new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr);
    return o.success && text.startsWith("aws-cli/1.");
  })
  .catch(() => false);

/**
 * Runs a command line the page shows, with `aws` meaning the AWS CLI v2 (or `bin`); returns its
 * JSON output.
 */
async function runShown(command: string, bin = AWS): Promise<Record<string, unknown>> {
  const output = await new Deno.Command("bash", {
    args: ["-c", `${command.replace(/^aws /, `"$AWS_BIN" `)} --output json`],
    env: { ...awsClientEnv(), AWS_BIN: bin },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  assert.equal(output.code, 0, decoder.decode(output.stderr));
  return JSON.parse(decoder.decode(output.stdout));
}

/** The DER bytes of a PEM block. */
function pemDer(pem: string): Uint8Array {
  const body = pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, "").replace(/\s+/g, "");
  return Uint8Array.fromBase64(body);
}

Deno.test("GET /playground serves the page and its modules with a self-only CSP, without auth", async () => {
  const server = await startServer(SM2_EVERYWHERE);
  try {
    const page = await fetch(`${server.url}/playground`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
    const csp = page.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /connect-src 'self'/);
    assert.doesNotMatch(csp, /unsafe/);
    const html = await page.text();
    assert.match(html, /<script type="module" src="\/playground\/app\.js">/);
    // Every file of playground/ is served as it is on disk (routes/playground.ts lists each one).
    const files = [...Deno.readDirSync(new URL("../playground/", import.meta.url))]
      .map((entry) => entry.name).filter((name) => name !== "index.html");
    assert.ok(files.includes("app.js"));
    for (const path of files) {
      const asset = await fetch(`${server.url}/playground/${path}`);
      assert.equal(asset.status, 200, path);
      const type = path.endsWith(".css") ? /^text\/css/ : /^text\/javascript/;
      assert.match(asset.headers.get("content-type") ?? "", type, path);
      assert.equal(asset.headers.get("x-content-type-options"), "nosniff");
      const disk = await Deno.readTextFile(new URL(`../playground/${path}`, import.meta.url));
      assert.equal(await asset.text(), disk, path);
    }
    const signer = await (await fetch(`${server.url}/playground/vendor/aws4fetch.js`)).text();
    assert.match(signer, /export \{ AwsClient, AwsV4Signer \}/);
    const missing = await fetch(`${server.url}/playground/nothing.js`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    // GET / points browsers to the playground; POST / stays the API.
    const root = await fetch(`${server.url}/`, { redirect: "manual" });
    assert.equal(root.status, 302);
    assert.equal(root.headers.get("location"), "/playground");
    assert.match(await root.text(), /href="\/playground"/);
  } finally {
    await server.close();
  }
});

/** A playground tab on a fresh browser context, with its step screenshots and page errors. */
interface Tab {
  page: Page;
  /** Saves a full-page screenshot as `<dir>/<step>.png`. */
  shot(step: string): Promise<unknown>;
  /** Script errors and console errors other than Chromium's notes on 4xx replies. */
  problems: string[];
}

async function openTab(
  browser: Browser,
  url: string,
  dir: string,
  width = 1280,
): Promise<Tab> {
  const context = await browser.newContext({
    viewport: { width, height: width < 600 ? 844 : 900 },
    acceptDownloads: true,
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
      problems.push(`console: ${message.text()}`);
    }
  });
  await page.goto(`${url}/playground`);
  return {
    page,
    problems,
    shot: (step) => page.screenshot({ path: `${dir}/${step}.png`, fullPage: true }),
  };
}

async function signIn(page: Page): Promise<void> {
  await page.getByLabel("Access key ID").fill(ADMIN.accessKeyId);
  await page.getByLabel("Secret access key").fill(ADMIN.secretAccessKey);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText(`Signed in as ${ADMIN.accessKeyId}`).waitFor();
}

/** Creates a key through the page and returns the key id it shows. */
async function createKey(page: Page, spec: string, description: string): Promise<string> {
  await page.getByLabel("Key spec", { exact: true }).first().selectOption(spec);
  await page.getByLabel("Description").fill(description);
  await page.getByRole("button", { name: "Create key" }).click();
  await page.getByRole("heading", { name: "Key created" }).waitFor();
  return (await shown(page, "KeyId")).trim();
}

/** Chooses an operation, fills its fields (label → value; "true"/"false" for a checkbox) and runs it. */
async function runOperation(
  page: Page,
  operation: string,
  fields: Record<string, string>,
): Promise<void> {
  await page.getByLabel("Operation", { exact: true }).selectOption(operation);
  for (const [label, value] of Object.entries(fields)) {
    const field = page.getByLabel(label, { exact: true });
    const kind = await field.evaluate((e) =>
      e.tagName === "SELECT" ? "select" : e.getAttribute("type")
    );
    if (kind === "select") await field.selectOption(value);
    else if (kind === "checkbox") await field.setChecked(value === "true");
    else await field.fill(value);
  }
  await page.getByRole("button", { name: "Run" }).click();
}

/** The value the result summary shows for an API field. */
async function shown(page: Page, name: string): Promise<string> {
  return await page.locator(`#result dd[data-name="${name}"]`).textContent() ?? "";
}

/** The text of a PEM block the result shows ("Public key (PEM)", "Private key (PEM)"). */
async function shownPem(page: Page, label: string): Promise<string> {
  return await page.getByRole("region", { name: label }).locator("pre").textContent() ?? "";
}

Deno.test({
  name:
    "the playground signs in, creates a key and an alias, generates SM2 and ECC_NIST_P256 data key pairs and decrypts their private keys",
  ignore: !available,
  async fn() {
    const dir = await outputDir("playground");
    const server = await startServer(SM2_EVERYWHERE);
    const browser = await launchChromium();
    try {
      const { page, shot, problems } = await openTab(browser, server.url, dir);

      // 1. Sign in.
      await page.getByLabel("Access key ID").fill(ADMIN.accessKeyId);
      await page.getByLabel("Secret access key").fill(ADMIN.secretAccessKey);
      await shot("01-sign-in");
      await signIn(page);
      await page.getByRole("heading", { name: "Keys", exact: true }).waitFor();
      await shot("02-signed-in");

      // 2. Create a key: the page shows its id, and KMS has it.
      const keyId = await createKey(page, "SYMMETRIC_DEFAULT", "playground key");
      assert.match(keyId, /^[0-9a-f-]{36}$/);
      const described = await server.client.send(new DescribeKeyCommand({ KeyId: keyId }));
      assert.equal(described.KeyMetadata?.Description, "playground key");
      await page.getByRole("button", { name: `Select key ${keyId}` }).waitFor();
      assert.equal(await page.getByLabel("Key ID, ARN or alias").inputValue(), keyId);
      await shot("03-key-created");

      // 3. Create an alias: the table lists it beside the key.
      await page.getByLabel("Alias name").fill("alias/playground");
      await page.getByRole("button", { name: "Create alias" }).click();
      await page.getByRole("heading", { name: "Alias created" }).waitFor();
      const row = page.locator("#keys-body tr", { hasText: keyId });
      await row.locator("td.aliases", { hasText: "alias/playground" }).waitFor();
      await shot("04-alias-created");

      // 4. Data key pairs under the alias, each private key blob decrypted back.
      let step = 5;
      for (const spec of ["SM2", "ECC_NIST_P256"]) {
        await runOperation(page, "GenerateDataKeyPair", {
          "Key ID, ARN or alias": "alias/playground",
          "Key pair spec": spec,
          "Encryption context (JSON object, optional)": '{"purpose": "playground"}',
        });
        await page.getByRole("heading", { name: "GenerateDataKeyPair succeeded" }).waitFor();
        const publicPem = await shownPem(page, "Public key (PEM)");
        const privatePem = await shownPem(page, "Private key (PEM)");
        assert.match(publicPem, /^-----BEGIN PUBLIC KEY-----\n/);
        assert.match(privatePem, /^-----BEGIN PRIVATE KEY-----\n/);
        assert.equal(await shown(page, "KeyPairSpec"), spec);
        assert.equal(await shown(page, "KeyId"), described.KeyMetadata?.Arn);
        const cli = await page.getByLabel("AWS CLI v2 command").textContent() ?? "";
        assert.match(
          cli,
          new RegExp(
            `^aws kms generate-data-key-pair --key-id alias/playground --key-pair-spec ${spec} ` +
              `--encryption-context '\\{"purpose":"playground"\\}' --endpoint-url ${server.url} --region us-east-1$`,
          ),
        );
        const response = await page.getByRole("region", { name: "Response" }).textContent() ?? "";
        assert.match(response, /HTTP 200/);
        assert.match(response, /"PrivateKeyCiphertextBlob"/);
        await shot(`0${step++}-${spec.toLowerCase()}-key-pair`);

        // The public key download is the PEM shown.
        const [download] = await Promise.all([
          page.waitForEvent("download"),
          page.getByRole("button", { name: "Download public key as PEM" }).click(),
        ]);
        assert.equal(download.suggestedFilename(), `${spec.toLowerCase()}-public.pem`);
        assert.equal(await Deno.readTextFile(await download.path()), publicPem);

        await page.getByRole("button", { name: "Decrypt the private key blob" }).click();
        await page.getByRole("heading", { name: "Decrypt succeeded" }).waitFor();
        const decryptedPem = await shownPem(page, "Private key (PEM)");
        assert.equal(decryptedPem, privatePem);
        // OpenSSL derives the shown public key from the decrypted private key.
        assert.deepEqual(await opensslPublicFromPrivate(pemDer(decryptedPem)), pemDer(publicPem));
        const decryptCli = await page.getByLabel("AWS CLI v2 command").textContent() ?? "";
        assert.match(decryptCli, /^aws kms decrypt --key-id /);
        if (hasAwsCli) {
          // The command the page offers does the same thing in the AWS CLI.
          const byCli = await runShown(decryptCli);
          assert.deepEqual(Uint8Array.fromBase64(String(byCli.Plaintext)), pemDer(privatePem));
        }
        await shot(`0${step++}-${spec.toLowerCase()}-private-key-decrypted`);
      }

      // 5. Errors show AWS's exception name and message.
      await runOperation(page, "GetPublicKey", { "Key ID, ARN or alias": "alias/missing" });
      const alert = page.locator("#error");
      await alert.waitFor();
      assert.equal(await alert.locator(".error-name").textContent(), "NotFoundException");
      assert.match(await alert.locator(".error-message").textContent() ?? "", /alias\/missing/);
      await shot("09-error");

      // 6. Only the credentials are stored, in session storage; Clear removes what was shown,
      // and so does leaving the page.
      const stored = await page.evaluate(() => ({
        session: Object.keys(sessionStorage),
        local: Object.keys(localStorage).length,
      }));
      assert.deepEqual(stored, { session: ["edge-kms.playground.credentials"], local: 0 });
      await page.getByRole("button", { name: "Clear results" }).click();
      assert.equal(await page.locator("#result").textContent(), "");
      assert.equal(await page.locator("#exchanges").textContent(), "");
      assert.equal(await page.getByLabel("Ciphertext blob (base64)").inputValue(), "");
      await page.reload();
      await page.getByText(`Signed in as ${ADMIN.accessKeyId}`).waitFor();
      await row.locator("td.aliases", { hasText: "alias/playground" }).waitFor();
      assert.equal(await page.locator("#result").textContent(), "");
      // Another tab has its own session storage: not signed in.
      const other = await page.context().newPage();
      await other.goto(`${server.url}/playground`);
      await other.getByText("Not signed in").waitFor();
      await other.close();
      await page.getByRole("button", { name: "Sign out" }).click();
      assert.equal(await page.evaluate(() => sessionStorage.length), 0);
      await page.getByRole("button", { name: "Sign in" }).waitFor();
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
      await server.close();
    }
  },
});

Deno.test({
  name:
    "the playground encrypts and decrypts text, signs and verifies, reads a public key and changes key state",
  ignore: !available,
  async fn() {
    const dir = await outputDir("playground-operations");
    const server = await startServer(SM2_EVERYWHERE);
    const browser = await launchChromium();
    try {
      const { page, shot, problems } = await openTab(browser, server.url, dir);
      await signIn(page);

      // Encrypt text, then decrypt it back through the follow-up.
      const symmetric = await createKey(page, "SYMMETRIC_DEFAULT", "texts");
      await runOperation(page, "Encrypt", {
        "Key ID, ARN or alias": symmetric,
        "Plaintext": "hello from the browser",
        "Encryption context (JSON object, optional)": '{"app": "playground"}',
      });
      await page.getByRole("heading", { name: "Encrypt succeeded" }).waitFor();
      await page.getByRole("button", { name: "Decrypt the ciphertext blob" }).click();
      await page.getByRole("heading", { name: "Decrypt succeeded" }).waitFor();
      assert.equal(await shown(page, "PlaintextText"), "hello from the browser");
      await shot("01-decrypted-text");

      // A data key without plaintext: no plaintext anywhere in the result.
      await runOperation(page, "GenerateDataKey", {
        "Key ID, ARN or alias": symmetric,
        "Without plaintext": "true",
      });
      await page.getByRole("heading", { name: "GenerateDataKeyWithoutPlaintext succeeded" })
        .waitFor();
      assert.equal(await page.locator('#result dd[data-name="Plaintext"]').count(), 0);
      assert.match(
        await page.getByLabel("AWS CLI v2 command").textContent() ?? "",
        /^aws kms generate-data-key-without-plaintext /,
      );

      // An ECC key picks SIGN_VERIFY; sign, verify, and read its public key.
      await page.getByLabel("Key spec", { exact: true }).first().selectOption("ECC_NIST_P256");
      assert.equal(await page.getByLabel("Key usage").inputValue(), "SIGN_VERIFY");
      const signing = await createKey(page, "ECC_NIST_P256", "signer");
      assert.equal(await page.getByLabel("Signing algorithm").inputValue(), "ECDSA_SHA_256");
      await runOperation(page, "Sign", { "Key ID, ARN or alias": signing, "Message": "sign me" });
      await page.getByRole("heading", { name: "Sign succeeded" }).waitFor();
      await page.getByRole("button", { name: "Verify the signature" }).click();
      await page.getByRole("heading", { name: "The signature is valid" }).waitFor();
      await shot("02-verified");
      await runOperation(page, "GetPublicKey", { "Key ID, ARN or alias": signing });
      await page.getByRole("heading", { name: "GetPublicKey succeeded" }).waitFor();
      assert.match(await shownPem(page, "Public key (PEM)"), /^-----BEGIN PUBLIC KEY-----\n/);
      await shot("03-public-key");

      // Key state: disable, enable, schedule and cancel deletion of the selected key.
      const states: string[] = [];
      for (
        const [action, title] of [
          ["Disable", "Key disabled"],
          ["Enable", "Key enabled"],
          ["Schedule deletion", "Deletion scheduled"],
          ["Cancel deletion", "Deletion cancelled"],
        ] as const
      ) {
        await page.locator("#selected").getByRole("button", { name: action, exact: true }).click();
        if (action === "Disable" || action === "Schedule deletion") {
          // Destructive: the page asks first.
          const dialog = page.locator("#confirm-dialog");
          await dialog.waitFor();
          await dialog.getByRole("button", { name: action === "Disable" ? "Disable key" : action })
            .click();
        }
        await page.getByRole("heading", { name: title }).waitFor();
        states.push(await shown(page, "KeyState"));
      }
      assert.deepEqual(states, ["Disabled", "Enabled", "PendingDeletion", "Disabled"]);
      await shot("04-key-state");
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
      await server.close();
    }
  },
});

/** axe-core (installed from npm), run in the page by the tests below. */
const AXE_SOURCE = await Deno.readTextFile(
  new URL("../node_modules/axe-core/axe.min.js", import.meta.url),
);

/** The serious and critical axe-core violations of what the page shows now. */
async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  return await page.evaluate(async () => {
    // deno-lint-ignore no-explicit-any
    const axe = (globalThis as any).axe;
    // deno-lint-ignore no-explicit-any
    const result = await axe.run((globalThis as any).document, { resultTypes: ["violations"] });
    return result.violations
      .filter((v: { impact: string }) => v.impact === "serious" || v.impact === "critical")
      .map((v: { id: string; impact: string; nodes: { target: string[] }[] }) =>
        `${v.impact} ${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`
      );
  });
}

/**
 * One screen: a screenshot, 0 serious/critical axe-core violations, no horizontal overflow, and
 * "Sign out" inside the viewport when signed in.
 */
async function checkScreen(tab: Tab, name: string): Promise<void> {
  const { page } = tab;
  await tab.shot(name);
  assert.deepEqual(await axeViolations(page), [], `${name}: accessibility`);
  const widths = await page.evaluate(() => {
    // deno-lint-ignore no-explicit-any
    const doc = (globalThis as any).document;
    const root = doc.documentElement;
    const viewport = root.clientWidth as number;
    const wide = [...doc.querySelectorAll("body *")]
      // deno-lint-ignore no-explicit-any
      .filter((e: any) => e.getBoundingClientRect().right > viewport + 0.5)
      // deno-lint-ignore no-explicit-any
      .map((e: any) => `${e.tagName.toLowerCase()}#${e.id}.${e.className}`).slice(0, 8);
    return { page: root.scrollWidth as number, viewport, wide };
  });
  assert.ok(
    widths.page <= widths.viewport,
    `${name}: ${widths.page} px wide in ${widths.viewport}: ${widths.wide.join(", ")}`,
  );
  const signOut = page.getByRole("button", { name: "Sign out" });
  if (await signOut.isVisible()) {
    const box = await signOut.boundingBox();
    assert.ok(box !== null && box.x >= 0 && box.x + box.width <= widths.viewport, name);
  }
}

const LIMITED = {
  accessKeyId: "AKIALIMITEDTEST00001",
  secretAccessKey: "limited-secret-access-key-0000000000000",
};

/** A principal allowed kms:Encrypt and kms:Decrypt only: no ListKeys, no DescribeKey. */
const LIMITED_PRINCIPALS = {
  principals: [{
    accountId: "111122223333",
    userName: "encrypter",
    ...LIMITED,
    policies: {
      crypto: {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: ["kms:Encrypt", "kms:Decrypt"], Resource: "*" }],
      },
    },
  }],
};

for (const width of [390, 1280]) {
  Deno.test({
    name:
      `every playground screen at ${width} px: no serious accessibility violation, no horizontal overflow, and a principal without ListKeys encrypts and decrypts`,
    ignore: !available,
    fn: () => everyScreenAt(width),
  });
}

/** The screens test at one width (1280 also checks its last screen at 360 and 1440 px). */
async function everyScreenAt(width: number): Promise<void> {
  const home = await Deno.makeTempDir({ prefix: "kms-playground-" });
  const principals = `${home}/principals.json`;
  await Deno.writeTextFile(principals, JSON.stringify(LIMITED_PRINCIPALS));
  const server = await startServer({
    env: { KMS_PRINCIPALS_FILE: principals, KMS_SM2_ALL_REGIONS: "true" },
  });
  const browser = await launchChromium();
  try {
    const key = await server.client.send(
      new CreateKeyCommand({ Description: "for the limited principal" }),
    );
    const keyId = key.KeyMetadata!.KeyId!;
    await server.client.send(
      new CreateAliasCommand({ AliasName: "alias/limited", TargetKeyId: keyId }),
    );
    const dir = await outputDir(`playground-screens-${width}`);
    const tab = await openTab(browser, server.url, dir, width);
    const { page } = tab;
    await checkScreen(tab, "01-sign-in");

    // Signed in as the admin: the key table shows state, spec, usage and description.
    await signIn(page);
    const row = page.locator("#keys-body tr", { hasText: keyId });
    await row.waitFor();
    assert.equal(await row.locator('td[data-label="State"]').textContent(), "Enabled");
    assert.equal(
      await row.locator('td[data-label="Key spec"]').textContent(),
      "SYMMETRIC_DEFAULT",
    );
    assert.equal(await row.locator('td[data-label="Usage"]').textContent(), "ENCRYPT_DECRYPT");
    assert.equal(
      await row.locator('td[data-label="Description"]').textContent(),
      "for the limited principal",
    );
    await checkScreen(tab, "02-keys");

    // Disabling asks first; Cancel sends nothing.
    await page.getByRole("button", { name: `Select key ${keyId}` }).click();
    await page.getByRole("heading", { name: "Key selected" }).waitFor();
    await page.locator("#selected").getByRole("button", { name: "Disable", exact: true })
      .click();
    const dialog = page.locator("#confirm-dialog");
    await dialog.waitFor();
    assert.match(await dialog.textContent() ?? "", new RegExp(keyId));
    await checkScreen(tab, "03-confirm-disable");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "hidden" });
    const after = await server.client.send(new DescribeKeyCommand({ KeyId: keyId }));
    assert.equal(after.KeyMetadata?.KeyState, "Enabled");

    // A long blob is folded, with copy and download; CLI v2 and v1 forms are marked.
    await runOperation(page, "Encrypt", {
      "Key ID, ARN or alias": keyId,
      "Plaintext": "fold me",
    });
    await page.getByRole("heading", { name: "Encrypt succeeded" }).waitFor();
    const blobCell = page.locator('#result dd[data-name="CiphertextBlob"]');
    const blob = await blobCell.locator("pre.blob-value").textContent() ?? "";
    assert.ok(blob.length > 96, "the ciphertext blob is long enough to fold");
    assert.equal(await blobCell.locator("pre.blob-value").isVisible(), false);
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      blobCell.getByRole("button", { name: "Download Ciphertext blob" }).click(),
    ]);
    assert.equal(await Deno.readTextFile(await download.path()), blob);
    await blobCell.getByRole("button", { name: "Copy Ciphertext blob" }).waitFor();
    const v2 = await page.getByLabel("AWS CLI v2 command").textContent() ?? "";
    const v1 = await page.getByLabel("AWS CLI v1 command").textContent() ?? "";
    assert.match(v2, /^aws kms encrypt --key-id \S+ --plaintext Zm9sZCBtZQ== /);
    assert.match(v1, /^aws kms encrypt --key-id \S+ --plaintext fileb:\/\/<\(printf %s /);
    if (width === 1280) {
      // Each form does what the page did, in its CLI version.
      for (
        const [command, bin, present] of [[v2, AWS, hasAwsCli], [
          v1,
          AWS_V1,
          hasAwsCliV1,
        ]] as const
      ) {
        if (!present) continue;
        const made = await runShown(command, bin);
        const back = await server.client.send(
          new DecryptCommand({
            CiphertextBlob: Uint8Array.fromBase64(String(made.CiphertextBlob)),
          }),
        );
        assert.equal(new TextDecoder().decode(back.Plaintext), "fold me", command);
      }
    }
    await checkScreen(tab, "04-encrypted-folded");
    await blobCell.locator("summary").click();
    assert.equal(await blobCell.locator("pre.blob-value").isVisible(), true);
    await checkScreen(tab, "05-blob-unfolded");

    // An error.
    await runOperation(page, "Decrypt", { "Ciphertext blob (base64)": "AAAA" });
    await page.locator("#error").waitFor();
    await checkScreen(tab, "06-error");
    await page.getByRole("button", { name: "Sign out" }).click();

    // A principal with Encrypt and Decrypt only: signs in, enters the key, encrypts, decrypts.
    await page.getByLabel("Access key ID").fill(LIMITED.accessKeyId);
    await page.getByLabel("Secret access key").fill(LIMITED.secretAccessKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText(`Signed in as ${LIMITED.accessKeyId}`).waitFor();
    await page.locator("#keys-denied").waitFor();
    assert.equal(await page.locator("#error").isVisible(), false);
    await checkScreen(tab, "07-limited-signed-in");
    await page.getByLabel("Key to use (ID, ARN or alias)").fill("alias/limited");
    await page.getByRole("button", { name: "Use key" }).click();
    await page.getByRole("heading", { name: "Key entered" }).waitFor();
    assert.equal(await page.getByLabel("Key ID, ARN or alias").inputValue(), "alias/limited");
    await runOperation(page, "Encrypt", { "Plaintext": "only encrypt and decrypt" });
    await page.getByRole("heading", { name: "Encrypt succeeded" }).waitFor();
    await page.getByRole("button", { name: "Decrypt the ciphertext blob" }).click();
    await page.getByRole("heading", { name: "Decrypt succeeded" }).waitFor();
    assert.equal(await shown(page, "PlaintextText"), "only encrypt and decrypt");
    await checkScreen(tab, "08-limited-decrypted");
    if (width === 1280) {
      // The ends of the supported range, on the same screen.
      for (const end of [360, 1440]) {
        await page.setViewportSize({ width: end, height: 900 });
        await checkScreen(tab, `09-limited-decrypted-${end}`);
      }
    }
    assert.deepEqual(tab.problems, []);
    await page.context().close();
  } finally {
    await browser.close();
    await server.close();
    await Deno.remove(home, { recursive: true });
  }
}
