/**
 * Typed KMS errors. Each class name and `name` equals the AWS exception name
 * that goes out in `__type`; `routes/errors.ts` is the only place that maps
 * them to HTTP.
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/CommonErrors.html
 * @module
 */

/** Every exception name this service can answer with. */
export type KmsErrorName =
  | "AccessDeniedException"
  | "AlreadyExistsException"
  | "ConflictException"
  | "CustomKeyStoreNotFoundException"
  | "DependencyTimeoutException"
  | "DisabledException"
  | "DryRunOperationException"
  | "ExpiredImportTokenException"
  | "IncompleteSignatureException"
  | "IncorrectKeyException"
  | "IncorrectKeyMaterialException"
  | "InvalidAliasNameException"
  | "InvalidCiphertextException"
  | "InvalidGrantIdException"
  | "InvalidGrantTokenException"
  | "InvalidImportTokenException"
  | "InvalidKeyUsageException"
  | "InvalidMarkerException"
  | "InvalidSignatureException"
  | "KMSInternalException"
  | "KMSInvalidMacException"
  | "KMSInvalidSignatureException"
  | "KMSInvalidStateException"
  | "LimitExceededException"
  | "MalformedPolicyDocumentException"
  | "MissingAuthenticationTokenException"
  | "NotAuthorizedException"
  | "NotFoundException"
  | "RequestEntityTooLargeException"
  | "SerializationException"
  | "TagException"
  | "ThrottlingException"
  | "UnknownOperationException"
  | "UnrecognizedClientException"
  | "UnsupportedOperationException"
  | "ValidationException";

/** Whether the caller or the service is at fault. */
export type Fault = "client" | "server";

/** Base of every error this KMS raises on purpose. */
export abstract class KmsError extends Error {
  abstract override readonly name: KmsErrorName;
  /** Client errors answer 4xx, server errors 5xx. */
  readonly fault: Fault = "client";
}

/** AWS `AccessDeniedException`. */
export class AccessDeniedException extends KmsError {
  override readonly name = "AccessDeniedException" as const;
}

/** AWS `AlreadyExistsException`. */
export class AlreadyExistsException extends KmsError {
  override readonly name = "AlreadyExistsException" as const;
}

/** AWS `ConflictException`. */
export class ConflictException extends KmsError {
  override readonly name = "ConflictException" as const;
}

/** AWS `CustomKeyStoreNotFoundException`. */
export class CustomKeyStoreNotFoundException extends KmsError {
  override readonly name = "CustomKeyStoreNotFoundException" as const;
}

/** AWS `DependencyTimeoutException`. */
export class DependencyTimeoutException extends KmsError {
  override readonly name = "DependencyTimeoutException" as const;
  override readonly fault: Fault = "server";
}

/** AWS `DisabledException`. */
export class DisabledException extends KmsError {
  override readonly name = "DisabledException" as const;
}

/** AWS `DryRunOperationException`. */
export class DryRunOperationException extends KmsError {
  override readonly name = "DryRunOperationException" as const;
}

/** AWS `ExpiredImportTokenException`. */
export class ExpiredImportTokenException extends KmsError {
  override readonly name = "ExpiredImportTokenException" as const;
}

/** AWS `IncompleteSignatureException`. */
export class IncompleteSignatureException extends KmsError {
  override readonly name = "IncompleteSignatureException" as const;
}

/** AWS `IncorrectKeyException`. */
export class IncorrectKeyException extends KmsError {
  override readonly name = "IncorrectKeyException" as const;
}

/** AWS `IncorrectKeyMaterialException`. */
export class IncorrectKeyMaterialException extends KmsError {
  override readonly name = "IncorrectKeyMaterialException" as const;
}

/** AWS `InvalidAliasNameException`. */
export class InvalidAliasNameException extends KmsError {
  override readonly name = "InvalidAliasNameException" as const;
}

/** AWS `InvalidCiphertextException`. */
export class InvalidCiphertextException extends KmsError {
  override readonly name = "InvalidCiphertextException" as const;
}

