/**
 * The AWS CLI command equivalent to a KMS call: `aws kms <operation> --<parameter> <value> …`.
 * AWS CLI v2 reads blob parameters as base64 (`cli_binary_format = base64`, its default), so its
 * command passes them as the request carries them. AWS CLI v1 takes a blob parameter's text as the
 * raw bytes, so its form (given only when the call has a blob parameter) reads the decoded bytes
 * with `fileb://` from a bash process substitution. Maps such as the encryption context are JSON
 * in both.
 *
 * @module
 */

/** Parameters the CLI handles itself: it pages through list results on its own. */
const PAGING = new Set(["Marker", "Limit"]);

/**
 * "GenerateDataKeyPair" → "generate-data-key-pair".
 * @param {string} name
 * @returns {string}
 */
export function kebab(name) {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
}

/**
 * Quotes one argument for a POSIX shell, leaving plain words as they are.
 * @param {string} argument
 * @returns {string}
 */
export function shellQuote(argument) {
  return /^[A-Za-z0-9_\-.,/:=@+%]+$/.test(argument)
    ? argument
    : `'${argument.replaceAll("'", `'\\''`)}'`;
}

/** Blob (binary) parameters of the operations the playground sends. */
const BLOBS = new Set([
  "CiphertextBlob",
  "Plaintext",
  "Message",
  "Signature",
  "Mac",
  "PublicKey",
  "EncryptedKeyMaterial",
  "ImportToken",
]);

/**
 * The AWS CLI v1 form of one call, or undefined when it is the same as the v2 command (no blob).
 * @param {string} operation
 * @param {Record<string, unknown>} input  the request body sent
 * @param {{ endpoint: string, region: string }} target
 * @returns {string | undefined}
 */
export function cliV1Command(operation, input, target) {
  if (!Object.keys(input).some((name) => BLOBS.has(name) && input[name] !== undefined)) {
    return undefined;
  }
  /** @type {Record<string, unknown>} */
  const v1 = {};
  const files = new Map();
  for (const [name, value] of Object.entries(input)) {
    if (BLOBS.has(name) && typeof value === "string") {
      const marker = `@@blob-${files.size}@@`;
      files.set(marker, `fileb://<(printf %s ${shellQuote(value)} | base64 -d)`);
      v1[name] = marker;
    } else {
      v1[name] = value;
    }
  }
  let command = cliCommand(operation, v1, target);
  for (const [marker, file] of files) command = command.replace(marker, file);
  return command;
}

/**
 * The AWS CLI v2 command for one call.
 * @param {string} operation  e.g. "GenerateDataKeyPair"
 * @param {Record<string, unknown>} input  the request body sent
 * @param {{ endpoint: string, region: string }} target
 * @returns {string}
 */
export function cliCommand(operation, input, target) {
  const args = ["aws", "kms", kebab(operation)];
  for (const [name, value] of Object.entries(input)) {
    if (value === undefined || PAGING.has(name)) continue;
    if (typeof value === "boolean") {
      args.push(value ? `--${kebab(name)}` : `--no-${kebab(name)}`);
    } else {
      args.push(
        `--${kebab(name)}`,
        typeof value === "object" ? JSON.stringify(value) : String(value),
      );
    }
  }
  args.push("--endpoint-url", target.endpoint, "--region", target.region);
  return args.map(shellQuote).join(" ");
}
