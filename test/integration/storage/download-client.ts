/**
 * GETs a download URL the way Azure ML or curl would: no credentials, just the URL. Plain
 * `fetch` for HTTP; for an HTTPS emulator with a self-signed certificate, node:https with that
 * certificate as the only extra CA for this one request (TLS checks stay on everywhere).
 */
import { request } from 'node:https';

export interface DownloadResponse {
  status: number;
  header(name: string): string | undefined;
  body: Buffer;
}

export type Download = (url: string, headers?: Record<string, string>) => Promise<DownloadResponse>;

export const fetchDownload: Download = async (url, headers = {}) => {
  const response = await fetch(url, { headers });
  const body = Buffer.from(await response.arrayBuffer());
  return { status: response.status, header: (name) => response.headers.get(name) ?? undefined, body };
};

export function httpsDownload(caCertPem: string, method = 'GET'): Download {
  return (url, headers = {}) =>
    new Promise((resolve, reject) => {
      const req = request(url, { method, headers, ca: caCertPem }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (part: Buffer) => parts.push(part));
        res.on('error', reject);
        res.on('end', () => {
          const value = (name: string) => {
            const raw = res.headers[name.toLowerCase()];
            return Array.isArray(raw) ? raw.join(', ') : raw;
          };
          resolve({ status: res.statusCode ?? 0, header: value, body: Buffer.concat(parts) });
        });
      });
      req.on('error', reject);
      req.end();
    });
}
