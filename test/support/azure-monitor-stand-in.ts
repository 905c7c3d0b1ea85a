/**
 * What the Azure Monitor exporter talks to, on loopback, for tests that run the connector (or
 * the cleanup function) with telemetry on:
 * - an HTTPS ingestion endpoint (`POST /v2.1/track`, Application Insights' Breeze API) that
 *   keeps every envelope and the Authorization header it came with; the exporter insists on
 *   TLS, so the test trusts the self-signed certificate through NODE_EXTRA_CA_CERTS;
 * - a managed identity endpoint in the App Service protocol (`IDENTITY_ENDPOINT` +
 *   `X-IDENTITY-HEADER`, which @azure/identity's ManagedIdentityCredential speaks), handing out
 *   a token for the audience the exporter asks for, so Entra ID authentication runs for real.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import selfsigned from 'selfsigned';

export interface Envelope {
  name: string;
  tags: Record<string, string>;
  data: { baseType: string; baseData: Record<string, any> };
}

export interface AzureMonitorStandIn {
  /** For APPLICATIONINSIGHTS_CONNECTION_STRING. */
  connectionString: string;
  /** For NODE_EXTRA_CA_CERTS of the process under test. */
  caFile: string;
  /** IDENTITY_ENDPOINT, IDENTITY_HEADER for the process under test. */
  identityEnv: Record<string, string>;
  envelopes: Envelope[];
  /** Authorization headers of the ingestion requests. */
  authorizations: string[];
  /** `resource` of each token request. */
  tokenRequests: string[];
  readonly token: string;
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
}

export async function startAzureMonitorStandIn(): Promise<AzureMonitorStandIn> {
  const pems = await selfsigned.generate([{ name: 'commonName', value: '127.0.0.1' }], {
    notAfterDate: new Date(Date.now() + 24 * 3600 * 1000),
    keySize: 2048,
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] }],
  });
  const caFile = path.join(await mkdtemp(path.join(tmpdir(), 'ai-stand-in-')), 'ca.pem');
  await writeFile(caFile, pems.cert);
  const token = `fake-entra-token-${Date.now()}`;
  const identityHeader = 'identity-header-for-tests';
  const envelopes: Envelope[] = [];
  const authorizations: string[] = [];
  const tokenRequests: string[] = [];

  const ingestion = createHttpsServer({ key: pems.private, cert: pems.cert }, (req, res) => {
    void body(req).then((raw) => {
      if (req.method === 'POST' && req.url?.startsWith('/v2.1/track')) {
        authorizations.push(req.headers.authorization ?? '');
        // The exporter sends a JSON array (or newline-delimited JSON).
        const text = raw.toString('utf8').trim();
        const items = (text.startsWith('[') ? JSON.parse(text) : text.split('\n').map((line) => JSON.parse(line))) as Envelope[];
        envelopes.push(...items);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ itemsReceived: items.length, itemsAccepted: items.length, errors: [] }));
        return;
      }
      res.writeHead(404).end();
    });
  });
  const identity = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://identity');
    if (req.headers['x-identity-header'] !== identityHeader) {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'missing X-IDENTITY-HEADER' }));
      return;
    }
    const resource = url.searchParams.get('resource') ?? '';
    tokenRequests.push(resource);
    const expiresOn = Math.floor(Date.now() / 1000) + 3600;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ access_token: token, expires_on: String(expiresOn), resource, token_type: 'Bearer' }));
  });
  await Promise.all([
    new Promise<void>((resolve) => ingestion.listen(0, '127.0.0.1', resolve)),
    new Promise<void>((resolve) => identity.listen(0, '127.0.0.1', resolve)),
  ]);
  const ingestionPort = (ingestion.address() as AddressInfo).port;
  const identityPort = (identity.address() as AddressInfo).port;
  return {
    connectionString: `InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:${ingestionPort}/`,
    caFile,
    identityEnv: { IDENTITY_ENDPOINT: `http://127.0.0.1:${identityPort}/msi/token`, IDENTITY_HEADER: identityHeader },
    envelopes,
    authorizations,
    tokenRequests,
    token,
    async close() {
      ingestion.closeAllConnections();
      identity.closeAllConnections();
      await Promise.all([new Promise((resolve) => ingestion.close(resolve)), new Promise((resolve) => identity.close(resolve))]);
    },
  };
}
