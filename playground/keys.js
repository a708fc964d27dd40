/**
 * The keys panel: ListKeys + ListAliases + DescribeKey as a table (state, spec, usage,
 * description), a key entered by id, ARN or alias for principals without kms:ListKeys,
 * CreateKey, and on the selected key DescribeKey, EnableKey, DisableKey, ScheduleKeyDeletion,
 * CancelKeyDeletion and CreateAlias. Disabling and scheduling deletion ask first.
 *
 * @module
 */
import { attempt, InputError, perform } from "./action.js";
import { confirmAction } from "./confirm.js";
import { byId, h, setValue, valueOf } from "./dom.js";
import { showError, showResult } from "./output.js";

/** Keys described for the table; more are listed by id only. */
const MAX_DESCRIBED = 100;

/** @typedef {import("./action.js").Call} Call */

/** The usage a new key of each spec family gets unless the user picks another. */
const DEFAULT_USAGE = [
  [/^SYMMETRIC_DEFAULT$|^RSA_/, "ENCRYPT_DECRYPT"],
  [/^HMAC_/, "GENERATE_VERIFY_MAC"],
  [/^ECC_|^ML_DSA_|^SM2$/, "SIGN_VERIFY"],
];

/** Buttons that act on the selected key. */
const KEY_BUTTONS = [
  "describe-key",
  "enable-key",
  "disable-key",
  "cancel-deletion",
  "schedule-deletion-form",
  "create-alias-form",
];

/** @type {string | undefined} */
let selected;
/** @type {(keyId: string, metadata: any) => void} */
let onDescribed = () => {};

/**
 * Every page of a list operation, or the error that stopped it.
 * @param {string} operation  "ListKeys" or "ListAliases"
 * @param {string} field  "Keys" or "Aliases"
 * @param {boolean} show
 * @returns {Promise<{ items: any[], error: { name: string, message: string } | undefined }>}
 */
async function listAll(operation, field, show) {
  const items = [];
  /** @type {string | undefined} */
  let marker;
  for (let page = 0; page < 50; page++) {
    const reply = await attempt(operation, marker === undefined ? {} : { Marker: marker }, {
      show,
    });
    if (reply.error !== undefined) return { items, error: reply.error };
    items.push(...(reply.data[field] ?? []));
    marker = reply.data.Truncated ? reply.data.NextMarker : undefined;
    if (marker === undefined) break;
  }
  return { items, error: undefined };
}

/**
 * One table cell, labelled for the stacked layout of narrow screens.
 * @param {string} label
 * @param {string} text
 * @param {string} [className]
 */
function cell(label, text, className = "") {
  return h("td", { class: className, "data-label": label }, text);
}

/**
 * The table row of a key.
 * @param {string} keyId
 * @param {string[]} aliases
 * @param {any} meta  KeyMetadata, or undefined when DescribeKey was not allowed
 */
function keyRow(keyId, aliases, meta) {
  const choose = h(
    "button",
    { type: "button", class: "secondary small", "aria-label": `Select key ${keyId}` },
    "Select",
  );
  choose.addEventListener("click", () => selectKey(keyId));
  const state = meta?.KeyState ?? "?";
  return h(
    "tr",
    {},
    cell("Key ID", keyId, "mono key-id"),
    cell("Aliases", aliases.join(", "), "mono aliases"),
    h("td", { "data-label": "State" }, h("span", { class: `state state-${state}` }, state)),
    cell("Key spec", meta?.KeySpec ?? "?", "mono"),
    cell("Usage", meta?.KeyUsage ?? "?", "mono"),
    cell("Description", meta?.Description ?? "", "description"),
    h("td", { class: "select" }, choose),
  );
}

/**
 * Reloads the key table. A principal without kms:ListKeys gets the key entry instead.
 * @param {Call} _call
 * @param {{ show: boolean }} options  whether the list calls appear in the result pane
 */
