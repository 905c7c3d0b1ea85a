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

/** The Azure ML snippet, with the URL in a Python string literal. */
export function amlSnippet(url: string, format: 'csv' | 'csv.gz' | 'parquet'): string {
  const literal = JSON.stringify(url);
  return [
    '# Azure ML job input (SDK v2)',
    'from azure.ai.ml import Input',
    `data = Input(type="uri_file", path=${literal})`,
    '',
    '# or straight into pandas',
    'import pandas as pd',
    format === 'parquet' ? `df = pd.read_parquet(${literal})` : `df = pd.read_csv(${literal}${format === 'csv.gz' ? ', compression="gzip"' : ''})`,
  ].join('\n');
}
