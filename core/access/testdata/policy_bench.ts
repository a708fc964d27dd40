/**
 * Evaluation cost of the policy language (run: `deno bench --allow-all core/access/testdata/policy_bench.ts`).
 * Figures are reported, never asserted.
 */
import { conditionContext } from "../conditions.ts";
import { decide } from "../decide.ts";
import { evaluatePolicy, parsePolicy } from "../policy.ts";

const A = "111122223333";
const KEY = `arn:aws:kms:us-west-2:${A}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const DEFAULT = JSON.stringify({
  Version: "2012-10-17",
  Id: "key-default-1",
  Statement: [{
    Sid: "Enable IAM User Permissions",
    Effect: "Allow",
    Principal: { AWS: `arn:aws:iam::${A}:root` },
    Action: "kms:*",
    Resource: "*",
  }],
});
const st = (i: number, extra: Record<string, unknown>) => ({
  Sid: `s${i}`,
  Effect: "Allow",
  Principal: { AWS: [`arn:aws:iam::${A}:role/Role${i}`, `arn:aws:iam::${A}:user/u${i}`] },
  Action: [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
  ],
  Resource: "*",
  ...extra,
});
const TEN = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "root",
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${A}:root` },
      Action: "kms:*",
      Resource: "*",
    },
    st(1, {
      Condition: {
        StringEquals: { "kms:EncryptionContext:AppName": "ExampleApp" },
        "ForAllValues:StringEquals": { "kms:EncryptionContextKeys": ["AppName", "Stage"] },
      },
    }),
    st(2, { Condition: { StringLike: { "kms:ViaService": "ec2.*.amazonaws.com" } } }),
    st(3, { Condition: { IpAddress: { "aws:SourceIp": ["203.0.113.0/24", "2001:DB8::/32"] } } }),
    st(4, {
      Condition: {
        DateLessThan: { "aws:CurrentTime": "2030-01-01T00:00:00Z" },
        Bool: { "aws:SecureTransport": "true" },
      },
    }),
    st(5, { Condition: { "ForAnyValue:StringLike": { "kms:ResourceAliases": "alias/*prod*" } } }),
    st(6, { Condition: { ArnLike: { "aws:PrincipalArn": `arn:aws:iam::${A}:role/app-*` } } }),
    {
      Sid: "deny-alg",
      Effect: "Deny",
      Principal: "*",
      Action: ["kms:Encrypt", "kms:Decrypt"],
      Resource: "*",
      Condition: {
        StringNotEqualsIfExists: {
          "kms:EncryptionAlgorithm": ["SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_256"],
        },
      },
    },
    {
      Sid: "deny-stage",
      Effect: "Deny",
      Principal: "*",
      Action: "kms:*",
      Resource: "*",
      Condition: { StringEquals: { "kms:EncryptionContext:Stage": ["Restricted", "Production"] } },
    },
    st(9, { Condition: { NumericLessThanEquals: { "kms:RotationPeriodInDays": "365" } } }),
  ],
});
const TEN_STAR = TEN.replaceAll(
  `{"AWS":["arn:aws:iam::${A}:role/Role`,
  `{"AWS":["*","arn:aws:iam::${A}:role/Role`,
);
const IDENT = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{
    Effect: "Allow",
    Action: ["kms:Encrypt", "kms:Decrypt"],
    Resource: `arn:aws:kms:*:${A}:key/*`,
  }],
});
const defaultPolicy = parsePolicy(DEFAULT, "key");
const ten = parsePolicy(TEN, "key");
const ident = parsePolicy(IDENT, "identity");
const tenStar = parsePolicy(TEN_STAR, "key");
const context = conditionContext({
  "aws:PrincipalArn": `arn:aws:iam::${A}:role/app-web`,
  "aws:PrincipalAccount": A,
  "kms:CallerAccount": A,
  "aws:SourceIp": "198.51.100.7",
  "aws:SecureTransport": true,
  "aws:CurrentTime": new Date().toISOString(),
  "kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
  "kms:KeySpec": "SYMMETRIC_DEFAULT",
}, { AppName: "ExampleApp", Stage: "Test" });
const req = {
  principalArn: `arn:aws:iam::${A}:role/app-web`,
  principalAccount: A,
  action: "kms:Decrypt",
  resource: KEY,
  context,
};
let sink = 0;
Deno.bench("evaluatePolicy: default key policy", () => {
  if (evaluatePolicy(defaultPolicy, req) === "AllowViaAccount") sink++;
});
Deno.bench("evaluatePolicy: 10 statements with conditions (every statement evaluated)", () => {
  if (evaluatePolicy(ten, req) !== "None") sink++;
});
Deno.bench(
  "evaluatePolicy: 10 statements, Principal * everywhere (all conditions evaluated)",
  () => {
    if (evaluatePolicy(tenStar, req) !== "None") sink++;
  },
);
Deno.bench("decide: default key policy + 1 identity policy", () => {
  if (
    decide({
      request: req,
      keyPolicy: defaultPolicy,
      keyAccount: A,
      callerIsAccountRoot: false,
      identityPolicies: [ident],
      grantAllows: false,
    }).allowed
  ) sink++;
});
Deno.bench("decide: 10-statement key policy + 1 identity policy", () => {
  if (
    decide({
      request: req,
      keyPolicy: ten,
      keyAccount: A,
      callerIsAccountRoot: false,
      identityPolicies: [ident],
      grantAllows: false,
    }).allowed
  ) sink++;
});
Deno.bench("conditionContext: 8 keys + 2-pair encryption context (caller side)", () => {
  sink += conditionContext({
    "aws:PrincipalArn": "x",
    "aws:PrincipalAccount": A,
    "kms:CallerAccount": A,
    "aws:SourceIp": "198.51.100.7",
    "aws:SecureTransport": true,
    "aws:CurrentTime": "2024-01-01T00:00:00Z",
    "kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
    "kms:KeySpec": "SYMMETRIC_DEFAULT",
  }, { AppName: "ExampleApp", Stage: "Test" }).size;
});
Deno.bench("parsePolicy: default key policy (compile once)", () => {
  sink += parsePolicy(DEFAULT, "key").statements.length;
});
Deno.bench("parsePolicy: 10-statement policy (compile once)", () => {
  sink += parsePolicy(TEN, "key").statements.length;
});
