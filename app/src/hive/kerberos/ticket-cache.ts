/**
 * The connector's own Kerberos tickets: a private ticket cache (a 0700 temp folder, never the
 * shared /tmp/krb5cc_<uid>), filled by `kinit` from the keytab and renewed before the ticket
 * expires — by a timer at three quarters of its life, and on demand before a connection if the
 * timer has not caught up. Renewal writes a new cache beside the old one and renames it into
 * place, so a GSSAPI call in flight never reads a half-written cache.
 *
 * MIT GSSAPI in this process finds the cache through KRB5CCNAME (and the realm settings through
 * KRB5_CONFIG); those are process-wide, so one process holds one Kerberos identity.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { HiveKerberosConfig } from '../../config/config.js';
import { pointKerberosAt } from '../../config/kerberos-environment.js';
import { AppError } from '../../errors.js';
import { ticketGrantingTicketTimes } from './ccache-file.js';

const run = promisify(execFile);

/** Renew when this share of the ticket's life is left. */
const RENEW_WHEN_LEFT = 0.25;

export class KerberosTicketCache {
  private readonly dir: string;
  private readonly file: string;
  private keytabFile: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;
  private lastError: Error | undefined;
  private times: { start: number; end: number } | undefined;
  /** How many times kinit has filled the cache (for tests and logs). */
  renewals = 0;

  constructor(private readonly settings: HiveKerberosConfig) {
    this.dir = mkdtempSync(path.join(tmpdir(), 'connector-krb5-'));
    this.file = path.join(this.dir, 'krb5cc');
    process.once('exit', () => rmSync(this.dir, { recursive: true, force: true }));
  }

  get principal(): string {
    return this.settings.principal;
  }

  /** The cache GSSAPI uses, as KRB5CCNAME names it. */
  get ccacheName(): string {
    return `FILE:${this.file}`;
  }

  /** When the current ticket-granting ticket expires (epoch ms), once one was obtained. */
  get expiresAt(): number | undefined {
    return this.times?.end;
  }

  /** Makes sure a ticket with enough life left is in the cache, renewing if needed. */
  async ensureFresh(now = Date.now()): Promise<void> {
    if (this.times && now < this.renewAt(this.times)) return;
    await this.renew();
  }

  private renewAt(times: { start: number; end: number }): number {
    return times.end - (times.end - times.start) * RENEW_WHEN_LEFT;
  }

  renew(): Promise<void> {
    this.renewing ??= this.kinit().finally(() => {
      this.renewing = undefined;
    });
    return this.renewing;
  }

  private async kinit(): Promise<void> {
    try {
      pointKerberosAt({ ticketCache: this.ccacheName, krb5Conf: this.settings.krb5Conf });
      const keytab = await this.keytab();
      const next = `${this.file}.next`;
      await run('kinit', ['-k', '-t', keytab, '-c', `FILE:${next}`, this.settings.principal], { timeout: 30_000 });
      this.times = ticketGrantingTicketTimes(await readFile(next));
      await rename(next, this.file);
      this.renewals += 1;
      this.lastError = undefined;
      this.schedule(this.renewAt(this.times) - Date.now());
    } catch (error) {
      this.lastError = error as Error;
      // Try again soon, but well before the ticket we still hold (if any) runs out.
      const left = this.times ? this.times.end - Date.now() : 0;
      this.schedule(Math.min(60_000, Math.max(1_000, left / 2)));
      throw new AppError('hive_unavailable', 503, `Could not obtain a Kerberos ticket for ${this.settings.principal}: ${describe(error)}`, { cause: error });
    }
  }

  private async keytab(): Promise<string> {
    if (this.settings.keytab.kind === 'file') return this.settings.keytab.file;
    if (!this.keytabFile) {
      this.keytabFile = path.join(this.dir, 'keytab');
      await writeFile(this.keytabFile, this.settings.keytab.bytes, { mode: 0o600 });
    }
    return this.keytabFile;
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.renew().catch(() => undefined), Math.max(0, delayMs));
    this.timer.unref(); // never what keeps the process alive
  }

  /** The error of the last failed renewal, if the last attempt failed. */
  get failure(): Error | undefined {
    return this.lastError;
  }

  stop(): void {
    clearTimeout(this.timer);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** kinit's own words (stderr), or the spawn error: "kinit: Keytab contains no suitable keys …". */
function describe(error: unknown): string {
  const stderr = (error as { stderr?: string }).stderr?.trim();
  if (stderr) return stderr.split('\n').at(-1)!;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'kinit is not installed (Debian/Ubuntu package krb5-user)';
  return (error as Error).message;
}

let shared: KerberosTicketCache | undefined;

/** The process's one ticket cache, started on first use. */
export function ticketCacheFor(settings: HiveKerberosConfig): KerberosTicketCache {
  if (shared && shared.principal !== settings.principal) {
    throw new AppError('hive_unavailable', 503, `This process already holds Kerberos tickets for ${shared.principal}; one process has one Kerberos identity`);
  }
  shared ??= new KerberosTicketCache(settings);
  return shared;
}
