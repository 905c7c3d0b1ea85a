/**
 * The shapes of EnOS IAM answers the connector relies on, and only those fields. The IAM service
 * wraps payloads as `{success, successful, fail, failed, status, message, requestId, ...payload}`
 * (Log In / Get Session Information samples); gateway rejections of the app token carry an APIM
 * code in `status` instead. Everything else in the documented structs is ignored on purpose.
 */
import { z } from 'zod';

/** Documented Log In codes that mean "these credentials do not get a session". */
export const CREDENTIAL_REJECTIONS: ReadonlyMap<number, string> = new Map([
  [30400, 'wrong account or password'],
  [30404, 'LDAP connection does not exist'],
  [30410, 'password expired'],
  [30429, 'too many failed logins'],
  [30511, 'account disabled'],
]);

/** APIM code for an unknown or expired app access token: worth one fresh token and one more try. */
export const APIM_TOKEN_EXPIRED = 1203;

// The success flags are what sets an IAM answer apart from a gateway refusal, which also has a
// numeric `status`: without them the body is not an IAM envelope.
export const iamEnvelopeSchema = z
  .object({
    status: z.number(),
    message: z.string().nullish(),
    requestId: z.string().nullish(),
    success: z.boolean().optional(),
    successful: z.boolean().optional(),
    session: z.unknown().optional(),
  })
  .refine((envelope) => envelope.success !== undefined || envelope.successful !== undefined, 'expected the IAM success/successful flags');
export type IamEnvelope = z.infer<typeof iamEnvelopeSchema>;

export const isIamSuccess = (envelope: IamEnvelope): boolean => envelope.status === 0 && envelope.success !== false && envelope.successful !== false;

const organizationSchema = z.object({ id: z.string().min(1), name: z.string().nullish() });
// Some doc versions type the organizations as List<JSONObject> while the samples show an object.
const organizationFieldSchema = z.union([organizationSchema, z.array(organizationSchema).min(1).transform((list) => list[0]!)]);

export const iamSessionSchema = z.object({
  id: z.string().min(1),
  /** Seconds the session lives from now (7200 in the samples). */
  expires: z.number().positive(),
  user: z.object({
    id: z.string().min(1),
    name: z.string().min(1),
    organizationId: z.string().nullish(),
  }),
  residentOrganization: organizationFieldSchema.nullish(),
  workingOrganization: organizationFieldSchema.nullish(),
});
export type IamSession = z.infer<typeof iamSessionSchema>;

/** A gateway-level refusal: not an IAM envelope, an APIM code in `status`. */
export function gatewayStatusOf(httpStatus: number, body: unknown): number | undefined {
  if (httpStatus !== 401 && httpStatus !== 403) return undefined;
  if (typeof body !== 'object' || body === null) return undefined;
  const { status, success, successful } = body as Record<string, unknown>;
  if (typeof success === 'boolean' || typeof successful === 'boolean') return undefined;
  return typeof status === 'number' ? status : undefined;
}

/** List Users: `userWithLoginTime`, each with the account `state` (0 enabled, 1 disabled). */
export const iamUserListSchema = z.object({
  userWithLoginTime: z.array(z.object({ id: z.string().min(1), name: z.string().nullish(), state: z.number().int() })),
});
