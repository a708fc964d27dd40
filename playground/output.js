/**
 * The result pane: the error (AWS's exception name and message), a readable summary with PEM
 * downloads and follow-up actions, and for each call the equivalent AWS CLI command beside the
 * signed request and the raw response. Everything shown here lives in the DOM only and is removed
 * by `clearOutput` (the Clear button, signing out, leaving the page).
 *
 * @module
 */
import { cliCommand, cliV1Command } from "./cli.js";
import { button, byId, h } from "./dom.js";
import { endpoint } from "./kms_client.js";
import { download, downloadText } from "./pem.js";
import { loadCredentials } from "./session.js";

/**
 * @typedef {{ label: string, name: string, value: string }} Row  `name` is the API field name.
 * @typedef {{ label: string, pem: string, filename: string }} PemBlock
 * @typedef {{ text: string, run: () => void }} FollowUp
 * @typedef {{ title: string, rows?: Row[], pems?: PemBlock[], followUps?: FollowUp[] }} Result
 * @typedef {import("./kms_client.js").Exchange} Exchange
 */

/** Removes every result, request and response from the page. */
export function clearOutput() {
  const error = byId("error");
  error.replaceChildren();
  error.hidden = true;
  byId("result").replaceChildren();
  byId("exchanges").replaceChildren();
  byId("output-empty").hidden = false;
  byId("status").textContent = "";
}

/**
 * Says what happened, for screen readers and at a glance.
 * @param {string} text
 */
export function showStatus(text) {
  byId("status").textContent = text;
}

/**
 * Shows an error: AWS's exception name, then its message.
 * @param {{ name: string, message: string }} error
 */
export function showError(error) {
  const box = byId("error");
  box.replaceChildren(
    h("strong", { class: "error-name" }, error.name),
    h("span", { class: "error-message" }, error.message),
  );
  box.hidden = false;
  byId("output-empty").hidden = true;
  showStatus(`Failed: ${error.name}`);
}

/** Values longer than this are folded: a preview, then the whole value on request. */
const FOLD_AT = 96;

/**
 * The `dd` of a row: the value, or for a long one (a blob) a fold with its length, the whole
 * value inside, and buttons to copy it and download it as a file.
 * @param {Row} row
 * @returns {HTMLElement}
 */
function valueCell(row) {
  if (row.value.length <= FOLD_AT) {
    return h("dd", { class: "mono", "data-name": row.name }, row.value);
  }
  const full = h("pre", { class: "mono blob-value", tabindex: "0" }, row.value);
  const copy = /** @type {HTMLButtonElement} */ (button(`Copy ${row.label}`, () => {
    void copyText(full, copy, `Copy ${row.label}`);
  }, "secondary small"));
  return h(
    "dd",
    { class: "mono folded", "data-name": row.name },
    h(
      "details",
      {},
      h(
        "summary",
        {},
        h("span", { class: "preview" }, `${row.value.slice(0, 24)}…`),
        h("span", { class: "length" }, ` ${row.value.length} characters: show all`),
      ),
      full,
    ),
    h(
      "div",
      { class: "buttons" },
      copy,
      button(`Download ${row.label}`, () => {
        downloadText(`${row.name}.b64`, row.value);
      }, "secondary small"),
    ),
  );
}

/**
 * Shows the readable summary of a successful call.
 * @param {Result} result
 */
export function showResult(result) {
  byId("output-empty").hidden = true;
  const parts = [h("h3", {}, result.title)];
  if (result.rows !== undefined && result.rows.length > 0) {
    const list = h("dl", { class: "rows" });
    for (const row of result.rows) {
      list.append(h("dt", {}, row.label), valueCell(row));
    }
    parts.push(list);
  }
  for (const block of result.pems ?? []) {
    const pem = h("pre", { class: "mono", tabindex: "0" }, block.pem);
    const name = block.label.replace(" (PEM)", "").toLowerCase();
    const copy = /** @type {HTMLButtonElement} */ (button(`Copy ${name}`, () => {
      void copyText(pem, copy, `Copy ${name}`);
    }));
    parts.push(
      h(
        "section",
        { class: "pem", "aria-label": block.label },
        h("h4", {}, block.label),
        pem,
        h(
          "div",
          { class: "buttons" },
          button(`Download ${name} as PEM`, () => {
            download(block.filename, block.pem);
          }),
          copy,
        ),
      ),
    );
  }
  if (result.followUps !== undefined && result.followUps.length > 0) {
    parts.push(
      h("div", { class: "buttons" }, ...result.followUps.map((f) => button(f.text, f.run))),
    );
  }
  byId("result").replaceChildren(...parts);
  showStatus(result.title);
}

