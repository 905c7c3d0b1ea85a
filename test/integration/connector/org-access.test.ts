/**
 * Organization access comes from configuration, keyed by the organization id EnOS reports. An id
 * that happens to name a property every object has (constructor, toString, __proto__) must be an
 * organization without access like any other, not a 500 or an inherited grant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdentityProvider } from '../../../app/src/auth/enos-identity.js';
import type { HiveStandIn } from '../../../scripts/hive-stand-in/index.js';
import { startConnectorStack, startHiveForTests, type ConnectorStack } from '../../support/connector-stack.js';

/** Signs anyone in as a member of the organization named by the password. */
const identity: IdentityProvider = {
  login: async (username, password) => ({
    userId: `u-${username}`,
    userName: username,
    organizationId: password,
    enosSessionId: 'session',
    enosSessionExpiresAt: new Date(Date.now() + 3_600_000),
  }),
  logout: async () => undefined,
  checkReady: async () => undefined,
};

let hive: HiveStandIn;
let stack: ConnectorStack;
beforeAll(async () => {
  hive = await startHiveForTests(100);
  stack = await startConnectorStack({ storage: 'blob', hive, overrides: { identity } });
});
afterAll(async () => {
  await stack?.stop();
  await hive?.close();
});

describe('organization access', () => {
  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])('treats an organization named %s as one with no access', async (organization) => {
    const token = await stack.signIn(`member-of-${organization}`, organization);
    const submitted = await stack.api(token, 'POST', '/api/v1/exports', { sql: 'SELECT * FROM enos.asset' });
    expect({ status: submitted.status, code: submitted.json.error?.code }).toEqual({ status: 403, code: 'table_forbidden' });
    const catalog = await stack.api(token, 'GET', '/api/v1/catalog');
    expect({ status: catalog.status, code: catalog.json.error?.code }).toEqual({ status: 403, code: 'table_forbidden' });
  });

  it('still grants a configured organization its databases', async () => {
    const token = await stack.signIn('demo-user', 'demo-org');
    const catalog = await stack.api(token, 'GET', '/api/v1/catalog');
    expect(catalog.status).toBe(200);
    expect(catalog.json.databases.map((database: { name: string }) => database.name)).toEqual(['enos']);
  });
});
