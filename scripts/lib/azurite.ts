/**
 * Starts Azurite (blob + table) on loopback, on free ports (or the ports given), for the local
 * stack, the tests and the benchmarks. In memory unless a data folder is given. With `oauth: true` it serves HTTPS
 * with a self-signed certificate made at start and accepts bearer tokens (`--oauth basic`), which
 * is what user-delegation SAS needs.
 */
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import selfsigned from 'selfsigned';
import { nodeArgs, startChildService, type ChildExit } from './child-service.js';

/** Azurite's documented development account; public knowledge, not a secret. */
export const AZURITE_ACCOUNT_NAME = 'devstoreaccount1';
export const AZURITE_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteOptions {
  /** Folder for persistent data. @default - in memory, lost on stop */
  location?: string;
  /** HTTPS with a generated self-signed certificate and `--oauth basic`. @default false */
  oauth?: boolean;
  /** Cap for in-memory blob content. @default 2048 */
  extentMemoryLimitMb?: number;
  /** Forward Azurite's own output (access log is off). @default none */
  forwardTo?: NodeJS.WritableStream;
  /** Listen on these ports (the local stack keeps them across restarts). @default 0 each: free ports */
  ports?: Partial<AzuritePorts>;
  /** See ChildServiceOptions.ownProcessGroup. @default false */
  ownProcessGroup?: boolean;
}

export interface AzuritePorts {
  blob: number;
  queue: number;
  table: number;
}

/** What a test or service needs to reach this Azurite; plain data, safe to hand to tests. */
export interface AzuriteEndpoints {
  accountName: string;
  accountKey: string;
  blobEndpoint: string;
  tableEndpoint: string;
  connectionString: string;
  /** PEM of the self-signed certificate when `oauth` is on; clients must trust it. */
  caCertPem?: string;
}

export interface RunningAzurite extends AzuriteEndpoints {
  pid: number;
  /** The ports it listens on. */
  ports: AzuritePorts;
  /** Resolves when the Azurite process has exited, whatever the reason. */
  exited: Promise<ChildExit>;
  stop(): Promise<void>;
}

export async function startAzurite(options: AzuriteOptions = {}): Promise<RunningAzurite> {
  const require = createRequire(import.meta.url);
  const azuriteMain = path.join(path.dirname(require.resolve('azurite/package.json')), 'dist/src/azurite.js');
  const scratch = await mkdtemp(path.join(tmpdir(), 'azurite-'));

  const args = [
    ...nodeArgs(azuriteMain),
    '--blobHost', '127.0.0.1', '--blobPort', String(options.ports?.blob ?? 0),
    '--queueHost', '127.0.0.1', '--queuePort', String(options.ports?.queue ?? 0),
    '--tableHost', '127.0.0.1', '--tablePort', String(options.ports?.table ?? 0),
    '--skipApiVersionCheck', '--disableTelemetry', '--silent', '--loose',
  ];
  if (options.location) {
    await mkdir(options.location, { recursive: true });
    args.push('--location', options.location);
  } else {
    args.push('--inMemoryPersistence', '--extentMemoryLimit', String(options.extentMemoryLimitMb ?? 2048));
  }

  let caCertPem: string | undefined;
  if (options.oauth) {
    const pems = await selfsigned.generate([{ name: 'commonName', value: '127.0.0.1' }], {
      notAfterDate: new Date(Date.now() + 7 * 24 * 3600 * 1000),
      keySize: 2048,
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] }],
    });
    const certPath = path.join(scratch, 'cert.pem');
    const keyPath = path.join(scratch, 'key.pem');
    await writeFile(certPath, pems.cert);
    await writeFile(keyPath, pems.private, { mode: 0o600 });
    args.push('--oauth', 'basic', '--cert', certPath, '--key', keyPath);
    caCertPem = pems.cert;
  }

  const urls: Record<string, string> = {};
  const service = await startChildService({
    name: 'azurite',
    command: process.execPath,
    args,
    // In-memory mode still resolves paths against cwd; keep anything stray out of the repo.
    cwd: scratch,
    forwardTo: options.forwardTo,
    ownProcessGroup: options.ownProcessGroup ?? false,
    readyWhen: (line) => {
      const match = /Azurite (Blob|Queue|Table) service is successfully listening at (\S+)/.exec(line);
      if (match) urls[match[1]!] = match[2]!;
      return urls.Blob && urls.Queue && urls.Table ? { ...urls } : undefined;
    },
  });

  const blobEndpoint = `${service.ready.Blob}/${AZURITE_ACCOUNT_NAME}`;
  const tableEndpoint = `${service.ready.Table}/${AZURITE_ACCOUNT_NAME}`;
  const protocol = options.oauth ? 'https' : 'http';
  const portOf = (url: string) => Number(new URL(url).port);
  return {
    pid: service.child.pid!,
    ports: { blob: portOf(service.ready.Blob!), queue: portOf(service.ready.Queue!), table: portOf(service.ready.Table!) },
    exited: service.exited,
    accountName: AZURITE_ACCOUNT_NAME,
    accountKey: AZURITE_ACCOUNT_KEY,
    blobEndpoint,
    tableEndpoint,
    connectionString:
      `DefaultEndpointsProtocol=${protocol};AccountName=${AZURITE_ACCOUNT_NAME};AccountKey=${AZURITE_ACCOUNT_KEY};` +
      `BlobEndpoint=${blobEndpoint};TableEndpoint=${tableEndpoint};`,
    ...(caCertPem ? { caCertPem } : {}),
    async stop() {
      // Azurite's own shutdown waits for idle keep-alive sockets; nothing here needs that grace.
      await service.stop(1_500);
      await rm(scratch, { recursive: true, force: true });
    },
  };
}
