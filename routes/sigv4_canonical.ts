/**
 * The SigV4 canonical request of the shape every KMS call has, built straight from the request's
 * headers: path `/`, no query, and `SignedHeaders` lowercase, sorted and without repeats (what
 * every AWS SDK sends). It is byte for byte what `@smithy/signature-v4` builds for such a request
 * (routes/sigv4_canonical_test.ts compares the two), without rebuilding the request, sorting
 * header names or a general path and query canonicaliser. Any other shape gets `null`, and the
 * verifier asks smithy (routes/sigv4.ts).
 *
 * ```text
 * METHOD \n / \n (empty query) \n name:value \n ... \n \n signed;headers \n payload-hash
 * ```
 *
 * @module
 */

/** A lowercase HTTP token (RFC 9110 `tchar`s without the uppercase letters). */
const LOWERCASE_TOKEN = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
/** A value smithy would change: a line break, a tab, a double space, or space at either end. */
const NEEDS_TRIMMING = /[\r\n\t]| {2}|^ | $/;

/** What the canonical request is built from. */
export interface CanonicalRequestInput {
  method: string;
  /** Full URL including path and query, as received. */
  url: string;
  headers: Headers;
}

/**
 * The canonical request of `req` when it has KMS's fixed shape (see the module doc), else null.
 * @throws nothing
 */
export function fixedShapeCanonicalRequest(
  req: CanonicalRequestInput,
  signedHeaders: readonly string[],
  payloadHash: string,
): string | null {
  const authority = rootAuthority(req.url);
  if (authority === null) return null;
  let lines = "";
  let previous = "";
  for (const name of signedHeaders) {
    // Sorted and unique: each name after the one before; tokens only, lowercase.
    if (name <= previous || !LOWERCASE_TOKEN.test(name) || name === "__proto__") return null;
    previous = name;
    const value = req.headers.get(name) ?? (name === "host" ? authority : null);
    if (value === null) return null;
    lines += `${name}:${canonicalValue(value)}\n`;
  }
  return `${req.method}\n/\n\n${lines}\n${signedHeaders.join(";")}\n${payloadHash}`;
}

/**
 * The authority of a URL whose path is exactly `/` with no query or fragment, without user
 * information; null for any other URL.
 */
function rootAuthority(url: string): string | null {
  const schemeEnd = url.indexOf("://");
  if (schemeEnd <= 0) return null;
  const pathStart = url.indexOf("/", schemeEnd + 3);
  if (pathStart < 0 || pathStart !== url.length - 1) return null;
  const authority = url.slice(schemeEnd + 3, pathStart);
  return authority.includes("@") || authority.includes("?") || authority.includes("#")
    ? null
    : authority;
}

/** smithy's header value canonicalisation: line breaks and runs of blanks to one space, trimmed. */
function canonicalValue(value: string): string {
  if (!NEEDS_TRIMMING.test(value)) return value;
  return value.replace(/[\r\n]/g, " ").replace(/[ \t]+/g, " ").replace(/^ | $/g, "");
}
