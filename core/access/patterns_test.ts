import assert from "node:assert/strict";
import { conditionContext } from "./conditions.ts";
import { PatternSet } from "./patterns.ts";

Deno.test("PatternSet matches actions case-insensitively with wildcards", () => {
  const actions = new PatternSet(["kms:Generate*", "kms:Get?ublicKey"], {
    wildcards: true,
    ignoreCase: true,
    variables: false,
  });
  const ctx = new Map<string, string[]>();
  assert.equal(actions.matches("kms:GenerateDataKeyPair", ctx), true);
  assert.equal(actions.matches("KMS:generatemac", ctx), true);
  assert.equal(actions.matches("kms:GetPublicKey", ctx), true);
  assert.equal(actions.matches("kms:Decrypt", ctx), false);
  assert.equal(actions.any, false);
});

Deno.test("PatternSet resolves variables in resources and caches their regular expressions", () => {
  const resources = new PatternSet(["arn:aws:kms:*:${aws:PrincipalAccount}:key/*"], {
    wildcards: true,
    ignoreCase: false,
    variables: true,
  });
  const ctx = conditionContext({ "aws:PrincipalAccount": "111122223333" });
  for (let i = 0; i < 3; i++) {
    assert.equal(resources.matches("arn:aws:kms:us-west-2:111122223333:key/abc", ctx), true);
    assert.equal(resources.matches("arn:aws:kms:us-west-2:444455556666:key/abc", ctx), false);
  }
  assert.equal(resources.matches("arn:aws:kms:us-west-2:111122223333:key/abc", new Map()), false);
});

Deno.test("wildcards in a Resource span colons and slashes; ARN wildcards stop at component boundaries", () => {
  const ctx = new Map<string, string[]>();
  const resource = new PatternSet(["arn:aws:kms:*"], {
    wildcards: true,
    ignoreCase: false,
    variables: false,
  });
  assert.equal(resource.matches("arn:aws:kms:us-west-2:111122223333:key/abc", ctx), true);
  const arn = new PatternSet(["arn:aws:kms:*"], {
    wildcards: true,
    ignoreCase: false,
    arn: true,
    variables: false,
  });
  assert.equal(arn.matches("arn:aws:kms:us-west-2:111122223333:key/abc", ctx), false);
  const arn6 = new PatternSet(["arn:aws:kms:us-west-?:*:key/*"], {
    wildcards: true,
    ignoreCase: false,
    arn: true,
    variables: false,
  });
  assert.equal(arn6.matches("arn:aws:kms:us-west-2:111122223333:key/a:b/c", ctx), true);
  assert.equal(arn6.matches("arn:aws:kms:us-west-22:111122223333:key/a", ctx), false);
  assert.equal(arn6.matches("arn:aws:kms:us-west-2:111122223333", ctx), false);
});

Deno.test("StringLike agrees with a reference RegExp on 20,000 random patterns and values", () => {
  let seed = 42;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const word = (alphabet: string, max: number) =>
    Array.from({ length: rand(max + 1) }, () => alphabet[rand(alphabet.length)]).join("");
  const ctx = new Map<string, string[]>();
  for (let i = 0; i < 20_000; i++) {
    const pattern = word("ab*?:", 6);
    const value = word("ab:", 7);
    const reference = new RegExp(
      `^${pattern.replace(/[*?]/g, (c) => (c === "*" ? ".*" : "."))}$`,
      "s",
    );
    const set = new PatternSet([pattern], { wildcards: true, ignoreCase: false, variables: false });
    assert.equal(set.matches(value, ctx), reference.test(value), `${pattern} vs ${value}`);
  }
});

Deno.test("star-only patterns do not let the last literal chunk overlap an earlier one", () => {
  const ctx = new Map<string, string[]>();
  const m = (p: string, v: string) =>
    new PatternSet([p], { wildcards: true, ignoreCase: false, variables: false }).matches(v, ctx);
  assert.equal(m("ab*ba", "aba"), false);
  assert.equal(m("ab*ba", "abba"), true);
  assert.equal(m("a*a", "a"), false);
  assert.equal(m("a*b*c", "acb"), false);
  assert.equal(m("**", ""), true);
  assert.equal(m("*x*", "axb"), true);
});

Deno.test("ArnLike agrees with a per-component reference RegExp on 20,000 random ARNs", () => {
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const word = (alphabet: string, max: number) =>
    Array.from({ length: rand(max + 1) }, () => alphabet[rand(alphabet.length)]).join("");
  const ctx = new Map<string, string[]>();
  for (let i = 0; i < 20_000; i++) {
    const pattern = Array.from({ length: 6 }, () => word("ab*?", 3)).join(":") + word("a:*", 2);
    const value = Array.from({ length: 5 + rand(2) }, () => word("ab", 3)).join(":");
    let colons = 0;
    let src = "^";
    for (const ch of pattern) {
      const last = colons >= 5;
      if (ch === ":") colons++;
      src += ch === "*" ? (last ? ".*" : "[^:]*") : ch === "?" ? (last ? "." : "[^:]") : ch;
    }
    const reference = new RegExp(`${src}$`, "s");
    const set = new PatternSet([pattern], {
      wildcards: true,
      ignoreCase: false,
      arn: true,
      variables: false,
    });
    const expected = pattern === "*" || reference.test(value);
    assert.equal(set.matches(value, ctx), expected, `${pattern} vs ${value}`);
  }
});
