/**
 * The one place KmsErrors become HTTP: status, `__type`, `message` and
 * `x-amzn-ErrorType`. Anything else becomes KMSInternalException (500) with a
 * generic message, logged by request id.
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/CommonErrors.html
 * @module
 */
import { KmsError, type KmsErrorName } from "../core/errors.ts";
import { AMZ_JSON } from "./protocol.ts";

const STATUS: Partial<Record<KmsErrorName, number>> = {
  DependencyTimeoutException: 503,
  DryRunOperationException: 412,
  MissingAuthenticationTokenException: 403,
  RequestEntityTooLargeException: 413,
  UnknownOperationException: 400,
};

/** An error reply in AWS JSON 1.1 form. */
export interface ErrorReply {
  status: number;
  name: KmsErrorName;
  /** The message the client sees (also what the audit log records). */
  message: string;
  body: string;
}

/** Maps any thrown value to the AWS error reply; `log` receives errors that are not KmsErrors. */
export function errorReply(error: unknown, log: (error: unknown) => void): ErrorReply {
  if (error instanceof KmsError) {
    const status = STATUS[error.name] ?? (error.fault === "server" ? 500 : 400);
    return {
      status,
      name: error.name,
      message: error.message,
      body: JSON.stringify({ __type: error.name, message: error.message }),
    };
  }
  log(error);
  const name = "KMSInternalException";
  const message = "An internal error occurred. Retry the request.";
  return { status: 500, name, message, body: JSON.stringify({ __type: name, message }) };
}

/** Builds the Response for an error reply. */
export function errorResponse(reply: ErrorReply, requestId: string): Response {
  return new Response(reply.body, {
    status: reply.status,
    headers: {
      "content-type": AMZ_JSON,
      "x-amzn-requestid": requestId,
      "x-amzn-errortype": reply.name,
    },
  });
}
