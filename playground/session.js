/**
 * The signed-in access key, kept in this tab's session storage only: it is gone when the tab
 * closes and is never written anywhere else. Nothing else the page handles is stored.
 *
 * @module
 */

const STORAGE_KEY = "edge-kms.playground.credentials";

/** @typedef {{ accessKeyId: string, secretAccessKey: string, region: string }} Credentials */

/**
 * The credentials of this tab, if signed in.
 * @returns {Credentials | undefined}
 */
export function loadCredentials() {
  const text = sessionStorage.getItem(STORAGE_KEY);
  if (text === null) return undefined;
  try {
    const value = JSON.parse(text);
    if (
      typeof value?.accessKeyId === "string" && typeof value.secretAccessKey === "string" &&
      typeof value.region === "string"
    ) {
      return value;
    }
  } catch {
    // A damaged entry counts as signed out.
  }
  sessionStorage.removeItem(STORAGE_KEY);
  return undefined;
}

/**
 * Keeps the credentials for this tab.
 * @param {Credentials} credentials
 */
export function saveCredentials(credentials) {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(credentials));
}

/** Forgets the credentials. */
export function clearCredentials() {
  sessionStorage.removeItem(STORAGE_KEY);
}
