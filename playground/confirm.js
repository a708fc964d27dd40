/**
 * Asks before a destructive action (DisableKey, ScheduleKeyDeletion) in a modal dialog: the
 * action runs only when the user confirms; Cancel, Escape or closing the dialog sends nothing.
 *
 * @module
 */
import { byId } from "./dom.js";

/**
 * Shows the confirmation dialog and resolves with the user's answer.
 * @param {{ title: string, message: string, confirm: string }} question
 * @returns {Promise<boolean>}
 */
export function confirmAction(question) {
  const dialog = /** @type {HTMLDialogElement} */ (byId("confirm-dialog"));
  byId("confirm-title").textContent = question.title;
  byId("confirm-message").textContent = question.message;
  byId("confirm-ok").textContent = question.confirm;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), {
      once: true,
    });
    dialog.returnValue = "";
    dialog.showModal();
    byId("confirm-cancel").focus();
  });
}

/** Wires the dialog's buttons. */
export function initConfirm() {
  const dialog = /** @type {HTMLDialogElement} */ (byId("confirm-dialog"));
  byId("confirm-cancel").addEventListener("click", () => dialog.close("cancel"));
  byId("confirm-ok").addEventListener("click", () => dialog.close("confirm"));
}
