/**
 * `npm run synth` / `cdktf synth|deploy` entry point: find the config, validate it, synthesize
 * the stack into plain Terraform JSON (cdktf.out/stacks/<name>-<environment>/cdk.tf.json).
 *
 * Which config: `--config <path>`, else $DEPLOY_CONFIG, else ./deploy.config.json, else the
 * committed example (so a fresh clone synthesizes offline).
 */
import { App } from 'cdktf';
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
  const ms = Math.round(performance.now() - started);
  process.stderr.write(`synth: ${path} (from ${origin}) -> ${app.outdir}/stacks/${stackName} in ${ms} ms\n`);
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
