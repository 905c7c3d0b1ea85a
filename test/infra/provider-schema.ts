/**
 * The argument schema of the pinned providers, read from the `.jsii` assembly their cdktf
 * packages carry (the same data the generated classes come from), and a checker that walks
 * synthesized Terraform JSON against it. No provider binary can be downloaded here, so this is
 * what stands in for `terraform validate`: an argument that the pinned azurerm does not have (a
 * typo in an override, an argument removed in a provider upgrade) or a required one that is
 * missing fails offline.
 *
 * Each property of a generated `…Config` struct names its Terraform argument in its docs link
 * ("Docs at Terraform Registry: {@link …/docs/resources/lb_rule#probe_id LbRule#probe_id}"); nested
 * blocks are properties whose type is another struct (or a list of one).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

interface JsiiTypeRef {
  primitive?: string;
  fqn?: string;
  collection?: { kind: 'array' | 'map'; elementtype: JsiiTypeRef };
  union?: { types: JsiiTypeRef[] };
}
interface JsiiProperty {
  name: string;
  optional?: boolean;
  static?: boolean;
  type: JsiiTypeRef;
  docs?: { summary?: string; remarks?: string };
}
interface JsiiType {
  fqn: string;
  kind: 'class' | 'interface' | 'enum';
  datatype?: boolean;
  namespace?: string;
  name: string;
  docs?: { summary?: string };
  properties?: JsiiProperty[];
}

export interface BlockSchema {
  /** Terraform argument name → its schema; `block` set when the argument is a nested block. */
  arguments: Map<string, { required: boolean; block?: BlockSchema }>;
}

export interface ProviderSchema {
  version: string;
  /** `azurerm_lb_rule`, `data.azurerm_virtual_network`, `provider.azurerm` → block schema. */
  blocks: Map<string, BlockSchema>;
}

const require = createRequire(import.meta.url);

/** Loads the schema of one provider package (e.g. `@cdktf/provider-azurerm`). */
export function loadProviderSchema(packageName: string): ProviderSchema {
  const packageDir = dirname(require.resolve(`${packageName}/package.json`));
  const assembly = JSON.parse(readFileSync(join(packageDir, '.jsii'), 'utf8')) as { types: Record<string, JsiiType> };
  const types = assembly.types;
  const blocks = new Map<string, BlockSchema>();
  const cache = new Map<string, BlockSchema>();
  let version = '';

  const structSchema = (fqn: string): BlockSchema => {
    const cached = cache.get(fqn);
    if (cached) return cached;
    const schema: BlockSchema = { arguments: new Map() };
    cache.set(fqn, schema);
    const type = types[fqn];
    if (!type) throw new Error(`${packageName}: no type ${fqn} in the assembly`);
    for (const property of type.properties ?? []) {
      if (property.static) continue;
      const argument = terraformName(property);
      const struct = structOf(property.type);
      schema.arguments.set(argument, { required: property.optional !== true, block: struct ? structSchema(struct) : undefined });
    }
    return schema;
  };

  const structOf = (ref: JsiiTypeRef): string | undefined => {
    if (ref.fqn && types[ref.fqn]?.datatype) return ref.fqn;
    if (ref.collection?.kind === 'array') return structOf(ref.collection.elementtype);
    for (const member of ref.union?.types ?? []) {
      const found = structOf(member);
      if (found) return found;
    }
    return undefined;
  };

  for (const type of Object.values(types)) {
    if (type.kind !== 'class') continue;
    // "Represents a {@link https://registry.terraform.io/providers/hashicorp/azurerm/4.55.0/docs/resources/lb_rule azurerm_lb_rule}."
    const link = /registry\.terraform\.io\/providers\/[^/]+\/[^/]+\/([^/]+)\/docs(?:\/(resources|data-sources)\/\S+)? (\S+)\}/.exec(type.docs?.summary ?? '');
    if (!link) continue;
    const [, linkVersion, kind, terraformType] = link;
    version = linkVersion ?? version;
    const config = `${type.fqn}Config`;
    if (!types[config]) continue;
    const key = kind === 'resources' ? terraformType : kind === 'data-sources' ? `data.${terraformType}` : `provider.${terraformType}`;
    blocks.set(key ?? '', structSchema(config));
  }
  if (blocks.size === 0) throw new Error(`${packageName}: found no resource in its .jsii; has the assembly format changed?`);
  return { version, blocks };
}

