/**
 * The connector's private ticket cache against a real MIT KDC: kinit from the keytab into a
 * cache of its own, renewed on a timer before the ticket expires (a 12-second ticket here, so
 * renewal is seen within the test), and kinit's own reason when the keytab is wrong.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KerberosTicketCache } from '../../../app/src/hive/kerberos/ticket-cache.js';
import { startMitKdc, type MitKdc } from '../../support/mit-kdc.js';

let kdc: MitKdc;
let keytab: string;
let otherKeytab: string;

beforeAll(async () => {
  kdc = await startMitKdc();
  keytab = await kdc.addPrincipal('short-lived', { maxLife: '12 seconds' });
  otherKeytab = await kdc.addPrincipal('someone-else');
});
afterAll(async () => {
  await kdc?.stop();
});

const until = async (condition: () => boolean, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

describe('the private ticket cache', () => {
  it('gets a ticket from the keytab into its own cache and renews it before it expires', async () => {
    const cache = new KerberosTicketCache({
      principal: `short-lived@${kdc.realm}`,
      keytab: { kind: 'bytes', bytes: await readFile(keytab) },
      serviceHost: '127.0.0.1',
      krb5Conf: kdc.krb5Conf,
    });
    try {
      await cache.ensureFresh();
      expect(cache.renewals).toBe(1);
      const firstExpiry = cache.expiresAt!;
      expect(firstExpiry - Date.now()).toBeLessThanOrEqual(12_000);
      // The cache is private: not the shared default /tmp/krb5cc_<uid>.
      const ccache = cache.ccacheName;
      expect(ccache).toMatch(/^FILE:.*connector-krb5-[^/]+\/krb5cc$/);
      expect(existsSync(ccache.slice('FILE:'.length))).toBe(true);
      // Still fresh: no kinit.
      await cache.ensureFresh();
      expect(cache.renewals).toBe(1);

      // The timer renews at three quarters of the ticket's life, before it runs out.
      await until(() => cache.renewals >= 2, 20_000);
      expect(Date.now()).toBeLessThan(firstExpiry);
      expect(cache.expiresAt!).toBeGreaterThan(firstExpiry);
    } finally {
      cache.stop();
    }
  });

  it("fails with kinit's reason when the keytab holds another principal's keys", async () => {
    const cache = new KerberosTicketCache({
      principal: `short-lived@${kdc.realm}`,
      keytab: { kind: 'file', file: otherKeytab },
      serviceHost: '127.0.0.1',
      krb5Conf: kdc.krb5Conf,
    });
    try {
      await expect(cache.ensureFresh()).rejects.toThrow(/^Could not obtain a Kerberos ticket for short-lived@HIVE\.TEST: kinit: .*(keytab|Key table)/i);
      expect(cache.failure).toBeDefined();
    } finally {
      cache.stop();
    }
  });
});
