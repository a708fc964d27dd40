/**
 * The AWS CLI v2 command equivalent to a KMS call: `aws kms <operation> --<parameter> <value> …`.
 * Blob parameters stay base64, which is what AWS CLI v2 expects by default
 * (`cli_binary_format = base64`); maps such as the encryption context are passed as JSON.
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

/**
 * The CLI command for one call.
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
