/**
 * Sends one KMS call the way every AWS client does: AWS JSON 1.1 to POST / of this origin,
 * signed with SigV4 (service "kms") in the browser by aws4fetch. The page has no other way in.
 *
 * @module
 */
import { AwsClient } from "./vendor/aws4fetch.js";
import { loadCredentials } from "./session.js";

/**
 * @typedef {object} Exchange  One call, as sent and as answered.
 * @property {string} operation
 * @property {Record<string, unknown>} input
 * @property {{ method: string, url: string, headers: [string, string][], body: string }} request
 * @property {{ status: number, statusText: string, headers: [string, string][], body: string } | undefined} response
 * @property {any} data  the parsed JSON reply of a successful call
 * @property {{ name: string, message: string } | undefined} error  AWS's exception name and message
 * @property {number} milliseconds
 */

/** The endpoint: this page's own origin. */
export function endpoint() {
  return location.origin;
}

/**
 * The exception name of an error reply: `__type` without a namespace, else `x-amzn-ErrorType`.
 * @param {any} data
 * @param {Headers} headers
 * @param {number} status
 * @returns {string}
 */
function errorName(data, headers, status) {
  const type = typeof data?.__type === "string"
    ? data.__type
    : (headers.get("x-amzn-errortype") ?? "");
  const name = type.split("#").pop()?.split(":")[0] ?? "";
  return name === "" ? `HTTP ${status}` : name;
}

/**
 * Signs and sends `operation` with `input` as its JSON body.
 * @param {string} operation  e.g. "CreateKey"
 * @param {Record<string, unknown>} input
 * @returns {Promise<Exchange>}
 */
export async function callKms(operation, input) {
  const credentials = loadCredentials();
  const url = `${endpoint()}/`;
  const body = JSON.stringify(input);
  /** @type {Exchange} */
  const exchange = {
    operation,
    input,
    request: { method: "POST", url, headers: [], body },
    response: undefined,
    data: undefined,
    error: undefined,
    milliseconds: 0,
  };
  if (credentials === undefined) {
    exchange.error = { name: "Not signed in", message: "Sign in with an access key first." };
    return exchange;
  }
  const client = new AwsClient({ ...credentials, service: "kms", retries: 0 });
  let signed;
  try {
    signed = await client.sign(url, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": `TrentService.${operation}`,
      },
      body,
      // aws4fetch leaves content-type unsigned by default; KMS wants it signed like the CLI does.
      aws: { allHeaders: true },
    });
  } catch (error) {
    // Web Crypto is missing outside secure contexts (plain http on a non-local host).
    exchange.error = { name: "SigningError", message: String(error) };
    return exchange;
  }
  exchange.request.headers = [...signed.headers];
  const started = performance.now();
  let response;
  try {
    response = await fetch(signed);
  } catch (error) {
    exchange.error = { name: "NetworkError", message: String(error) };
    return exchange;
  }
  const text = await response.text();
  exchange.milliseconds = Math.round(performance.now() - started);
  exchange.response = {
    status: response.status,
    statusText: response.statusText,
    headers: [...response.headers],
    body: text,
  };
  let data;
  try {
    data = JSON.parse(text);
  } catch {
    data = undefined;
  }
  if (response.ok) {
    exchange.data = data ?? {};
  } else {
    exchange.error = {
      name: errorName(data, response.headers, response.status),
      message: String(data?.message ?? data?.Message ?? text),
    };
  }
  return exchange;
}
