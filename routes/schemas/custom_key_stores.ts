/**
 * Schemas of the custom key store operations this KMS answers, with AWS's
 * constraints. Secret members (KeyStorePassword, the proxy credential) are
 * checked and never used; validation messages never quote string values.
 *
 * @see ../../../shared/reference/kms.smithy.json (DescribeCustomKeyStoresRequest, ...)
 * @module
 */
import { z } from "zod";
import { CustomKeyStoreId, Limit, Marker } from "./shared.ts";

/** CustomKeyStoreNameType: 1..256. */
const CustomKeyStoreName = z.string().min(1).max(256);

/** DescribeCustomKeyStores. */
export const DescribeCustomKeyStoresRequest = z.object({
  CustomKeyStoreId: CustomKeyStoreId.optional(),
  CustomKeyStoreName: CustomKeyStoreName.optional(),
  Limit: Limit.optional(),
  Marker: Marker.optional(),
});

/** Connect-, Disconnect- and DeleteCustomKeyStore: the store's id only. */
export const CustomKeyStoreIdRequest = z.object({ CustomKeyStoreId });

/** XksProxyAuthenticationCredentialType (both members sensitive). */
const XksProxyAuthenticationCredential = z.object({
  AccessKeyId: z.string().min(20).max(30).regex(/^[A-Z2-7]+$/),
  RawSecretAccessKey: z.string().min(43).max(64).regex(/^[a-zA-Z0-9\/+=]+$/),
});

/** UpdateCustomKeyStore. */
export const UpdateCustomKeyStoreRequest = z.object({
  CustomKeyStoreId,
  NewCustomKeyStoreName: CustomKeyStoreName.optional(),
  KeyStorePassword: z.string().min(7).max(32).optional(),
  CloudHsmClusterId: z.string().min(19).max(24).regex(/^cluster-[2-7a-zA-Z]{11,16}$/).optional(),
  XksProxyUriEndpoint: z.string().min(10).max(128).regex(/^https:\/\/[a-zA-Z0-9.-]+$/).optional(),
  XksProxyUriPath: z.string().min(10).max(128)
    .regex(/^(\/[a-zA-Z0-9\/_-]+\/kms\/xks\/v\d{1,2})$|^(\/kms\/xks\/v\d{1,2})$/).optional(),
  XksProxyVpcEndpointServiceName: z.string().min(20).max(64)
    .regex(/^(com|eu)\.amazonaws\.vpce\.([a-z]+-){2,3}\d+\.vpce-svc-[0-9a-z]+$/).optional(),
  XksProxyVpcEndpointServiceOwner: z.string().min(12).max(12).regex(/^[0-9]{12}$/).optional(),
  XksProxyAuthenticationCredential: XksProxyAuthenticationCredential.optional(),
  XksProxyConnectivity: z.enum(["PUBLIC_ENDPOINT", "VPC_ENDPOINT_SERVICE"]).optional(),
});
