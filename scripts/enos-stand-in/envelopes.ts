/**
 * The three answer shapes the stand-in speaks, each copied from the EnOS documentation:
 * - IAM service (`/enos-iam-service/...`): `{fail, success, failed, successful, status, message,
 *   requestId, ...payload}`, the payload (`session`, `organizations`) at the top level.
 * - APIM token service (`/apim-token-service/...`): `{status, msg, business, data}`.
 * - Gateway rejections of an app token or signature: `{status, msg, requestId, data}` with the
 *   documented APIM codes. The docs do not show this body or its HTTP status; see the README.
 */
import { randomUUID } from 'node:crypto';

/** Documented IAM error codes (Log In, Get Session Information). */
export const IamStatus = {
  ok: 0,
  /** Wrong account or password (also: missing LDAP domain, bad LDAP mapping). */
  badCredentials: 30400,
  /** Bearer token (session id) missing or malformed. */
  invalidBearer: 30401,
  /** Session not found (unknown, expired or logged out); for login: LDAP connection does not exist. */
  notFound: 30404,
  passwordExpired: 30410,
  tooManyFailures: 30429,
  accountDisabled: 30511,
} as const;

/** Documented APIM token codes ("Invoking API with Access Token" error table). */
export const ApimStatus = {
  ok: 0,
  duplicateEncryption: 1001,
  unknownAppKey: 1002,
  invalidEncryption: 1003,
  invalidParameter: 1004,
  emptyParameter: 1202,
  tokenExpired: 1203,
  refreshFailed: 1204,
} as const;

export const newRequestId = (): string => randomUUID().replaceAll('-', '');

export function iamOk<T extends object>(payload: T, requestId: string) {
  return { fail: false, success: true, failed: false, successful: true, status: IamStatus.ok, message: '', requestId, ...payload };
}

export function iamError(status: number, message: string, requestId: string) {
  return { fail: true, success: false, failed: true, successful: false, status, message, requestId };
}

export function tokenOk(accessToken: string, expire: number) {
  return { status: ApimStatus.ok, msg: 'SUCCESS', business: 'apim-token-service', data: { accessToken, expire } };
}

export function tokenError(status: number, msg: string) {
  return { status, msg, business: 'apim-token-service', data: null };
}

export function gatewayError(status: number, msg: string, requestId: string) {
  return { status, msg, requestId, data: null };
}