export async function refreshKeys(_call, options) {
  const keys = await listAll("ListKeys", "Keys", options.show);
  const denied = keys.error?.name === "AccessDeniedException";
  byId("keys-denied").hidden = !denied;
  byId("keys-table").hidden = denied;
  if (keys.error !== undefined && !denied) {
    showError(keys.error);
    return;
  }
  if (denied) {
    byId("keys-body").replaceChildren();
    byId("keys-empty").hidden = true;
    byId("status").textContent = "This access key may not list keys: enter one to use it.";
    return;
  }
  const aliases = (await listAll("ListAliases", "Aliases", options.show)).items;
  const described = await Promise.all(
    keys.items.slice(0, MAX_DESCRIBED).map((key) => attempt("DescribeKey", { KeyId: key.KeyId })),
  );
  const rows = keys.items.map((key, i) =>
    keyRow(
      key.KeyId,
      aliases.filter((a) => a.TargetKeyId === key.KeyId).map((a) => a.AliasName),
      described[i]?.data?.KeyMetadata,
    )
  );
  byId("keys-body").replaceChildren(...rows);
  byId("keys-empty").hidden = rows.length > 0;
  markSelected(selected);
}

/**
 * A date of the API (epoch seconds) as ISO 8601.
 * @param {unknown} value
 * @returns {string}
 */
function date(value) {
  return typeof value === "number" ? new Date(value * 1000).toISOString() : String(value);
}

/**
 * Shows KeyMetadata as rows.
 * @param {string} title
 * @param {any} meta
 */
export function showMetadata(title, meta) {
  /** @type {[string, string, unknown][]} */
  const fields = [
    ["Key ID", "KeyId", meta.KeyId],
    ["ARN", "Arn", meta.Arn],
    ["State", "KeyState", meta.KeyState],
    ["Key spec", "KeySpec", meta.KeySpec],
    ["Key usage", "KeyUsage", meta.KeyUsage],
    ["Description", "Description", meta.Description || undefined],
    ["Created", "CreationDate", meta.CreationDate && date(meta.CreationDate)],
    ["Deletion date", "DeletionDate", meta.DeletionDate && date(meta.DeletionDate)],
    ["Encryption algorithms", "EncryptionAlgorithms", meta.EncryptionAlgorithms?.join(", ")],
    ["Signing algorithms", "SigningAlgorithms", meta.SigningAlgorithms?.join(", ")],
    ["MAC algorithms", "MacAlgorithms", meta.MacAlgorithms?.join(", ")],
  ];
  showResult({
    title,
    rows: fields.filter(([, , value]) => value !== undefined && value !== "")
      .map(([label, name, value]) => ({ label, name, value: String(value) })),
  });
  byId("selected-key").textContent = `${meta.KeyId} · ${meta.KeyState} · ${meta.KeySpec}`;
  onDescribed(meta.KeyId, meta);
}

/**
 * Runs DescribeKey on the selected key and shows it.
 * @param {Call} call
 * @param {string} title
 */
async function describe(call, title) {
  const data = await call("DescribeKey", { KeyId: selected });
  showMetadata(title, data.KeyMetadata);
}

/**
 * Marks `keyId` as the selected key (undefined: none) in the table and the key buttons.
 * @param {string | undefined} keyId
 */
function markSelected(keyId) {
  selected = keyId;
  const label = byId("selected-key");
  if (keyId === undefined) label.textContent = "None: choose a key in the table.";
  else if (!label.textContent?.startsWith(keyId)) label.textContent = keyId;
  for (const id of KEY_BUTTONS) {
    const element = byId(id);
    const controls = element.tagName === "FORM" ? element.querySelectorAll("button") : [element];
    for (const control of controls) {
      /** @type {HTMLButtonElement} */ (control).disabled = keyId === undefined;
    }
  }
  for (const row of byId("keys-body").querySelectorAll("tr")) {
    const isSelected = row.querySelector("td")?.textContent === keyId;
    row.classList.toggle("selected", isSelected);
    const choose = row.querySelector("button");
    if (choose !== null) {
      choose.setAttribute("aria-pressed", String(isSelected));
    }
  }
}

/**
 * Makes `keyId` the selected key and describes it.
 * @param {string} keyId
 */
export function selectKey(keyId) {
  markSelected(keyId);
  void perform((call) => describe(call, "Key selected"));
}

/** Forgets the selection and the table (signing out). */
export function resetKeys() {
  byId("keys-body").replaceChildren();
  markSelected(undefined);
}