/** AWS `InvalidGrantIdException`. */
export class InvalidGrantIdException extends KmsError {
  override readonly name = "InvalidGrantIdException" as const;
}

/** AWS `InvalidGrantTokenException`. */
export class InvalidGrantTokenException extends KmsError {
  override readonly name = "InvalidGrantTokenException" as const;
}

/** AWS `InvalidImportTokenException`. */
export class InvalidImportTokenException extends KmsError {
  override readonly name = "InvalidImportTokenException" as const;
}

/** AWS `InvalidKeyUsageException`. */
export class InvalidKeyUsageException extends KmsError {
  override readonly name = "InvalidKeyUsageException" as const;
}

/** AWS `InvalidMarkerException`. */
export class InvalidMarkerException extends KmsError {
  override readonly name = "InvalidMarkerException" as const;
}

/** AWS `InvalidSignatureException`. */
export class InvalidSignatureException extends KmsError {
  override readonly name = "InvalidSignatureException" as const;
}

/** AWS `KMSInternalException`. */
export class KMSInternalException extends KmsError {
  override readonly name = "KMSInternalException" as const;
  override readonly fault: Fault = "server";
}

/** AWS `KMSInvalidMacException`. */
export class KMSInvalidMacException extends KmsError {
  override readonly name = "KMSInvalidMacException" as const;
}

/** AWS `KMSInvalidSignatureException`. */
export class KMSInvalidSignatureException extends KmsError {
  override readonly name = "KMSInvalidSignatureException" as const;
}

/** AWS `KMSInvalidStateException`. */
export class KMSInvalidStateException extends KmsError {
  override readonly name = "KMSInvalidStateException" as const;
}

/** AWS `LimitExceededException`. */
export class LimitExceededException extends KmsError {
  override readonly name = "LimitExceededException" as const;
}

/** AWS `MalformedPolicyDocumentException`. */
export class MalformedPolicyDocumentException extends KmsError {
  override readonly name = "MalformedPolicyDocumentException" as const;
}

/** AWS `MissingAuthenticationTokenException`. */
export class MissingAuthenticationTokenException extends KmsError {
  override readonly name = "MissingAuthenticationTokenException" as const;
}

/**
 * AWS `NotAuthorizedException`: CreateAlias, UpdateAlias or DeleteAlias naming a predefined AWS
 * alias (`alias/aws/s3`); not in the KMS model, but what AWS answers (moto's tests of AWS).
 */
export class NotAuthorizedException extends KmsError {
  override readonly name = "NotAuthorizedException" as const;
}

/** AWS `NotFoundException`. */
export class NotFoundException extends KmsError {
  override readonly name = "NotFoundException" as const;
}

/** AWS `RequestEntityTooLargeException`. */
export class RequestEntityTooLargeException extends KmsError {
  override readonly name = "RequestEntityTooLargeException" as const;
}

/** AWS `SerializationException`. */
export class SerializationException extends KmsError {
  override readonly name = "SerializationException" as const;
}

/** AWS `TagException`. */
export class TagException extends KmsError {
  override readonly name = "TagException" as const;
}

/**
 * AWS's common `ThrottlingException` (HTTP 400): a request past its request quota (core/quotas.ts).
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/CommonErrors.html
 */
export class ThrottlingException extends KmsError {
  override readonly name = "ThrottlingException" as const;
}

/** AWS `UnknownOperationException`. */
export class UnknownOperationException extends KmsError {
  override readonly name = "UnknownOperationException" as const;
}

/** AWS `UnrecognizedClientException`. */
export class UnrecognizedClientException extends KmsError {
  override readonly name = "UnrecognizedClientException" as const;
}

/** AWS `UnsupportedOperationException`. */
export class UnsupportedOperationException extends KmsError {
  override readonly name = "UnsupportedOperationException" as const;
}

/** AWS `ValidationException`. */
export class ValidationException extends KmsError {
  override readonly name = "ValidationException" as const;
}
