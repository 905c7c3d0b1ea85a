/**
 * What the stack tells a connector VM, read back out of the synthesized Terraform JSON: the
 * extension script's two settings files (bootstrap.env, connector.env), with the Terraform
 * references in them resolved to values of the shape Azure returns. Shared by the contract and
 * Hive suites.
 */
import type { Json, Synthesized } from './synth.js';

/** Values of the shape Azure hands back for the attributes the stack references. */
const RESOLVED: [RegExp, string][] = [
  [/\.primary_blob_endpoint$/, 'https://stenosamlprodx1y2.blob.core.windows.net/'],
  [/\.primary_table_endpoint$/, 'https://stenosamlprodx1y2.table.core.windows.net/'],
  [/\.vault_uri$/, 'https://kv-enosaml-prod-x1y2.vault.azure.net/'],
  [/\.client_id$/, '6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b'],
  [/\.name$/, 'resolved-name'],
  [/^filesha256\(/, 'a'.repeat(64)],
];

export function resolve(expression: string): string {
  const match = RESOLVED.find(([pattern]) => pattern.test(expression));
  if (!match) throw new Error(`no stand-in value for the Terraform expression ${expression}; add one to RESOLVED`);
  return match[1];
}

/** Parses an HCL list literal of string literals and expressions, starting at `[`; returns the joined text. */
function joinHclList(text: string, start: number): string {
  if (text[start] !== '[') throw new Error(`expected "[" at ${start}, got ${JSON.stringify(text.slice(start, start + 20))}`);
  let i = start + 1;
  let joined = '';
  for (;;) {
    while (/\s/.test(text[i] ?? '')) i++;
    if (text[i] === ']') return joined;
    if (text[i] === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      joined += (JSON.parse(text.slice(i, end + 1)) as string).replaceAll('$${', '${').replaceAll('%%{', '%{');
      i = end + 1;
    } else {
      let depth = 0;
      let end = i;
      while (depth > 0 || (text[end] !== ',' && text[end] !== ']')) {
        const char = text[end];
        if (char === '"') {
          end++;
          while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
        } else if (char === '(' || char === '[' || char === '{') depth++;
        else if (char === ')' || char === ']' || char === '}') depth--;
        end++;
      }
      joined += resolve(text.slice(i, end).trim());
      i = end;
    }
    while (/\s/.test(text[i] ?? '')) i++;
    if (text[i] === ',') i++;
  }
}

/** The text the extension script hands the bootstrap after `flag` (base64encode(join("", [...]))). */
export function extensionArgument(extension: string, flag: '--bootstrap-env-b64' | '--connector-env-b64'): string {
  const marker = `${flag} '", base64encode(join("", `;
  const at = extension.indexOf(marker);
  if (at === -1) throw new Error(`the extension script has no ${flag} argument built with base64encode(join(...))`);
  return joinHclList(extension, at + marker.length);
}

export function extensionOf(s: Synthesized): string {
  const vm = Object.values(s.resources('azurerm_virtual_machine_extension'))[0];
  if (vm) return String(vm.protected_settings);
  const vmss = s.only('azurerm_linux_virtual_machine_scale_set');
  return String(((vmss.extension as Json[])[0] as Json).protected_settings);
}

/** systemd EnvironmentFile lines as the stack writes them: KEY='value'. */
export function parseEnvFile(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => {
        const match = /^([A-Z][A-Z0-9_]*)='([^']*)'$/.exec(line);
        if (!match) throw new Error(`connector.env line ${JSON.stringify(line)} is not KEY='value'`);
        return [match[1], match[2]];
      }),
  );
}

export function parseSettings(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

/** connector.env and bootstrap.env as the VM receives them. */
export function vmSettings(s: Synthesized): { connectorEnv: Record<string, string>; bootstrap: Record<string, string> } {
  const extension = extensionOf(s);
  return {
    connectorEnv: parseEnvFile(extensionArgument(extension, '--connector-env-b64')),
    bootstrap: parseSettings(extensionArgument(extension, '--bootstrap-env-b64')),
  };
}

/**
 * What the stack writes into the Key Vault secret `name` (through its ARM template deployment):
 * a string literal, or the Terraform expression that supplies it (`var.hive_password`, …).
 */
export function keyVaultSecret(s: Synthesized, name: string): { literal?: string; expression?: string } | undefined {
  const deployment = s.at('azurerm_resource_group_template_deployment', 'key_vault/secrets');
  const template = JSON.parse(String(deployment.template_content)) as { resources: { name: string }[] };
  const index = template.resources.findIndex((resource) => resource.name.endsWith(`'${name}')]`));
  if (index === -1) return undefined;
  const parameters = String(deployment.parameters_content);
  const marker = `"secret${index}" = {"value" = `;
  const at = parameters.indexOf(marker);
  if (at === -1) throw new Error(`the secrets deployment has no parameter secret${index} for ${name}`);
  const rest = parameters.slice(at + marker.length);
  if (rest.startsWith('"')) {
    let end = 1;
    while (rest[end] !== '"') end += rest[end] === '\\' ? 2 : 1;
    // HCL string literals escape like JSON for what a PEM holds (\n, \").
    return { literal: JSON.parse(rest.slice(0, end + 1)) as string };
  }
  return { expression: rest.slice(0, rest.indexOf('}')) };
}
