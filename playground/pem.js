/**
 * Bytes, base64 and PEM: the encodings of the KMS wire format (base64 blobs) and of the key files
 * users download (PEM, RFC 7468).
 *
 * @module
 */

/**
 * Decodes base64 (standard alphabet).
 * @param {string} text
 * @returns {Uint8Array}
 */
export function fromBase64(text) {
  const binary = atob(text.replace(/\s+/g, ""));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * Encodes bytes as base64 (standard alphabet).
 * @param {Uint8Array} bytes
 * @returns {string}
 */
export function toBase64(bytes) {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/**
 * The UTF-8 text as base64.
 * @param {string} text
 * @returns {string}
 */
export function utf8ToBase64(text) {
  return toBase64(new TextEncoder().encode(text));
}

/**
 * The base64 value as UTF-8 text, or undefined when it is not printable UTF-8.
 * @param {string} base64
 * @returns {string | undefined}
 */
export function base64ToText(base64) {
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(fromBase64(base64));
    return /^[\P{Cc}\t\r\n]*$/u.test(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A base64 DER value as a PEM block (RFC 7468), e.g. label "PUBLIC KEY" for SPKI.
 * @param {string} label
 * @param {string} base64
 * @returns {string}
 */
export function toPem(label, base64) {
  const body = base64.replace(/\s+/g, "").match(/.{1,64}/g) ?? [];
  return [`-----BEGIN ${label}-----`, ...body, `-----END ${label}-----`, ""].join("\n");
}

/**
 * Whether the base64 value looks like a DER PKCS#8 PrivateKeyInfo (RFC 5208): a SEQUENCE that
 * spans the whole value and starts with INTEGER version 0 or 1 and an AlgorithmIdentifier.
 * @param {string} base64
 * @returns {boolean}
 */
export function isPkcs8(base64) {
  let der;
  try {
    der = fromBase64(base64);
  } catch {
    return false;
  }
  if (der[0] !== 0x30 || der.length < 4) return false;
  let offset = 2;
  let length = der[1] ?? 0;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count < 1 || count > 3) return false;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (der[2 + i] ?? 0);
    offset = 2 + count;
  }
  if (offset + length !== der.length) return false;
  const [tag, size, version, next] = der.subarray(offset, offset + 4);
  return tag === 0x02 && size === 0x01 && (version === 0 || version === 1) && next === 0x30;
}

/**
 * Offers text as a file download through a Blob URL, revoked right after use.
 * @param {string} filename
 * @param {string} text
 */
export function download(filename, text) {
  downloadText(filename, text, "application/x-pem-file");
}

/**
 * Offers `text` as a file download.
 * @param {string} filename
 * @param {string} text
 * @param {string} [type]
 */
export function downloadText(filename, text, type = "text/plain") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.hidden = true;
  document.body.append(link);
  try {
    link.click();
  } finally {
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 0);
  }
}
