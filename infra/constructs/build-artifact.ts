import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { Construct } from 'constructs';
import { Annotations, App, AssetType, Fn, TerraformAsset, TerraformStack, Token, ref } from 'cdktf';

export interface BuildArtifactProps {
  /** Absolute path of the file `npm run build` produces (e.g. dist/connector.zip). */
  file: string;
}

/**
 * A build output the stack deploys, without making synth depend on a build: when the file exists
 * it is copied into the synth output as an asset (its path changes with its content, which is what
 * makes zip deploys notice a new package) and hashed now; when it does not (a fresh clone), the
 * stack points at the file where the build will put it and lets Terraform hash it at plan time,
 * so `terraform plan` fails clearly until `npm run build` has run.
 */
export class BuildArtifact extends Construct {
  /** Path as Terraform sees it, relative to the synthesized stack directory. */
  readonly path: string;
  /** Lowercase hex SHA-256 of the file, or the `filesha256(...)` expression that yields it. */
  readonly sha256: string;
  readonly presentAtSynth: boolean;

  constructor(scope: Construct, id: string, props: BuildArtifactProps) {
    super(scope, id);
    this.presentAtSynth = existsSync(props.file);
    if (this.presentAtSynth) {
      const asset = new TerraformAsset(this, 'asset', { path: props.file, type: AssetType.FILE });
      this.path = asset.path;
      this.sha256 = createHash('sha256').update(readFileSync(props.file)).digest('hex');
    } else {
      const stackDir = resolve(App.of(this).outdir, 'stacks', TerraformStack.of(this).node.id);
      this.path = Fn.join('/', [Token.asString(ref('path.module', TerraformStack.of(this))), relative(stackDir, props.file).split('\\').join('/')]);
      this.sha256 = Fn.filesha256(this.path);
      Annotations.of(this).addWarning(
        `${props.file} does not exist yet: run \`npm run build\` before \`terraform plan\` (npm run deploy does).`,
      );
    }
  }
}
