/**
 * `npm run synth` / `cdktf synth|deploy` entry point: find the config, validate it, synthesize
 * the stack into plain Terraform JSON (cdktf.out/stacks/<name>-<environment>/cdk.tf.json).
 *
 * Which config: `--config <path>`, else $DEPLOY_CONFIG, else ./deploy.config.json, else the
 * committed example (so a fresh clone synthesizes offline).
 */
import { AnnotationMetadataEntryType, App } from 'cdktf';
import { DeployConfigError, loadDeployConfig, resolveConfigPath } from './config.js';
import { resourceNames } from './naming.js';
import { ConnectorStack } from './stack.js';

function main(): void {
  const started = performance.now();
  const { path, origin } = resolveConfigPath(process.argv.slice(2), process.env, process.cwd());
  const config = loadDeployConfig(path);
  const app = new App();
  const stackName = resourceNames(config).stack;
  new ConnectorStack(app, stackName, { config });
  app.synth();
  // The cdktf CLI prints annotations itself; `npm run synth` runs this file directly.
  if (!process.env.CDKTF_CONTEXT_JSON) {
    for (const construct of app.node.findAll()) {
      for (const entry of construct.node.metadata) {
        if (entry.type === AnnotationMetadataEntryType.WARN) process.stderr.write(`warning: ${construct.node.path}: ${String(entry.data)}\n`);
      }
    }
  }
  // performance.now() counts from process start, so the second figure includes loading the modules.
  const ms = Math.round(performance.now() - started);
  const total = Math.round(performance.now());
  process.stderr.write(`synth: ${path} (from ${origin}) -> ${app.outdir}/stacks/${stackName} in ${ms} ms (${total} ms since process start)\n`);
}

try {
  main();
} catch (error) {
  if (error instanceof DeployConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