/**
 * Wires the panel.
 * @param {{ onDescribed: (keyId: string, metadata: any) => void }} hooks
 */
export function initKeys(hooks) {
  onDescribed = hooks.onDescribed;
  byId("refresh-keys").addEventListener("click", () => {
    void perform((call) => refreshKeys(call, { show: true }));
  });
  byId("create-key-spec").addEventListener("change", () => {
    const spec = valueOf("create-key-spec");
    const usage = DEFAULT_USAGE.find(([pattern]) => /** @type {RegExp} */ (pattern).test(spec));
    if (usage !== undefined) setValue("create-key-usage", /** @type {string} */ (usage[1]));
  });
  byId("create-key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    void perform(async (call) => {
      const description = valueOf("create-key-description").trim();
      const data = await call("CreateKey", {
        KeySpec: valueOf("create-key-spec"),
        KeyUsage: valueOf("create-key-usage"),
        ...(description === "" ? {} : { Description: description }),
      });
      selected = data.KeyMetadata.KeyId;
      showMetadata("Key created", data.KeyMetadata);
      await refreshKeys(call, { show: false });
    });
  });
  const onKey = (/** @type {string} */ operation, /** @type {string} */ title) => () => {
    void perform(async (call) => {
      await call(operation, { KeyId: selected });
      await describe(call, title);
    });
  };
  byId("describe-key").addEventListener("click", () => {
    void perform((call) => describe(call, "Key described"));
  });
  byId("enable-key").addEventListener("click", onKey("EnableKey", "Key enabled"));
  const disable = onKey("DisableKey", "Key disabled");
  byId("disable-key").addEventListener("click", async () => {
    const confirmed = await confirmAction({
      title: "Disable this key?",
      message: `${selected}: while it is disabled, no cryptographic operation can use it.`,
      confirm: "Disable key",
    });
    if (confirmed) disable();
  });
  byId("cancel-deletion").addEventListener(
    "click",
    onKey("CancelKeyDeletion", "Deletion cancelled"),
  );
  byId("schedule-deletion-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const days = Number(valueOf("pending-days"));
    const confirmed = await confirmAction({
      title: "Schedule deletion of this key?",
      message: `${selected} will be deleted after ${days} days, with everything encrypted ` +
        "under it; until then it cannot be used, and Cancel deletion brings it back.",
      confirm: "Schedule deletion",
    });
    if (!confirmed) return;
    void perform(async (call) => {
      await call("ScheduleKeyDeletion", { KeyId: selected, PendingWindowInDays: days });
      await describe(call, "Deletion scheduled");
    });
  });
  byId("use-key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    void perform(async () => {
      const typed = valueOf("use-key-id").trim();
      if (typed === "") throw new InputError("Enter a key ID, key ARN or alias name.");
      const reply = await attempt("DescribeKey", { KeyId: typed }, { show: true });
      if (reply.error === undefined) {
        markSelected(reply.data.KeyMetadata.KeyId);
        showMetadata("Key selected", reply.data.KeyMetadata);
      } else if (reply.error.name === "AccessDeniedException") {
        // Not allowed to describe it: use it as typed; the operations say what is allowed.
        markSelected(typed);
        onDescribed(typed, undefined);
        showResult({
          title: "Key entered",
          rows: [{ label: "Key", name: "KeyId", value: typed }],
        });
        byId("status").textContent = "Key entered: this access key may not describe it.";
      } else {
        showError(reply.error);
      }
    });
  });
  byId("create-alias-form").addEventListener("submit", (event) => {
    event.preventDefault();
    void perform(async (call) => {
      const typed = valueOf("alias-name").trim();
      if (typed === "" || typed === "alias/") throw new InputError("Enter an alias name.");
      const name = typed.startsWith("alias/") ? typed : `alias/${typed}`;
      await call("CreateAlias", { AliasName: name, TargetKeyId: selected });
      showResult({
        title: "Alias created",
        rows: [
          { label: "Alias", name: "AliasName", value: name },
          { label: "Key ID", name: "TargetKeyId", value: String(selected) },
        ],
      });
      setValue("alias-name", "");
      await refreshKeys(call, { show: false });
    });
  });
}
