/**
 * One export through the real API, downloaded and parsed: what the transport suites (TLS,
 * HTTP cookies, Kerberos) need to show "the connector exports over this transport".
 */
import { parse } from 'csv-parse/sync';
import type { ConnectorStack } from './connector-stack.js';

export async function exportRows(stack: ConnectorStack, sql: string): Promise<{ job: any; records: string[][] }> {
  const token = await stack.signIn('demo');
  const submitted = await stack.api(token, 'POST', '/api/v1/exports', { sql, ttlMinutes: 60 });
  if (submitted.status !== 202) throw new Error(`export refused: ${submitted.status} ${JSON.stringify(submitted.json)}`);
  const job = await stack.waitFor(token, submitted.json.id);
  if (job.status !== 'succeeded') return { job, records: [] };
  const response = await fetch(job.downloadUrl);
  const records = parse(Buffer.from(await response.arrayBuffer()), { columns: false }) as string[][];
  return { job, records };
}
