/**
 * Read-only SAS tokens for one blob. With a connection string (local stack) the token is signed
 * with the account key; in Azure the connector has no key, only its managed identity, so it asks
 * the service for a user delegation key and signs with that (which lets shared keys stay off).
 */
import { withDeadline } from '../deadline.js';
import { isLoopbackHost } from '../loopback.js';
import {
  BlobSASPermissions,
  SASProtocol,
  StorageSharedKeyCredential,
  generateBlobSASQueryParameters,
  type BlobServiceClient,
  type UserDelegationKey,
} from '@azure/storage-blob';

/** A user delegation key, and so a user-delegation SAS, lives at most 7 days. */
export const MAX_SAS_LIFETIME_MS = 7 * 24 * 3600 * 1000;
/** SAS start this far in the past, so a client whose clock runs behind the service's can use it at once. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;
/**
 * Signed version pinned rather than the SDK's newest default: the string-to-sign changes with the
 * version, and an emulator (Azurite 3.35) that does not know the newest one answers 403. Azure
 * accepts any supported version, so the same pin works in both places.
 */
export const DEFAULT_SAS_VERSION = '2025-05-05';

export interface SasWindow {
  startsOn: Date;
  expiresOn: Date;
}

export interface BlobSasSigner {
  /** The query string (no leading `?`) granting read on `blobName` for the window. */
  sign(blobName: string, window: SasWindow): Promise<string>;
  /** The latest expiry a token signed now can carry. */
  latestExpiry(now: Date): Date;
}

const READ_ONLY = BlobSASPermissions.parse('r');

/** SAS tokens and delegation keys carry whole seconds; compare and request in the same unit. */
export function floorToSecond(date: Date | number): Date {
  const ms = typeof date === 'number' ? date : date.getTime();
  return new Date(Math.floor(ms / 1000) * 1000);
}

/**
 * HTTPS only, except for an emulator on this machine that only speaks HTTP: a SAS is a bearer
 * capability, so it must never travel in clear text across a network.
 */
export function sasProtocolFor(endpoint: string): SASProtocol {
  const url = new URL(endpoint);
  if (url.protocol === 'https:') return SASProtocol.Https;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return SASProtocol.HttpsAndHttp;
  throw new Error(`Blob endpoint ${url.origin} is not usable for download URLs; expected https:// (plain HTTP only for an emulator on a loopback address)`);
}

interface SignerOptions {
  container: string;
  version: string;
  protocol: SASProtocol;
}

export function createAccountKeySigner(credential: StorageSharedKeyCredential, options: SignerOptions): BlobSasSigner {
  return {
    sign: async (blobName, window) =>
      generateBlobSASQueryParameters(
        { containerName: options.container, blobName, permissions: READ_ONLY, ...window, protocol: options.protocol, version: options.version },
        credential,
      ).toString(),
    latestExpiry: (now) => floorToSecond(now.getTime() + MAX_SAS_LIFETIME_MS),
  };
}

/**
 * Signs with a user delegation key that is fetched once and reused while it covers the SAS
 * window. Each key is requested for the longest allowed span (7 days, less a skew margin that
 * keeps the request inside the service's limit), so one key serves every link until close to
 * its end; concurrent callers share one request.
 */
export function createUserDelegationSigner(
  service: BlobServiceClient,
  options: SignerOptions & { clock: () => Date; /** Deadline of the key request. @default none */ timeoutMs?: number },
): BlobSasSigner {
  let cached: UserDelegationKey | undefined;
  let pending: Promise<UserDelegationKey> | undefined;

  const covers = (key: UserDelegationKey, window: SasWindow) =>
    key.signedStartsOn.getTime() <= window.startsOn.getTime() && key.signedExpiresOn.getTime() >= window.expiresOn.getTime();

  const fetchKey = async (): Promise<UserDelegationKey> => {
    const now = options.clock().getTime();
    const request = (abortSignal?: AbortSignal) =>
      service.getUserDelegationKey(floorToSecond(now - CLOCK_SKEW_MS), floorToSecond(now + MAX_SAS_LIFETIME_MS - CLOCK_SKEW_MS), abortSignal ? { abortSignal } : {});
    const response = options.timeoutMs === undefined ? await request() : await withDeadline(options.timeoutMs, request);
    return {
      signedObjectId: response.signedObjectId,
      signedTenantId: response.signedTenantId,
      signedStartsOn: response.signedStartsOn,
      signedExpiresOn: response.signedExpiresOn,
      signedService: response.signedService,
      signedVersion: response.signedVersion,
      value: response.value,
      ...(response.signedDelegatedUserTenantId ? { signedDelegatedUserTenantId: response.signedDelegatedUserTenantId } : {}),
    };
  };

  const keyFor = async (window: SasWindow): Promise<UserDelegationKey> => {
    // Two rounds at most: a request already under way may have started a moment before this
    // window was computed and so end a moment too early; the next one starts later.
    for (let round = 0; round < 2; round += 1) {
      if (cached && covers(cached, window)) return cached;
      pending ??= fetchKey()
        .then((key) => (cached = key))
        .finally(() => {
          pending = undefined;
        });
      await pending;
    }
    if (cached && covers(cached, window)) return cached;
    throw new Error(
      `No user delegation key covers the SAS window ${window.startsOn.toISOString()}..${window.expiresOn.toISOString()}; ` +
        `the service granted ${cached?.signedStartsOn.toISOString()}..${cached?.signedExpiresOn.toISOString()}`,
    );
  };

  return {
    async sign(blobName, window) {
      const key = await keyFor(window);
      return generateBlobSASQueryParameters(
        { containerName: options.container, blobName, permissions: READ_ONLY, ...window, protocol: options.protocol, version: options.version },
        key,
        service.accountName,
      ).toString();
    },
    latestExpiry: (now) => floorToSecond(now.getTime() + MAX_SAS_LIFETIME_MS - CLOCK_SKEW_MS),
  };
}
