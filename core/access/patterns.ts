/**
 * Policy-value patterns: exact strings, `*`/`?` wildcards (whole string or per ARN component) and
 * `${...}` policy variables, compiled once into a {@link PatternSet} and matched per request.
 *
 * Wildcards are matched by a two-pointer glob matcher, O(pattern x value) in the worst case, not by
 * backtracking RegExps: a policy such as `*a*a*a*a*b` must not make a long request value (an 8 KB
 * encryption-context value) stall the event loop.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_String
 * @module
 */
import type { CompileOptions, ConditionContext } from "./condition_context.ts";

/** Options for {@link PatternSet}. */
export interface PatternOptions extends CompileOptions {
  /** Treat `*` and `?` as wildcards. */
  readonly wildcards: boolean;
  /** Compare case-insensitively (patterns are lowercased at compile time). */
  readonly ignoreCase: boolean;
  /** ARN matching: each of the six colon-separated components is matched separately. */
  readonly arn?: boolean;
}

type Segment = { readonly text: string; readonly wild: boolean } | {
  readonly variable: string;
  readonly fallback: string | undefined;
};

const LIT = 0;
const STAR = 1;
const QMARK = 2;

/** A compiled wildcard pattern: text plus, per code unit, literal / `*` / `?`. */
interface Glob {
  readonly text: string;
  readonly kinds: Uint8Array;
  /** ARN mode: start offsets of the six components (the sixth runs to the end); null if < 6. */
  readonly parts: readonly number[] | null;
  /**
   * Outside ARN mode, when the only wildcards are `*`: the literal chunks between them, matched
   * with native startsWith / indexOf / endsWith (leftmost-greedy is exact for `*`-only globs).
   */
  readonly chunks: readonly string[] | null;
}

/**
 * A compiled list of policy values (Action, Resource, or condition values) matched as an OR.
 * Literal values go in a Set, wildcard values become {@link Glob}s, and values with policy
 * variables are resolved against the request context at match time.
 */
export class PatternSet {
  readonly #exact = new Set<string>();
  readonly #globs: Glob[] = [];
  readonly #templates: Segment[][] = [];
  readonly #opts: PatternOptions;
  /** True when one of the patterns is a bare `*` (matches everything, including the empty string). */
  readonly any: boolean;

  constructor(values: readonly string[], opts: PatternOptions) {
    this.#opts = opts;
    let any = false;
    for (const value of values) {
      const segments = _segments(value, opts.variables);
      if (segments.some((s) => "variable" in s)) {
        this.#templates.push(segments);
        continue;
      }
      const text = _join(segments);
      const wild = opts.wildcards &&
        segments.some((s) => "text" in s && s.wild && /[*?]/.test(s.text));
      if (opts.wildcards && text === "*" && segments.length === 1) any = true;
      if (!wild) this.#exact.add(opts.ignoreCase ? text.toLowerCase() : text);
      else this.#globs.push(_glob(segments, opts));
    }
    this.any = any;
  }