/** The Terraform argument a generated property stands for, from its registry docs link. */
function terraformName(property: JsiiProperty): string {
  const docs = `${property.docs?.summary ?? ''} ${property.docs?.remarks ?? ''}`;
  const anchor = /\/docs[^\s#]*#([a-z0-9_]+) /.exec(docs)?.[1];
  if (anchor) return anchor;
  return property.name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/** Terraform's own arguments, valid on every resource and data source. */
const META_ARGUMENTS = new Set(['//', 'count', 'depends_on', 'for_each', 'lifecycle', 'provider', 'provisioner', 'connection']);

/** Built into Terraform (no provider): `terraform_data` takes these. */
const BUILTIN: Record<string, BlockSchema> = {
  terraform_data: { arguments: new Map([['input', { required: false }], ['triggers_replace', { required: false }]]) },
};

export interface TerraformJson {
  resource?: Record<string, Record<string, Record<string, unknown>>>;
  data?: Record<string, Record<string, Record<string, unknown>>>;
  provider?: Record<string, Record<string, unknown>[]>;
}

/**
 * Every argument of every resource, data source and provider block in `json` that the schemas do
 * not know, and every required argument that is missing, one line each ("" when all is well).
 */
export function schemaProblems(json: TerraformJson, schemas: ProviderSchema[]): string[] {
  const problems: string[] = [];
  const find = (key: string): BlockSchema | undefined => BUILTIN[key] ?? schemas.map((schema) => schema.blocks.get(key)).find(Boolean);
  const sections: [string, Record<string, Record<string, Record<string, unknown>>> | undefined][] = [
    ['', json.resource],
    ['data.', json.data],
  ];
  for (const [prefix, section] of sections) {
    for (const [type, byName] of Object.entries(section ?? {})) {
      const schema = find(`${prefix}${type}`);
      for (const [name, body] of Object.entries(byName)) {
        const address = `${prefix}${type}.${name}`;
        if (!schema) {
          problems.push(`${address}: ${prefix}${type} is not a ${prefix ? 'data source' : 'resource type'} of the pinned providers`);
          continue;
        }
        checkBlock(address, body, schema, true, problems);
      }
    }
  }
  for (const [name, configs] of Object.entries(json.provider ?? {})) {
    const schema = find(`provider.${name}`);
    if (!schema) {
      problems.push(`provider.${name}: not a pinned provider`);
      continue;
    }
    configs.forEach((config, index) => checkBlock(`provider.${name}[${index}]`, config, schema, false, problems));
  }
  return problems;
}

function checkBlock(path: string, body: Record<string, unknown>, schema: BlockSchema, topLevel: boolean, problems: string[]): void {
  for (const [key, value] of Object.entries(body)) {
    if (topLevel && META_ARGUMENTS.has(key)) continue;
    const argument = schema.arguments.get(key);
    if (!argument) {
      problems.push(`${path}.${key}: no such argument (expected one of ${[...schema.arguments.keys()].sort().join(', ')})`);
      continue;
    }
    if (!argument.block || value === null || typeof value !== 'object') continue;
    const items = Array.isArray(value) ? value : [value];
    items.forEach((item, index) => {
      if (item !== null && typeof item === 'object') {
        checkBlock(`${path}.${key}${Array.isArray(value) ? `[${index}]` : ''}`, item as Record<string, unknown>, argument.block as BlockSchema, false, problems);
      }
    });
  }
  for (const [key, argument] of schema.arguments) {
    if (argument.required && !(key in body)) problems.push(`${path}: required argument ${key} is missing`);
  }
}
