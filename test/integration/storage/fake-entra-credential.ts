/**
 * A TokenCredential standing in for the VM's managed identity against Azurite `--oauth basic`,
 * which checks a bearer token's claims but not its signature: audience https://storage.azure.com,
 * an issuer under https://sts.windows.net/, iat/nbf/exp, and the oid/tid a user delegation key
 * is issued to. The token is a real JWT, signed with a throwaway key.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { SignJWT } from 'jose';

export interface FakeEntraCredential extends TokenCredential {
  readonly objectId: string;
  readonly tenantId: string;
  /** Scopes of every token requested so far. */
  readonly requestedScopes: string[][];
}

export function fakeEntraCredential(): FakeEntraCredential {
  const secret = randomBytes(32);
  const objectId = randomUUID();
  const tenantId = randomUUID();
  const requestedScopes: string[][] = [];
  return {
    objectId,
    tenantId,
    requestedScopes,
    async getToken(scopes): Promise<AccessToken> {
      requestedScopes.push(Array.isArray(scopes) ? scopes : [scopes]);
      const now = Math.floor(Date.now() / 1000);
      const expires = now + 3600;
      const token = await new SignJWT({ oid: objectId, tid: tenantId })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setAudience('https://storage.azure.com')
        .setIssuer(`https://sts.windows.net/${tenantId}/`)
        .setIssuedAt(now)
        .setNotBefore(now - 60)
        .setExpirationTime(expires)
        .sign(secret);
      return { token, expiresOnTimestamp: expires * 1000 };
    },
  };
}
