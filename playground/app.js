/**
 * The playground's entry point: sign in and out, and wiring of the panels. Credentials live in
 * session storage (this tab only); plaintexts and private keys live only in the page and are
 * removed on "Clear results", on signing out and when the page is left or closed.
 *
 * @module
 */
import { perform } from "./action.js";
import { initConfirm } from "./confirm.js";
import { byId, h, setValue, valueOf } from "./dom.js";
import { initKeys, refreshKeys, resetKeys } from "./keys.js";
import { clearSecrets, initOperations, useKey } from "./operations.js";
import { callKms } from "./kms_client.js";
import { clearOutput } from "./output.js";
import { clearCredentials, loadCredentials, saveCredentials } from "./session.js";

/** Shows the workspace (signed in) or the sign-in form. */
function showSignedIn() {
  const credentials = loadCredentials();
  const signedIn = credentials !== undefined;
  byId("login").hidden = signedIn;
  byId("workspace").hidden = !signedIn;
  byId("sign-out").hidden = !signedIn;
  byId("clear").hidden = !signedIn;
  byId("identity").textContent = signedIn
    ? `Signed in as ${credentials.accessKeyId} · ${credentials.region}`
    : "Not signed in";
}

/** Removes every plaintext and private key the page shows or holds. */
function clearAll() {
  clearOutput();
  clearSecrets();
}

/**
 * Replies that prove the access key and its signature were accepted: the call was authenticated,
 * whatever the principal may do. A principal without kms:ListKeys signs in all the same.
 */
const AUTHENTICATED = new Set([undefined, "AccessDeniedException"]);

/** Checks the typed access key with ListKeys and keeps it when KMS authenticated it. */
async function signIn() {
  const credentials = {
    accessKeyId: valueOf("access-key-id").trim(),
    secretAccessKey: valueOf("secret-access-key").trim(),
    region: valueOf("region").trim() || "us-east-1",
  };
  const error = byId("login-error");
  error.hidden = true;
  saveCredentials(credentials);
  const check = await callKms("ListKeys", { Limit: 1 });
  if (!AUTHENTICATED.has(check.error?.name)) {
    clearCredentials();
    error.replaceChildren(
      h("strong", { class: "error-name" }, check.error?.name ?? ""),
      h("span", { class: "error-message" }, check.error?.message ?? ""),
    );
    error.hidden = false;
    return;
  }
  setValue("secret-access-key", "");
  showSignedIn();
  await perform((call) => refreshKeys(call, { show: true }));
}

function signOut() {
  clearCredentials();
  clearAll();
  resetKeys();
  // The next access key starts from nothing the previous one chose.
  setValue("op-key-id", "");
  setValue("use-key-id", "");
  showSignedIn();
}

function main() {
  if (!globalThis.isSecureContext || globalThis.crypto?.subtle === undefined) {
    byId("insecure").hidden = false;
  }
  initConfirm();
  initKeys({ onDescribed: useKey });
  initOperations();
  byId("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    void signIn();
  });
  byId("sign-out").addEventListener("click", signOut);
  byId("clear").addEventListener("click", clearAll);
  // Leaving the page (closing the tab, navigating, bfcache): drop what was shown.
  addEventListener("pagehide", clearAll);
  showSignedIn();
  if (loadCredentials() !== undefined) void perform((call) => refreshKeys(call, { show: true }));
}

main();
