/**
 * AWS's paging of List* answers, in one place: opaque markers (base64 of `<listing>:<position>`)
 * that only this KMS hands out, and the page cut from rows read one past the limit.
 *
 * @module
 */
import { InvalidMarkerException } from "../errors.ts";

/** The marker that resumes `listing` after `position`. */
export function encodeMarker(listing: string, position: string | number): string {
  return btoa(`${listing}:${position}`);
}

/**
 * The position a marker of `listing` carries, as `parse` reads it (undefined: not a position).
 * @throws {InvalidMarkerException} a marker this KMS did not hand out for this listing.
 */
export function decodeMarker<T>(
  marker: string,
  listing: string,
  parse: (position: string) => T | undefined,
): T {
  try {
    const text = atob(marker);
    if (text.startsWith(`${listing}:`)) {
      const position = parse(text.slice(listing.length + 1));
      if (position !== undefined) return position;
    }
  } catch {
    // falls through to the AWS error
  }
  throw new InvalidMarkerException("Invalid marker");
}

/** The paging fields of a List* answer. */
export type PageEnd = { NextMarker: string; Truncated: true } | { Truncated: false };

/**
 * The first `limit` of `rows` and how the page ends: truncated, with the marker `markerAfter`
 * makes from the last row shown (and how many were shown), when more rows follow.
 */
export function cutPage<R>(
  rows: readonly R[],
  limit: number,
  markerAfter: (last: R, shown: number) => string,
): { shown: R[]; end: PageEnd } {
  const shown = rows.slice(0, limit);
  const last = shown.at(-1);
  return rows.length > limit && last !== undefined
    ? { shown, end: { NextMarker: markerAfter(last, shown.length), Truncated: true } }
    : { shown, end: { Truncated: false } };
}
