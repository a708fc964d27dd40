/**
 * Small DOM helpers shared by the playground modules.
 *
 * @module
 */

/**
 * The element with this id; throws when the page lacks it (a broken page should fail loudly).
 * @param {string} id
 * @returns {HTMLElement}
 */
export function byId(id) {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`the page has no #${id}`);
  return element;
}

/**
 * The value of the input, select or textarea with this id.
 * @param {string} id
 * @returns {string}
 */
export function valueOf(id) {
  return /** @type {HTMLInputElement} */ (byId(id)).value;
}

/**
 * Sets the value of the input, select or textarea with this id.
 * @param {string} id
 * @param {string} value
 */
export function setValue(id, value) {
  /** @type {HTMLInputElement} */ (byId(id)).value = value;
}

/**
 * Whether the checkbox with this id is checked.
 * @param {string} id
 * @returns {boolean}
 */
export function checked(id) {
  return /** @type {HTMLInputElement} */ (byId(id)).checked;
}

/**
 * Creates an element with attributes (`class`, `aria-*`, `data-*`, …) and children.
 * Text children become text nodes, never HTML.
 * @param {string} tag
 * @param {Record<string, string>} [attributes]
 * @param {...(Node | string)} children
 * @returns {HTMLElement}
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

/**
 * A button that runs `onClick`.
 * @param {string} text
 * @param {() => void} onClick
 * @param {string} [className]
 * @returns {HTMLButtonElement}
 */
export function button(text, onClick, className = "secondary") {
  const element =
    /** @type {HTMLButtonElement} */ (h("button", { type: "button", class: className }, text));
  element.addEventListener("click", onClick);
  return element;
}
