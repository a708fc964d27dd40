/**
 * What the server prints on stdout when it starts, besides its JSON log lines: the admin
 * credential it created (once, on the first start of an empty store), in the form of environment
 * variables for the AWS CLI (v1 and v2) and the SDKs, or, when a principals file provides the
 * credentials instead, that no admin credential was created and who can sign.
 *
 * @module
 */

/** The part of the configuration the banner speaks of. */
export interface BannerConfig {
  accountId: string;
  region: string;
  principalsFile: string | undefined;
  adminAccessKeyId: string | undefined;
}

/** The banner's lines (none when there is nothing to say). */
export function startupBanner(
  config: BannerConfig,
  createdAdmin: { accessKeyId: string; secretAccessKey: string } | undefined,
): string[] {
  if (createdAdmin !== undefined) {
    return [
      "Created the admin credential for account " + config.accountId + " (shown only this once):",
      `  AWS_ACCESS_KEY_ID=${createdAdmin.accessKeyId}`,
      `  AWS_SECRET_ACCESS_KEY=${createdAdmin.secretAccessKey}`,
      `  AWS_REGION=${config.region}`,
      `  AWS_DEFAULT_REGION=${config.region}`,
    ];
  }
  if (config.principalsFile !== undefined && config.adminAccessKeyId === undefined) {
    return [
      `KMS_PRINCIPALS_FILE is set (${config.principalsFile}), so no admin credential was created:`,
      "  requests are signed with the access keys of that file, and a principal may only do what",
      "  its identity policies allow (CreateKey needs kms:CreateKey; an account root may do",
      "  everything). Set KMS_ADMIN_ACCESS_KEY_ID and KMS_ADMIN_SECRET_ACCESS_KEY for an admin",
      `  (root of account ${config.accountId}) as well. Region: AWS_REGION=${config.region}` +
      ` AWS_DEFAULT_REGION=${config.region}`,
    ];
  }
  return [];
}
