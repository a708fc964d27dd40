/**
 * The browser playground at /playground: its static assets and headers in-process, and end to
 * end in a real headless Chromium (tests/helpers/browser.ts): sign in, create a key and an alias,
 * generate SM2 and ECC_NIST_P256 data key pairs, decrypt their private key blobs, and check what
 * the page shows. A screenshot of each step goes to tests/output/playground/.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DescribeKeyCommand } from "@aws-sdk/client-kms";
import type { Browser, Page } from "playwright-core";
import { chromiumForTests, launchChromium, outputDir } from "./helpers/browser.ts";
import { opensslPublicFromPrivate } from "./helpers/openssl.ts";
import { ADMIN, awsClientEnv, startServer } from "./helpers/server.ts";

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

/** Runs a command line the page shows, with `aws` meaning the AWS CLI v2; returns its JSON output. */
async function runShown(command: string): Promise<Record<string, unknown>> {
  const output = await new Deno.Command("bash", {
    args: ["-c", `${command.replace(/^aws /, `"$AWS_BIN" `)} --output json`],
    env: { ...awsClientEnv(), AWS_BIN: AWS },
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
  const server = await startServer();
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

async function openTab(browser: Browser, url: string, dir: string): Promise<Tab> {
  const context = await browser.newContext({
    viewport: { width: 1400, height: 1000 },
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
    const server = await startServer();
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
        const cli = await page.getByLabel("AWS CLI command").textContent() ?? "";
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
        const decryptCli = await page.getByLabel("AWS CLI command").textContent() ?? "";
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
    const server = await startServer();
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
        await page.getByLabel("AWS CLI command").textContent() ?? "",
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
        await page.getByRole("button", { name: action, exact: true }).click();
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
