/**
 * The stand-in's data: users, organizations, registered apps and the gateway policy, read from a
 * JSON seed file (or given inline by a test) and validated once. Plain passwords exist only in
 * the seed; `prepareSeed` replaces them by scrypt hashes so the running stand-in never holds them.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { hashPassword, type PasswordHash } from './passwords.js';

export const DEFAULT_SEED_FILE = fileURLToPath(new URL('./seed.json', import.meta.url));

/** The documented range of `expireInterval`: values outside it are clamped, not refused. */
export const EXPIRE_INTERVAL_MIN_SECONDS = 900;
export const EXPIRE_INTERVAL_MAX_SECONDS = 864_000;

const policySchema = z
  .object({
    /** When true, IAM calls need `apim-accesstoken`/`apim-signature`/`apim-timestamp`, as behind the real gateway. */
    requireAppToken: z.boolean().default(true),
    /** The documented initial lifetime of an APIM access token is 7200 s. */
    appTokenTtlSeconds: z.number().int().min(60).default(7_200),
    /** Used when a login sends no `expireInterval`; the docs' samples show 7200. */
    defaultExpireInterval: z.number().int().min(EXPIRE_INTERVAL_MIN_SECONDS).max(EXPIRE_INTERVAL_MAX_SECONDS).default(7_200),
    /** Consecutive wrong passwords after which the account answers 30429 for `lockoutSeconds`. */
    maxFailedLogins: z.number().int().min(1).default(5),
    lockoutSeconds: z.number().int().min(1).default(900),
  })
  .strict();

const organizationSchema = z
  .object({
    id: z.string().min(1),
    name: z.string().min(1),
    domain: z.string().nullable().default(null),
  })
  .strict();

const userSchema = z
  .object({
    id: z.string().min(1),
    /** The account name, sent as `principal` at login and returned as `user.name`. */
    name: z.string().min(1),
    password: z.string().min(1),
    /** The resident organization: where the account was created and where a login works. */
    organizationId: z.string().min(1),
    /** Organizations the user was invited into; listed, but a login still works in the resident one. */
    guestOrganizationIds: z.array(z.string().min(1)).default([]),
    email: z.string().default(''),
    description: z.string().default(''),
    /** EnOS user type: 0 user, 1 OU owner, 2 OU admin. */
    type: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(0),
    /** EnOS account state: 0 enabled, 1 disabled. */
    state: z.union([z.literal(0), z.literal(1)]).default(0),
    passwordExpireTime: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();

const appSchema = z
  .object({
    name: z.string().min(1),
    appKey: z.string().min(1),
    appSecret: z.string().min(1),
  })
  .strict();

export const seedSchema = z
  .object({
    $comment: z.string().optional(),
    policy: policySchema.default(policySchema.parse({})),
    apps: z.array(appSchema).default([]),
    organizations: z.array(organizationSchema).min(1),
    users: z.array(userSchema).min(1),
  })
  .strict()
  .superRefine((seed, ctx) => {
    const orgIds = new Set(seed.organizations.map((org) => org.id));
    const seen = new Set<string>();
    seed.users.forEach((user, index) => {
      for (const orgId of [user.organizationId, ...user.guestOrganizationIds]) {
        if (!orgIds.has(orgId)) {
          ctx.addIssue({ code: 'custom', path: ['users', index], message: `user ${user.name} refers to organization ${orgId}, which the seed does not define (expected one of ${[...orgIds].join(', ')})` });
        }
      }
      if (seen.has(user.name)) ctx.addIssue({ code: 'custom', path: ['users', index, 'name'], message: `duplicate user name ${user.name}` });
      seen.add(user.name);
    });
  });

export type SeedInput = z.input<typeof seedSchema>;
export type SeedPolicy = z.output<typeof policySchema>;
export type SeedOrganization = z.output<typeof organizationSchema>;
export type SeedApp = z.output<typeof appSchema>;

export interface StandInUser extends Omit<z.output<typeof userSchema>, 'password' | 'passwordExpireTime'> {
  passwordHash: PasswordHash;
  passwordExpireTime: Date | undefined;
}

export interface PreparedSeed {
  policy: SeedPolicy;
  apps: SeedApp[];
  organizations: Map<string, SeedOrganization>;
  /** Keyed by account name (the login `principal`). */
  users: Map<string, StandInUser>;
}

export async function readSeedFile(file: string = DEFAULT_SEED_FILE): Promise<SeedInput> {
  const text = await readFile(file, 'utf8');
  try {
    return JSON.parse(text) as SeedInput;
  } catch (error) {
    throw new Error(`EnOS stand-in seed ${file} is not valid JSON: ${(error as Error).message}`);
  }
}

export async function prepareSeed(input: SeedInput, source = 'inline seed'): Promise<PreparedSeed> {
  const result = seedSchema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
    throw new Error(`EnOS stand-in ${source} is invalid: ${issues}`);
  }
  const seed = result.data;
  const users = new Map<string, StandInUser>();
  for (const { password, passwordExpireTime, ...user } of seed.users) {
    users.set(user.name, {
      ...user,
      passwordHash: await hashPassword(password),
      passwordExpireTime: passwordExpireTime === undefined ? undefined : new Date(passwordExpireTime),
    });
  }
  return {
    policy: seed.policy,
    apps: seed.apps,
    organizations: new Map(seed.organizations.map((org) => [org.id, org])),
    users,
  };
}
