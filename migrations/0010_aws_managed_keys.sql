-- 0010_aws_managed_keys: AWS managed keys (core/aws_managed_keys.ts), made for
-- an account and Region the first time a request names a predefined alias
-- `alias/aws/<service>`.
--
-- keys.aws_service: the service of an AWS managed key (`s3` for alias/aws/s3);
-- NULL for customer managed keys. DescribeKey answers KeyManager AWS when it is
-- set. The key, its first material, its alias and its yearly rotation schedule
-- are inserted in one transaction; the unique index below (and the alias's
-- primary key) make two first references at once create exactly one key: the
-- second insert fails as a whole and the caller reads the winner's alias.

ALTER TABLE keys ADD COLUMN aws_service TEXT;

CREATE UNIQUE INDEX keys_aws_managed ON keys (account_id, region, aws_service)
  WHERE aws_service IS NOT NULL;
