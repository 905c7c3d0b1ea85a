/** A new schedule for store tests: hourly, due an hour after `now`, its link good for 90 days. */
import { randomUUID } from 'node:crypto';
import { newLinkId, type NewSchedule } from '../../app/src/schedules/schedule.js';

export function newScheduleAt(now: Date, fields: Partial<NewSchedule> = {}): NewSchedule {
  return {
    id: randomUUID(),
    linkId: newLinkId(),
    ownerId: 'owner-a',
    ownerName: 'demo',
    userId: 'u-demo',
    organizationId: 'demo-org',
    name: 'hourly measurements',
    sql: 'SELECT * FROM enos.measurement',
    format: 'csv',
    cron: '0 * * * *',
    keepLast: 3,
    status: 'active',
    nextRunAt: new Date(now.getTime() + 3_600_000),
    linkExpiresAt: new Date(now.getTime() + 90 * 86_400_000),
    runs: [],
    createdAt: now,
    updatedAt: now,
    ...fields,
  };
}
