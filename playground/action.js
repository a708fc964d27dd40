/**
 * One user action at a time: clear the result pane, run the action's calls, show each call and
 * stop at the first error, showing AWS's exception name and message.
 *
 * @module
 */
import { callKms } from "./kms_client.js";
import { clearOutput, showError, showExchange } from "./output.js";

/** A problem with what the user typed, found before anything was sent. */
export class InputError extends Error {
  /** @override */
  name = "Not sent";
}

/** Raised by `call` after it has shown an error reply; ends the action quietly. */
class Stopped extends Error {}

let busy = false;

/**
 * Signs, sends and shows one call; returns the parsed reply.
 * With `show: false` the call is made quietly (a table refresh), but its error still shows.
 * @callback Call
 * @param {string} operation
 * @param {Record<string, unknown>} input
 * @param {{ show?: boolean }} [options]
 * @returns {Promise<any>}
 */

/** @type {Call} */
async function call(operation, input, options = {}) {
  const exchange = await callKms(operation, input);
  if (options.show !== false || exchange.error !== undefined) showExchange(exchange);
  if (exchange.error !== undefined) {
    showError(exchange.error);
    throw new Stopped();
  }
  return exchange.data;
}

/**
 * Signs and sends one call without stopping the action on an error reply: the caller decides what
 * an error means (a principal may lack kms:ListKeys or kms:DescribeKey and still use its keys).
 * With `show`, the call appears in the result pane.
 * @param {string} operation
 * @param {Record<string, unknown>} input
 * @param {{ show?: boolean }} [options]
 * @returns {Promise<{ data: any, error: { name: string, message: string } | undefined }>}
 */
export async function attempt(operation, input, options = {}) {
  const exchange = await callKms(operation, input);
  if (options.show === true) showExchange(exchange);
  return { data: exchange.data, error: exchange.error };
}

/**
 * Runs a user action unless one is already running.
 * @param {(call: Call) => Promise<void>} steps
 * @returns {Promise<void>}
 */
export async function perform(steps) {
  if (busy) return;
  busy = true;
  document.body.setAttribute("aria-busy", "true");
  clearOutput();
  try {
    await steps(call);
  } catch (error) {
    if (error instanceof InputError) showError({ name: error.name, message: error.message });
    else if (!(error instanceof Stopped)) showError({ name: "Error", message: String(error) });
  } finally {
    busy = false;
    document.body.removeAttribute("aria-busy");
  }
}