  /** True when `value` matches at least one pattern. */
  matches(value: string, ctx: ConditionContext): boolean {
    if (this.any) return true;
    return this.matchesNormalized(this.#opts.ignoreCase ? value.toLowerCase() : value, ctx);
  }

  /** As {@link matches}, for a `probe` the caller already lowercased when `ignoreCase` is set. */
  matchesNormalized(probe: string, ctx: ConditionContext): boolean {
    if (this.any || this.#exact.has(probe)) return true;
    const arn = this.#opts.arn === true;
    for (let i = 0; i < this.#globs.length; i++) {
      if (_globMatches(this.#globs[i]!, probe, arn)) return true;
    }
    for (let i = 0; i < this.#templates.length; i++) {
      const resolved = _resolve(this.#templates[i]!, ctx);
      if (resolved === null) continue;
      if (!this.#opts.wildcards) {
        const text = _join(resolved);
        if ((this.#opts.ignoreCase ? text.toLowerCase() : text) === probe) return true;
      } else if (_globMatches(_glob(resolved, this.#opts), probe, arn)) return true;
    }
    return false;
  }
}

const VARIABLE = /\$\{([^}]*)\}/g;
const SPECIAL: Readonly<Record<string, string>> = { "*": "*", "?": "?", "$": "$" };

function _segments(value: string, variables: boolean): Segment[] {
  if (!variables || !value.includes("${")) return [{ text: value, wild: true }];
  const out: Segment[] = [];
  let last = 0;
  for (const m of value.matchAll(VARIABLE)) {
    if (m.index > last) out.push({ text: value.slice(last, m.index), wild: true });
    const inner = m[1]!.trim();
    const special = SPECIAL[inner];
    if (special !== undefined) out.push({ text: special, wild: false });
    else {
      const d = /^([^,]+?)\s*,\s*'([^']*)'$/.exec(inner);
      out.push(
        d ? { variable: d[1]!.toLowerCase(), fallback: d[2] } : {
          variable: inner.toLowerCase(),
          fallback: undefined,
        },
      );
    }
    last = m.index + m[0].length;
  }
  if (last < value.length) out.push({ text: value.slice(last), wild: true });
  return out;
}

/** Substitutes variables (single-valued context keys) as literal text; `null` when one is unresolved. */
function _resolve(
  segments: readonly Segment[],
  ctx: ConditionContext,
): { text: string; wild: boolean }[] | null {
  const out: { text: string; wild: boolean }[] = [];
  for (const s of segments) {
    if ("text" in s) {
      out.push(s);
      continue;
    }
    const values = ctx.get(s.variable);
    const v = values !== undefined && values.length === 1 ? values[0]! : s.fallback;
    if (v === undefined) return null;
    out.push({ text: v, wild: false });
  }
  return out;
}

function _join(segments: readonly Segment[]): string {
  return segments.map((s) => ("text" in s ? s.text : "")).join("");
}

function _glob(segments: readonly Segment[], opts: PatternOptions): Glob {
  let text = "";
  const kinds: number[] = [];
  for (const s of segments) {
    if (!("text" in s)) continue;
    const t = opts.ignoreCase ? s.text.toLowerCase() : s.text;
    for (let i = 0; i < t.length; i++) {
      const ch = t[i]!;
      kinds.push(!s.wild || !opts.wildcards ? LIT : ch === "*" ? STAR : ch === "?" ? QMARK : LIT);
    }
    text += t;
  }
  const starOnly = !opts.arn && !kinds.includes(QMARK);
  let chunks: string[] | null = null;
  if (starOnly) {
    chunks = [""];
    for (let i = 0; i < text.length; i++) {
      if (kinds[i] === STAR) chunks.push("");
      else chunks[chunks.length - 1] += text[i]!;
    }
  }
  return {
    text,
    kinds: Uint8Array.from(kinds),
    parts: opts.arn ? _arnParts(text) : null,
    chunks,
  };
}

/** Start offsets of the six ARN components (after the first five colons), or null. */
function _arnParts(s: string): number[] | null {
  const parts = [0];
  let at = -1;
  for (let k = 0; k < 5; k++) {
    at = s.indexOf(":", at + 1);
    if (at < 0) return null;
    parts.push(at + 1);
  }
  return parts;
}

function _globMatches(g: Glob, s: string, arn: boolean): boolean {
  if (g.chunks !== null) return _chunksMatch(g.chunks, s);
  if (!arn) return _globRange(g, 0, g.text.length, s, 0, s.length);
  const gp = g.parts;
  if (gp === null) return false;
  let prev = -1;
  for (let k = 0; k < 6; k++) {
    const start = prev + 1;
    const colon = k < 5 ? s.indexOf(":", start) : s.length;
    if (colon < 0) return false;
    const gEnd = k < 5 ? gp[k + 1]! - 1 : g.text.length;
    if (!_globRange(g, gp[k]!, gEnd, s, start, colon)) return false;
    prev = colon;
  }
  return true;
}

function _chunksMatch(chunks: readonly string[], s: string): boolean {
  const first = chunks[0]!;
  const last = chunks[chunks.length - 1]!;
  if (chunks.length === 1) return s === first;
  if (!s.startsWith(first)) return false;
  const end = s.length - last.length;
  let pos = first.length;
  if (end < pos) return false;
  for (let i = 1; i < chunks.length - 1; i++) {
    const chunk = chunks[i]!;
    const at = s.indexOf(chunk, pos);
    if (at < 0 || at + chunk.length > end) return false;
    pos = at + chunk.length;
  }
  return s.endsWith(last);
}

/** Linear-backtracking glob match of pattern range [pi, pe) against s range [si, se). */
function _globRange(g: Glob, pi: number, pe: number, s: string, si: number, se: number): boolean {
  const { text, kinds } = g;
  let star = -1;
  let mark = si;
  while (si < se) {
    const kind = pi < pe ? kinds[pi] : -1;
    if (kind === QMARK || (kind === LIT && text.charCodeAt(pi) === s.charCodeAt(si))) {
      pi++;
      si++;
    } else if (kind === STAR) {
      star = pi++;
      mark = si;
    } else if (star >= 0) {
      pi = star + 1;
      si = ++mark;
    } else return false;
  }
  while (pi < pe && kinds[pi] === STAR) pi++;
  return pi === pe;
}
