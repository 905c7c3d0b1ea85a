/** Small, locale-aware formatting for the page. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function formatCount(value: number): string {
  return value.toLocaleString();
}

export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min ${s} s`;
  return `${s} s`;
}

export function formatLocalTime(iso: string | null): string {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '—';
}

/** "in 23 h 59 min" / "expired". */
export function countdown(iso: string, now = Date.now()): string {
  const left = new Date(iso).getTime() - now;
  return left <= 0 ? 'expired' : `in ${formatDuration(left)}`;
}

export function lifetimeChoices(maxMinutes: number): { minutes: number; label: string }[] {
  const hours = [1, 6, 12, 24, 48, 72, 120, 168].filter((h) => h * 60 <= maxMinutes);
  return hours.map((h) => ({ minutes: h * 60, label: h < 24 || h % 24 !== 0 ? `${h} hours` : `${h / 24} day${h === 24 ? '' : 's'}` }));
}

/** How the page names each export format. */
export function formatName(format: string): string {
  return ({ csv: 'CSV', 'csv.gz': 'CSV, gzip', parquet: 'Parquet' } as Record<string, string>)[format] ?? format;
}

/** The choices of the format menu. */
export function formatChoice(format: string): string {
  return ({ csv: 'CSV', 'csv.gz': 'CSV, gzip-compressed', parquet: 'Parquet (typed, compressed)' } as Record<string, string>)[format] ?? format;
}

interface Progress {
  phase: 'queued' | 'hive_pending' | 'hive_running' | 'writing' | 'done';
  rows: number;
  hive: { percent: number | null; summary: string | null } | null;
}

const FINAL_TEXT: Record<string, string> = { succeeded: 'Ready', failed: 'Failed', cancelled: 'Cancelled', expired: 'Expired' };

/**
 * Where an export is, in words that say what really happens: queued here, waiting for the
 * cluster, running on Hive (with Hive's own progress when its engine reports it), writing rows
 * (with how many so far); `short` for the list.
 */
export function statusText(job: { status: string; cancelRequested: boolean; progress: Progress }, short = false): string {
  if (job.status in FINAL_TEXT) return FINAL_TEXT[job.status]!;
  if (job.cancelRequested) return 'Cancelling…';
  const { phase, hive, rows } = job.progress;
  if (job.status === 'queued' || phase === 'queued') return short ? 'Queued' : 'Queued — waiting for a free slot';
  switch (phase) {
    case 'hive_running': {
      const percent = hive?.percent ?? null;
      if (short) return `Running on Hive${percent !== null ? ` ${percent}%` : ''}`;
      return `Running on Hive${percent !== null ? ` — ${percent}%` : ''}${hive?.summary ? ` (${hive.summary})` : ''}`;
    }
    case 'writing':
      // Rows count once written: the first ones may still be on their way through the encoder.
      return short || rows === 0 ? 'Writing rows' : `Writing rows — ${formatCount(rows)} so far`;
    default:
      return short ? 'Waiting for Hive' : 'Waiting for the Hive cluster';
  }
}
