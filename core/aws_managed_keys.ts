/**
 * AWS managed keys: the keys AWS creates in an account for an AWS service the first time the
 * service needs one, named by a predefined alias `alias/aws/<service>` (`alias/aws/s3`,
 * `alias/aws/ebs`, ...). This KMS creates one the first time a request of the account names a
 * predefined alias (Encrypt, Decrypt, GenerateDataKey*, ReEncrypt, DescribeKey, ... — every
 * operation that accepts an alias), as AWS's DescribeKey documentation describes: "If you
 * specify a predefined AWS alias (an AWS alias with no key ID), KMS associates the alias with an
 * AWS managed key and returns its KeyId and Arn in the response."
 *
 * Such a key is a symmetric encryption key with KeyManager `AWS`, AWS's description ("Default
 * key that protects my S3 objects when no other key is defined"), AWS's key policy for AWS
 * managed keys (below), and automatic rotation every 365 days, which nobody can change. The key,
 * its first material, its alias and its rotation schedule commit in one transaction that a
 * unique index guards, so two first references at once create exactly one key
 * (storage/sqlite_key_store.ts, migrations/0011_aws_managed_keys.sql).
 *
 * **What the key policy does here.** The stored policy is AWS's, word for word: principals of
 * the account may use the key for cryptographic operations (and, for services that use grants,
 * CreateGrant) when the request comes through the service (`kms:ViaService`), and the account
 * may read the key's metadata (`kms:Describe*`, `kms:Get*`, `kms:List*`). The policy is
 * evaluated like any other, with one stand-in: no AWS service calls this KMS, so a request of
 * the account on an AWS managed key counts as made through the key's service (its
 * `kms:ViaService` is `<service endpoint>.<region>.amazonaws.com`). Everything else follows from
 * the policy, as in AWS: DisableKey, ScheduleKeyDeletion, PutKeyPolicy, Enable/DisableKeyRotation,
 * RotateKeyOnDemand, TagResource, UntagResource, UpdateKeyDescription, and CreateAlias/UpdateAlias
 * pointing at the key answer AccessDeniedException ("... because no resource-based policy allows
 * the kms:DisableKey action"), and another account may not use the key. Alias names beginning
 * `alias/aws/` are reserved (core/operations/aliases.ts answers NotAuthorizedException).
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
 * @module
 */
import { generateKeyMaterial } from "./key_material.ts";
import { accountRootArn, partitionOf } from "./identifiers.ts";
import { firstKeyMaterial, newKeyRecord } from "./new_key.ts";
import type { KeyPairSource } from "./operation_ports.ts";
import type { Clock, Store } from "./ports.ts";
import type { RequestConditions } from "./access/request_context.ts";
import type { AliasRecord, KeyRecord } from "./types.ts";

/** One AWS service that has an AWS managed key. */
export interface AwsManagedService {
  /** The `<service>` of `alias/aws/<service>`. */
  readonly alias: string;
  /** How AWS names the service in the key policy's statement id ("S3", "EBS"). */
  readonly name: string;
  /** What the description says the key protects ("S3 objects"). */
  readonly protects: string;
  /** The service's endpoint prefix, the first label of `kms:ViaService` (EBS: `ec2`). */
  readonly endpoint: string;
  /** Whether the service creates grants on its key (the policy then allows kms:CreateGrant). */
  readonly grants?: boolean;
}

