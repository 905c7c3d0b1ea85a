/**
 * Vitest global setup: starts the shared emulators once per run and hands their endpoints to
 * the suites through `inject()`, so no test reads process.env and none can run without them.
 */
import type { TestProject } from 'vitest/node';
import { startAzurite, type AzuriteEndpoints } from '../../scripts/lib/azurite.js';

declare module 'vitest' {
  export interface ProvidedContext {
    azurite: AzuriteEndpoints;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const azurite = await startAzurite({ extentMemoryLimitMb: 4096 });
  const { stop, pid: _pid, ports: _ports, exited: _exited, ...endpoints } = azurite;
  project.provide('azurite', endpoints);
  return async () => {
    await stop();
  };
}
