"""boto3 against the KMS: create a key and alias, envelope-encrypt, decrypt, check errors.

Run by tests/boto3_test.ts with KMS_URL and AWS credentials in the environment.
Prints one JSON line with what it saw.
"""
import json
import os

import boto3
from botocore.exceptions import ClientError

kms = boto3.client("kms", endpoint_url=os.environ["KMS_URL"], region_name="us-east-1")
key = kms.create_key(Description="boto3 key", Tags=[{"TagKey": "client", "TagValue": "boto3"}])["KeyMetadata"]
kms.create_alias(AliasName="alias/boto3", TargetKeyId=key["KeyId"])
data_key = kms.generate_data_key(KeyId="alias/boto3", KeySpec="AES_256", EncryptionContext={"app": "boto3"})
plain = kms.decrypt(CiphertextBlob=data_key["CiphertextBlob"], EncryptionContext={"app": "boto3"})
try:
    kms.decrypt(CiphertextBlob=data_key["CiphertextBlob"], EncryptionContext={"app": "other"})
    error = None
except ClientError as e:
    error = e.response["Error"]["Code"]
try:
    kms.encrypt(KeyId="alias/missing", Plaintext=b"x")
    missing = None
except ClientError as e:
    missing = e.response["Error"]["Code"]
print(json.dumps({
    "keyState": key["KeyState"],
    "sameKey": plain["Plaintext"] == data_key["Plaintext"],
    "length": len(data_key["Plaintext"]),
    "keyId": plain["KeyId"] == key["Arn"],
    "changedContext": error,
    "missingAlias": missing,
}))