/** AWS's services with a predefined alias `alias/aws/<service>`, in alias order. */
export const AWS_MANAGED_SERVICES: readonly AwsManagedService[] = [
  { alias: "acm", name: "ACM", protects: "ACM private keys", endpoint: "acm" },
  { alias: "airflow", name: "MWAA", protects: "MWAA environments", endpoint: "airflow" },
  { alias: "backup", name: "Backup", protects: "backups", endpoint: "backup", grants: true },
  { alias: "cloud9", name: "Cloud9", protects: "Cloud9 environments", endpoint: "cloud9" },
  {
    alias: "codeartifact",
    name: "CodeArtifact",
    protects: "CodeArtifact data",
    endpoint: "codeartifact",
  },
  {
    alias: "codecommit",
    name: "CodeCommit",
    protects: "CodeCommit repositories",
    endpoint: "codecommit",
  },
  { alias: "connect", name: "Connect", protects: "Connect data", endpoint: "connect" },
  { alias: "dms", name: "DMS", protects: "DMS data", endpoint: "dms", grants: true },
  {
    alias: "dynamodb",
    name: "DynamoDB",
    protects: "DynamoDB data",
    endpoint: "dynamodb",
    grants: true,
  },
  { alias: "ebs", name: "EBS", protects: "EBS volumes", endpoint: "ec2", grants: true },
  { alias: "ecr", name: "ECR", protects: "ECR data", endpoint: "ecr", grants: true },
  {
    alias: "elasticache",
    name: "ElastiCache",
    protects: "ElastiCache data",
    endpoint: "elasticache",
    grants: true,
  },
  {
    alias: "elasticfilesystem",
    name: "EFS",
    protects: "EFS file systems",
    endpoint: "elasticfilesystem",
    grants: true,
  },
  {
    alias: "es",
    name: "OpenSearch Service",
    protects: "OpenSearch Service domains",
    endpoint: "es",
    grants: true,
  },
  { alias: "firehose", name: "Firehose", protects: "Firehose data", endpoint: "firehose" },
  { alias: "fsx", name: "FSx", protects: "FSx file systems", endpoint: "fsx", grants: true },
  { alias: "glue", name: "Glue", protects: "Glue data", endpoint: "glue" },
  { alias: "kafka", name: "MSK", protects: "MSK clusters", endpoint: "kafka", grants: true },
  { alias: "kinesis", name: "Kinesis", protects: "Kinesis data", endpoint: "kinesis" },
  {
    alias: "kinesisvideo",
    name: "Kinesis Video Streams",
    protects: "Kinesis Video Streams data",
    endpoint: "kinesisvideo",
  },
  { alias: "lambda", name: "Lambda", protects: "Lambda functions", endpoint: "lambda" },
  {
    alias: "lightsail",
    name: "Lightsail",
    protects: "Lightsail data",
    endpoint: "lightsail",
    grants: true,
  },
  { alias: "logs", name: "CloudWatch Logs", protects: "CloudWatch Logs data", endpoint: "logs" },
  {
    alias: "memorydb",
    name: "MemoryDB",
    protects: "MemoryDB clusters",
    endpoint: "memorydb",
    grants: true,
  },
  { alias: "rds", name: "RDS", protects: "RDS database volumes", endpoint: "rds", grants: true },
  {
    alias: "redshift",
    name: "Redshift",
    protects: "Redshift data",
    endpoint: "redshift",
    grants: true,
  },
  { alias: "s3", name: "S3", protects: "S3 objects", endpoint: "s3" },
  {
    alias: "sagemaker",
    name: "SageMaker",
    protects: "SageMaker data",
    endpoint: "sagemaker",
    grants: true,
  },
  {
    alias: "secretsmanager",
    name: "Secrets Manager",
    protects: "Secrets Manager data",
    endpoint: "secretsmanager",
    grants: true,
  },
  { alias: "sns", name: "SNS", protects: "SNS data", endpoint: "sns" },
  { alias: "sqs", name: "SQS", protects: "SQS messages", endpoint: "sqs" },
  { alias: "ssm", name: "SSM", protects: "SSM parameters", endpoint: "ssm" },
  {
    alias: "timestream",
    name: "Timestream",
    protects: "Timestream data",
    endpoint: "timestream",
    grants: true,
  },
  {
    alias: "workspaces",
    name: "WorkSpaces",
    protects: "WorkSpaces volumes",
    endpoint: "workspaces",
    grants: true,
  },
  { alias: "xray", name: "X-Ray", protects: "X-Ray data", endpoint: "xray" },
];

/** The prefix of every AWS alias; customers may not create, update or delete aliases under it. */
export const AWS_ALIAS_PREFIX = "alias/aws/";

/** AWS managed keys rotate every year, and this cannot be changed. */
export const AWS_MANAGED_ROTATION_PERIOD_DAYS = 365;

const DAY_MS = 24 * 60 * 60 * 1000;

const BY_ALIAS_NAME: ReadonlyMap<string, AwsManagedService> = new Map(
  AWS_MANAGED_SERVICES.map((service) => [`${AWS_ALIAS_PREFIX}${service.alias}`, service]),
);

/** The predefined alias names, in name order (ListAliases shows those with no key yet). */
export const PREDEFINED_AWS_ALIASES: readonly string[] = [...BY_ALIAS_NAME.keys()].sort();

/** Whether an alias name is in the reserved `alias/aws/` namespace. */
export function isAwsAliasName(aliasName: string): boolean {
  return aliasName.startsWith(AWS_ALIAS_PREFIX);
}

