/**
 * Synthesizes the stack in-process for a config variant and offers typed lookups into the
 * Terraform JSON, which is the only thing these suites can check without Azure.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Testing } from 'cdktf';
import { EXAMPLE_CONFIG, loadDeployConfig, parseDeployConfig, type DeployConfig } from '../../infra/config.js';
import { resourceNames } from '../../infra/naming.js';
import { ConnectorStack } from '../../infra/stack.js';

export type Json = Record<string, unknown>;

export interface Synthesized {
  config: DeployConfig;
  json: { resource: Record<string, Record<string, Json>>; data: Record<string, Record<string, Json>>; output: Record<string, Json>; variable?: Record<string, Json> };
  /** Every resource of a type, by logical id. */
  resources(type: string): Record<string, Json>;
  /** The only resource of a type; fails when there is not exactly one. */
  only(type: string): Json;
  /** The resource whose construct path ends with `pathSuffix` (e.g. "storage/storage/account"). */
  at(type: string, pathSuffix: string): Json;
  raw: string;
}

/** A deep copy of the committed example, the base every variant starts from. */
export function exampleConfig(): Record<string, unknown> {
  return JSON.parse(JSON.stringify(loadDeployConfig(EXAMPLE_CONFIG))) as Record<string, unknown>;
}

/** Merges plain objects recursively; arrays and scalars in `patch` replace. */
export function merge<T>(base: T, patch: unknown): T {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch as T;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    const current = out[key];
    out[key] =
      value !== null && typeof value === 'object' && !Array.isArray(value) && current !== null && typeof current === 'object' && !Array.isArray(current)
        ? merge(current, value)
        : value;
  }
  return out as T;
}

export function configWith(patch: unknown): DeployConfig {
  return parseDeployConfig(merge(exampleConfig(), patch), 'test variant');
}

export function synthesize(config: DeployConfig, artifacts?: { connectorZip: string; cleanupZip: string }): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), 'infra-synth-'));
  try {
    const app = Testing.app({ outdir } as Parameters<typeof Testing.app>[0]);
    const stack = new ConnectorStack(app, resourceNames(config).stack, {
      config,
      artifacts: artifacts ?? { connectorZip: join(outdir, 'missing/connector.zip'), cleanupZip: join(outdir, 'missing/cleanup-function.zip') },
    });
    // A real synth (not Testing.synth), so the JSON is byte-for-byte what `npm run synth` writes,
    // construct-path metadata included.
    app.synth();
    const raw = readFileSync(join(outdir, 'stacks', stack.node.id, 'cdk.tf.json'), 'utf8');
    const json = JSON.parse(raw) as Synthesized['json'];
    const resources = (type: string): Record<string, Json> => json.resource[type] ?? {};
    return {
      config,
      json,
      raw,
      resources,
      only(type) {
        const all = Object.values(resources(type));
        if (all.length !== 1) throw new Error(`expected exactly one ${type}, found ${all.length}`);
        return all[0] as Json;
      },
      at(type, pathSuffix) {
        const match = Object.values(resources(type)).find((resource) => metadataPath(resource).endsWith(`/${pathSuffix}`));
        if (!match) throw new Error(`no ${type} at */${pathSuffix}; have ${Object.values(resources(type)).map(metadataPath).join(', ')}`);
        return match;
      },
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

export function metadataPath(resource: Json): string {
  return ((resource['//'] as { metadata?: { path?: string } } | undefined)?.metadata?.path ?? '') as string;
}

/** Terraform address reference of a resource as other resources write it: `${type.id.attr}`. */
export function refTo(type: string, logicalIds: Record<string, Json>, resource: Json, attribute: string): string {
  const id = Object.entries(logicalIds).find(([, candidate]) => candidate === resource)?.[0];
  if (!id) throw new Error(`resource not found among ${type}`);
  return `\${${type}.${id}.${attribute}}`;
}
