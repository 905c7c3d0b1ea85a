/**
 * The Table audit trail against Table endpoints that never answer, with full garbage collections
 * forced while each deadline is pending. Every audited request waits for its append, and the
 * retention purge holds the sweeper, so each kind of call — the table check, an append, a page
 * of the trail, the purge's listing, the readiness probe — fails once its deadline passes
 * (`storage_error`, or `not_ready` for the probe) instead of holding them for good — also when
 * an SDK layer loses the abort signal, since the deadline settles the call by itself.
 */
import { describe, it } from 'vitest';
import { newAuditEventId, type AuditEvent } from '../../../app/src/audit/audit-event.js';
import { createTableAuditStore } from '../../../app/src/audit/table-audit-store.js';
import type { AuditStore } from '../../../app/src/audit/audit-store.js';
import { expectAppErrorUnderGc } from '../../support/forced-gc.js';
import { silentTableClient, withSilentServer, withSilentTableStore } from '../../support/silent-server.js';

const DEADLINE_MS = 1_000;

const event = (): AuditEvent => {
  const at = new Date();
  return { id: newAuditEventId(at), at, type: 'signin.succeeded', outcome: 'success', organizationId: 'demo-org', userName: 'demo', via: 'session' };
};

/** The store on an endpoint that says the table exists and then never answers again. */
const withSilentAuditStore = (operationTimeoutMs: number, use: (store: AuditStore) => Promise<void>, client: { losesAborts?: boolean } = {}) =>
  withSilentTableStore('auditevents', (table) => createTableAuditStore({ client: table, operationTimeoutMs }), use, client);

describe('table audit store deadlines under garbage collection', () => {
  it('fails an append whose table check never gets an answer', async () => {
    await withSilentServer(async (url) => {
      const store = createTableAuditStore({ client: silentTableClient(url, 'auditevents'), operationTimeoutMs: DEADLINE_MS });
      await expectAppErrorUnderGc(() => store.append([event()]), { code: 'storage_error', boundMs: DEADLINE_MS });
    });
  });

  it('fails an append that never gets an answer once the table is there', async () => {
    await withSilentAuditStore(DEADLINE_MS, async (store) => {
      await expectAppErrorUnderGc(() => store.append([event()]), { code: 'storage_error', boundMs: DEADLINE_MS });
    });
  });

  it('fails a page of the trail within four call deadlines, all its pages together', async () => {
    await withSilentAuditStore(DEADLINE_MS, async (store) => {
      await expectAppErrorUnderGc(() => store.query({ organizationId: 'demo-org', limit: 50 }), { code: 'storage_error', boundMs: 4 * DEADLINE_MS });
    });
  });

  it("fails the retention purge's listing within twenty call deadlines", async () => {
    // A shorter call deadline keeps the purge's twentyfold one short enough for a test.
    const callMs = 250;
    await withSilentAuditStore(callMs, async (store) => {
      await expectAppErrorUnderGc(() => store.purge(new Date()), { code: 'storage_error', boundMs: 20 * callMs });
    });
  });

  it('answers not ready when the readiness probe gets no answer', async () => {
    await withSilentAuditStore(DEADLINE_MS, async (store) => {
      await expectAppErrorUnderGc(() => store.checkReady(), { code: 'not_ready', boundMs: DEADLINE_MS });
    });
  });

  it('fails an append at its deadline even when the SDK loses the abort signal', async () => {
    await withSilentAuditStore(DEADLINE_MS, (store) => expectAppErrorUnderGc(() => store.append([event()]), { code: 'storage_error', boundMs: DEADLINE_MS }), { losesAborts: true });
  });

  it('fails a page of the trail at its deadline even when the SDK loses the abort signal', async () => {
    const query = { organizationId: 'demo-org', limit: 50 };
    await withSilentAuditStore(DEADLINE_MS, (store) => expectAppErrorUnderGc(() => store.query(query), { code: 'storage_error', boundMs: 4 * DEADLINE_MS }), { losesAborts: true });
  });
});
