/**
 * Downloads of local-method exports as audit events: who (the client address; a signed URL
 * carries no identity) fetched which export, when, which bytes. Azure ML and download managers
 * read one file in many Range requests, so one client's reads of one export are recorded once
 * per `windowMs` (per instance), with the first range. (Blob-method downloads go straight to
 * Azure Storage; their read logs go to Log Analytics, see infra/GOVERNANCE.md.)
 */
import type { Request } from 'express';
import type { JobStore } from '../jobs/job-store.js';
import type { LocalDownload } from '../storage/local-export-store.js';
import type { AuditTrail } from './audit-trail.js';

export function auditLocalDownloads(deps: { audit: AuditTrail; jobs: JobStore; windowMs?: number; clock?: () => Date }) {
  const windowMs = deps.windowMs ?? 5 * 60_000;
  const clock = deps.clock ?? (() => new Date());
  const recent = new Map<string, number>();
  return async (download: LocalDownload, req: Request): Promise<void> => {
    const now = clock().getTime();
    const key = `${download.jobId}\n${req.ip ?? ''}`;
    if ((recent.get(key) ?? -Infinity) > now - windowMs) return;
    for (const [seen, at] of recent) if (at <= now - windowMs) recent.delete(seen);
    recent.set(key, now);
    // The sidecar knows the owner, the job record the organization the trail is kept under.
    const job = await deps.jobs.get(download.ownerId, download.jobId).catch(() => undefined);
    await deps.audit.note({
      type: 'export.downloaded',
      organizationId: job?.organizationId ?? '',
      ownerId: download.ownerId,
      ...(job ? { userName: job.ownerName } : {}),
      via: 'download_url',
      ...(req.ip ? { clientAddress: req.ip } : {}),
      requestId: req.id,
      exportId: download.jobId,
      format: download.format,
      detail: `${req.method} ${req.headers.range ? `Range ${req.headers.range.slice(0, 100)}` : 'whole file'} of ${download.bytes} bytes`,
    });
  };
}