/** The service of a predefined alias name (`alias/aws/s3`), or undefined. */
export function awsManagedServiceOf(aliasName: string): AwsManagedService | undefined {
  return BY_ALIAS_NAME.get(aliasName);
}

/** An AWS managed key's description, as AWS writes it. */
export function awsManagedKeyDescription(service: AwsManagedService): string {
  return `Default key that protects my ${service.protects} when no other key is defined`;
}

/** The `kms:ViaService` value of requests through `service` in `region`. */
export function viaServiceOf(service: Pick<AwsManagedService, "endpoint">, region: string): string {
  const domain = partitionOf(region) === "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com";
  return `${service.endpoint}.${region}.${domain}`;
}

/** AWS's key policy for the AWS managed key of `service` in an account and Region. */
export function awsManagedKeyPolicy(
  service: AwsManagedService,
  accountId: string,
  region: string,
): string {
  const actions = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    ...(service.grants === true ? ["kms:CreateGrant"] : []),
    "kms:DescribeKey",
  ];
  return JSON.stringify(
    {
      Version: "2012-10-17",
      Id: `auto-${service.alias}-2`,
      Statement: [
        {
          Sid: `Allow access through ${service.name} for all principals in the account that ` +
            `are authorized to use ${service.name}`,
          Effect: "Allow",
          Principal: { AWS: "*" },
          Action: actions,
          Resource: "*",
          Condition: {
            StringEquals: {
              "kms:CallerAccount": accountId,
              "kms:ViaService": viaServiceOf(service, region),
            },
          },
        },
        {
          Sid: "Allow direct access to key metadata to the account",
          Effect: "Allow",
          Principal: { AWS: accountRootArn(accountId) },
          Action: ["kms:Describe*", "kms:Get*", "kms:List*"],
          Resource: "*",
        },
      ],
    },
    null,
    2,
  );
}

/**
 * The condition values of a request on `key`: for an AWS managed key, the request counts as
 * made through the key's service (`kms:ViaService`), since no AWS service calls this KMS.
 */
export function withAwsManagedConditions(
  key: KeyRecord,
  conditions: RequestConditions,
): RequestConditions {
  if (key.awsService === undefined) return conditions;
  const service = awsManagedServiceOf(`${AWS_ALIAS_PREFIX}${key.awsService}`);
  if (service === undefined) return conditions;
  return { ...conditions, viaService: viaServiceOf(service, key.region) };
}

/** What creating an AWS managed key uses of the KMS. */
export interface AwsManagedKeyPorts {
  readonly region: string;
  readonly clock: Clock;
  readonly keyPairs: KeyPairSource;
  readonly store: Pick<Store, "createAwsManagedKey" | "getAlias">;
}

/**
 * The AWS managed key a predefined alias names in an account, created now when it does not
 * exist yet: resolves its key id, or null when `aliasName` is not a predefined alias. Of two
 * first references at once, one creates the key and the other reads it.
 */
export async function createAwsManagedKey(
  kms: AwsManagedKeyPorts,
  accountId: string,
  aliasName: string,
): Promise<string | null> {
  const service = awsManagedServiceOf(aliasName);
  if (service === undefined) return null;
  const now = kms.clock.now();
  const record: KeyRecord = {
    ...newKeyRecord({
      keyId: crypto.randomUUID(),
      accountId,
      region: kms.region,
      now,
      keySpec: "SYMMETRIC_DEFAULT",
      keyUsage: "ENCRYPT_DECRYPT",
      origin: "AWS_KMS",
      description: awsManagedKeyDescription(service),
      policy: awsManagedKeyPolicy(service, accountId, kms.region),
    }),
    awsService: service.alias,
  };
  const material = firstKeyMaterial(
    record,
    await generateKeyMaterial(record.keySpec, kms.keyPairs, record.region),
  );
  const alias: AliasRecord = {
    accountId,
    region: kms.region,
    name: aliasName,
    targetKeyId: record.keyId,
    createdAt: now,
    updatedAt: now,
  };
  const created = await kms.store.createAwsManagedKey(record, material, alias, {
    keyId: record.keyId,
    enabled: true,
    periodDays: AWS_MANAGED_ROTATION_PERIOD_DAYS,
    nextRotationDate: now + AWS_MANAGED_ROTATION_PERIOD_DAYS * DAY_MS,
    onDemandRotations: 0,
  });
  material.material.wipe();
  if (created) return record.keyId;
  return (await kms.store.getAlias(accountId, kms.region, aliasName))?.targetKeyId ?? null;
}