/**
 * The headers as `name: value` lines.
 * @param {[string, string][]} headers
 * @returns {string}
 */
function headerLines(headers) {
  return headers.map(([name, value]) => `${name}: ${value}`).join("\n");
}

/**
 * The JSON text indented, or as it came when it is not JSON.
 * @param {string} text
 * @returns {string}
 */
function pretty(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/**
 * Copies the element's text, or selects it when the clipboard is not available.
 * @param {HTMLElement} source
 * @param {HTMLButtonElement} copy  the button, which says what happened for a moment
 * @param {string} label  the button's own text
 */
async function copyText(source, copy, label) {
  try {
    await navigator.clipboard.writeText(source.textContent ?? "");
    copy.textContent = "Copied";
  } catch {
    const range = document.createRange();
    range.selectNodeContents(source);
    getSelection()?.removeAllRanges();
    getSelection()?.addRange(range);
    copy.textContent = "Selected: press Ctrl+C";
  }
  setTimeout(() => copy.textContent = label, 2000);
}

/**
 * One CLI command with its copy button.
 * @param {string} version  "v2" or "v1"
 * @param {string} command
 * @returns {HTMLElement}
 */
function cliBlock(version, command) {
  const code = h("code", {}, command);
  const label = `Copy AWS CLI ${version} command`;
  const copy = /** @type {HTMLButtonElement} */ (button(label, () => {
    void copyText(code, copy, label);
  }));
  return h(
    "div",
    { class: "cli" },
    h("span", { class: "cli-version" }, `AWS CLI ${version}`),
    h("pre", { class: "mono", "aria-label": `AWS CLI ${version} command` }, code),
    copy,
  );
}

/**
 * Appends one call: its CLI command, the signed request and the raw response side by side.
 * @param {Exchange} exchange
 */
export function showExchange(exchange) {
  byId("output-empty").hidden = true;
  const region = loadCredentials()?.region ?? "us-east-1";
  const target = { endpoint: endpoint(), region };
  const command = cliCommand(exchange.operation, exchange.input, target);
  const v1 = cliV1Command(exchange.operation, exchange.input, target);
  const status = exchange.response === undefined
    ? "not answered"
    : `HTTP ${exchange.response.status} · ${exchange.milliseconds} ms`;
  const request = exchange.request;
  const requestText = `${request.method} ${request.url}\n${headerLines(request.headers)}\n\n${
    pretty(request.body)
  }`;
  const response = exchange.response;
  const responseText = response === undefined
    ? exchange.error?.message ?? ""
    : `HTTP ${response.status} ${response.statusText}\n${headerLines(response.headers)}\n\n${
      pretty(response.body)
    }`;
  byId("exchanges").append(
    h(
      "article",
      { class: "exchange", "aria-label": `${exchange.operation} call` },
      h("h3", {}, exchange.operation, h("span", { class: "badge" }, status)),
      cliBlock("v2", command),
      ...(v1 === undefined ? [] : [cliBlock("v1", v1)]),
      h(
        "div",
        { class: "sides" },
        h(
          "section",
          { "aria-label": "Request" },
          h("h4", {}, "Request"),
          h("pre", { class: "mono", tabindex: "0" }, requestText),
        ),
        h(
          "section",
          { "aria-label": "Response" },
          h("h4", {}, "Response"),
          h("pre", { class: "mono", tabindex: "0" }, responseText),
        ),
      ),
    ),
  );
}
