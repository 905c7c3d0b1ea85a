/**
 * Job outcomes in the audit trail: an export that succeeded (its download link now exists, with
 * its expiry), failed (with the code the user sees) or expired (the sweeper deleted its data).
 * Fed by the observed job store, so every path that ends a job is covered, whoever ran it.
 */
import type { JobTransitionListener } from '../jobs/observed-job-store.js';
import type { AuditEventType } from './audit-event.js';
import type { AuditTrail } from './audit-trail.js';

const RECORDED: Partial<Record<string, AuditEventType>> = {
  succeeded: 'export.succeeded',
  failed: 'export.failed',
  expired: 'export.expired',
};

export function auditJobOutcomes(audit: AuditTrail): JobTransitionListener {
  return ({ job, status }) => {
    const type = RECORDED[status];
    if (!type) return;
    const detail =
      status === 'succeeded'
        ? `rows=${job.rows} bytes=${job.bytes}${job.truncated ? ' truncated' : ''} link expiresAt=${job.expiresAt?.toISOString() ?? '?'}`
        : status === 'expired'
          ? 'past its expiry; the sweeper deletes its data'
          : job.error?.message;
    void audit.note({
      type,
      outcome: status === 'failed' ? 'failure' : 'success',
      organizationId: job.organizationId,
      ownerId: job.ownerId,
      userName: job.ownerName,
      via: 'system',
      exportId: job.id,
      format: job.format,
      ...(job.error && status === 'failed' ? { reason: job.error.code } : {}),
      ...(detail ? { detail } : {}),
    });
  };
}
