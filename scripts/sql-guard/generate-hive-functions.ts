/**
 * Regenerates app/src/sql-guard/hive-functions.ts, the SQL guard's list of Hive's built-in
 * functions, from Apache Hive's own source: the names that
 * ql/src/java/org/apache/hadoop/hive/ql/exec/FunctionRegistry.java registers in its `system`
 * registry (registerUDF, registerGenericUDF, registerUDAF, registerGenericUDAF,
 * registerGenericUDTF, registerWindowFunction, registerTableFunction, and the DataSketches plugin
 * of Hive 4), read straight out of a git checkout of Hive at the release tags we support.
 * It reads the Java text with a few patterns; it compiles nothing and copies no Hive code.
 *
 *   npx tsx scripts/sql-guard/generate-hive-functions.ts \
 *     2.3=/src/hive/.git@rel/release-2.3.10 3.1=/src/hive/.git@rel/release-3.1.3 4.0=/src/hive/.git@rel/release-4.0.1
 *
 * Each argument is `<version>=<git dir>@<ref>`; `--supplement <file.json>` adds names read from a
 * Hive source that could not be checked out (see hive-4.0-supplement.json: which source and why);
 * `--check` compares instead of writing, and fails when the checked-in module differs; `--out`
 * writes elsewhere than app/src/sql-guard/hive-functions.ts. A name or constant the patterns
 * cannot resolve stops the run: a list that silently lost a function would refuse valid queries.
 *
 * The checked-in list was made from what could be brought onto the build machine (no network;
 * repository snapshots up to 500 MB, and apache/hive is larger), its header names the commits:
 * - 2.3: Apache's tag rel/release-2.3.8; FunctionRegistry registers the same names from 2.3.0 on;
 * - 3.1: Apache's tag release-3.1.3-rc0, whose FunctionRegistry.java is byte for byte that of the
 *   3.1.3 release source (compared with an import of it); 3.1.2 lacks only
 *   datetime_legacy_hybrid_calendar;
 * - 4.0: Apache master of 2021-07-09 (afb1586e5a, 4.0.0-SNAPSHOT), plus hive-4.0-supplement.json
 *   with the names a 4.1.0-SNAPSHOT FunctionRegistry adds to it. Rerun on rel/release-4.0.x of a
 *   full clone, without the supplement, to make the 4.0 list exact.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const REGISTRY_PATH = 'ql/src/java/org/apache/hadoop/hive/ql/exec/FunctionRegistry.java';
const SKETCHES_PATH = 'ql/src/java/org/apache/hadoop/hive/ql/exec/DataSketchesFunctions.java';
const SERDE_CONSTANTS_PATH = 'serde/src/gen/thrift/gen-javabean/org/apache/hadoop/hive/serde/serdeConstants.java';
const OUTPUT = fileURLToPath(new URL('../../app/src/sql-guard/hive-functions.ts', import.meta.url));

/** How Hive can use a function, from the register call that added it. */
type FunctionKind = 'scalar' | 'aggregate' | 'table-generating' | 'table';

const KIND_OF_CALL: Record<string, FunctionKind> = {
  registerUDF: 'scalar',
  registerGenericUDF: 'scalar',
  registerUDAF: 'aggregate',
  registerGenericUDAF: 'aggregate',
  registerWindowFunction: 'aggregate',
  registerGenericUDTF: 'table-generating',
  registerTableFunction: 'table',
};
/**
 * Registry.registerFunction(name, class) decides the kind from the class at run time; Hive 4 uses
 * it for the ESRI geospatial functions, whose aggregates are the ST_Aggr_* classes.
 */
const KIND_BY_CLASS = (className: string): FunctionKind => {
  const simpleName = className.split('.').pop() as string;
  return /UDAF$|^ST_Aggr_/.test(simpleName) ? 'aggregate' : /UDTF$/.test(simpleName) ? 'table-generating' : 'scalar';
};
/** Registrations without a name a query can call. */
const NAMELESS_CALLS = new Set(['registerHiddenBuiltIn', 'registerUDFPlugin']);

interface Source {
  version: string;
  gitDir: string;
  ref: string;
}

class HiveTree {
  private files: string[] | undefined;

  constructor(private readonly source: Source) {}

  commit(): string {
    return this.git('rev-parse', `${this.source.ref}^{commit}`).trim();
  }

  read(path: string): string {
    return this.git('show', `${this.source.ref}:${path}`);
  }

  has(path: string): boolean {
    return this.paths().includes(path);
  }

  /** The one Java file that declares `className`, for constants such as GenericUDFMask.UDF_NAME. */
  classFile(className: string): string {
    const matches = this.paths().filter((path) => path.endsWith(`/${className}.java`) && path.includes('/src/java/'));
    if (matches.length !== 1) throw new Error(`${this.label()}: expected one ${className}.java, found ${matches.length}`);
    return this.read(matches[0] as string);
  }

  label(): string {
    return `${this.source.version} (${this.source.ref})`;
  }

  private paths(): string[] {
    this.files ??= this.git('ls-tree', '-r', '--name-only', this.source.ref).split('\n');
    return this.files;
  }

  private git(...args: string[]): string {
    return execFileSync('git', ['--git-dir', this.source.gitDir, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  }
}

/** Java text without comments, string literals kept (a "//" inside a string is no comment). */
function stripJavaComments(java: string): string {
  let out = '';
  for (let index = 0; index < java.length; ) {
    const char = java[index] as string;
    if (char === '"') {
      const end = stringEnd(java, index);
      out += java.slice(index, end);
      index = end;
    } else if (java.startsWith('//', index)) {
      index = java.indexOf('\n', index);
      if (index === -1) break;
    } else if (java.startsWith('/*', index)) {
      const end = java.indexOf('*/', index + 2);
      if (end === -1) throw new Error('unterminated comment in Java source');
      out += ' ';
      index = end + 2;
    } else {
      out += char;
      index += 1;
    }
  }
  return out;
}

function stringEnd(java: string, open: number): number {
  for (let index = open + 1; index < java.length; index += 1) {
    if (java[index] === '\\') index += 1;
    else if (java[index] === '"') return index + 1;
  }
  throw new Error('unterminated string in Java source');
}

/** `static final String NAME = "value";` declarations of one file. */
function stringConstants(java: string): Map<string, string> {
  const constants = new Map<string, string>();
  for (const match of java.matchAll(/\bstatic\s+final\s+(?:java\.lang\.)?String\s+([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"([^"\\]*)"\s*;/g)) {
    constants.set(match[1] as string, match[2] as string);
  }
  return constants;
}

/** The first argument of a call, as written: everything up to the first top-level ',' or ')'. */
function firstArgument(java: string, open: number): string {
  let depth = 0;
  for (let index = open + 1; index < java.length; index += 1) {
    const char = java[index];
    if (char === '"') index = stringEnd(java, index) - 1;
    else if (char === '(') depth += 1;
    else if (char === ')' && depth === 0) return java.slice(open + 1, index).trim();
    else if (char === ')') depth -= 1;
    else if (char === ',' && depth === 0) return java.slice(open + 1, index).trim();
  }
  throw new Error('unterminated call in Java source');
}

/** `Foo` of a call whose second argument is `Foo.class`. */
function secondArgumentClass(java: string, open: number, tree: HiveTree): string {
  const first = firstArgument(java, open);
  const rest = java.slice(java.indexOf(first, open) + first.length);
  const match = /^\s*,\s*([A-Za-z_][A-Za-z0-9_.]*)\.class\b/.exec(rest);
  if (!match) throw new Error(`${tree.label()}: a registration of ${first} without a class literal`);
  return match[1] as string;
}

function resolveName(expression: string, tree: HiveTree, local: Map<string, string>): string {
  const literal = /^"([^"\\]*)"$/.exec(expression);
  if (literal) return literal[1] as string;
  const simpleName = /^([A-Za-z_][A-Za-z0-9_]*)\.class\.getSimpleName\(\)$/.exec(expression);
  if (simpleName) return simpleName[1] as string;
  const constant = /^(?:([A-Za-z_][A-Za-z0-9_]*)\.)?([A-Za-z_][A-Za-z0-9_]*)$/.exec(expression);
  if (constant) {
    const [, owner, name] = constant as unknown as [string, string | undefined, string];
    const value = owner === undefined ? local.get(name) : stringConstants(stripJavaComments(owner === 'serdeConstants' ? tree.read(SERDE_CONSTANTS_PATH) : tree.classFile(owner))).get(name);
    if (value !== undefined) return value;
  }
  throw new Error(`${tree.label()}: cannot resolve the function name ${expression}`);
}

interface RegisteredFunction {
  name: string;
  kind: FunctionKind;
}

/** Every name FunctionRegistry's static registry holds at one ref, lowercased as Registry stores them. */
function registeredFunctions(tree: HiveTree): RegisteredFunction[] {
  const file = stripJavaComments(tree.read(REGISTRY_PATH));
  const local = stringConstants(file);
  // The built-ins are registered in static initializers; methods elsewhere in the file register
  // temporary and permanent (user) functions at run time.
  const java = staticInitializers(file);
  const found: RegisteredFunction[] = [];
  for (const call of java.matchAll(/\bsystem\s*\.\s*(register[A-Za-z]*)\s*\(/g)) {
    const method = call[1] as string;
    const open = (call.index ?? 0) + call[0].length - 1;
    if (method === 'registerUDFPlugin') {
      const plugin = firstArgument(java, open);
      if (plugin !== 'DataSketchesFunctions.INSTANCE') throw new Error(`${tree.label()}: unknown UDF plugin ${plugin}`);
      found.push(...sketchFunctions(tree));
      continue;
    }
    if (NAMELESS_CALLS.has(method)) continue;
    const kind = method === 'registerFunction' ? KIND_BY_CLASS(secondArgumentClass(java, open, tree)) : KIND_OF_CALL[method];
    if (kind === undefined) throw new Error(`${tree.label()}: unknown registration system.${method}`);
    found.push({ name: resolveName(firstArgument(java, open), tree, local).toLowerCase(), kind });
  }
  return found;
}

/** The bodies of every `static { … }` block, joined. */
function staticInitializers(java: string): string {
  const bodies: string[] = [];
  for (const block of java.matchAll(/\bstatic\s*\{/g)) {
    const open = (block.index ?? 0) + block[0].length - 1;
    let depth = 0;
    for (let index = open; index < java.length; index += 1) {
      const char = java[index];
      if (char === '"') index = stringEnd(java, index) - 1;
      else if (char === '{') depth += 1;
      else if (char === '}' && --depth === 0) {
        bodies.push(java.slice(open + 1, index));
        break;
      }
    }
  }
  return bodies.join('\n');
}

/**
 * Hive 4's DataSketches plugin: each `new SketchDescriptor("hll")` block registers
 * `ds_hll_<suffix>` for every `sd.register(SUFFIX_CONSTANT, SomeClass.class)` in it.
 */
function sketchFunctions(tree: HiveTree): RegisteredFunction[] {
  if (!tree.has(SKETCHES_PATH)) throw new Error(`${tree.label()}: registers DataSketchesFunctions but has no ${SKETCHES_PATH}`);
  const java = stripJavaComments(tree.read(SKETCHES_PATH));
  const constants = stringConstants(java);
  const prefix = constants.get('DATASKETCHES_PREFIX');
  if (prefix === undefined) throw new Error(`${tree.label()}: DataSketchesFunctions has no DATASKETCHES_PREFIX`);
  const found: RegisteredFunction[] = [];
  for (const block of java.split(/new\s+SketchDescriptor\s*\(/).slice(1)) {
    const sketch = /^\s*"([a-z_]+)"\s*\)/.exec(block)?.[1];
    if (sketch === undefined) throw new Error(`${tree.label()}: a SketchDescriptor without a literal name`);
    const body = block.split(/\bsketchClasses\s*\.\s*put\s*\(/)[0] as string;
    for (const registration of body.matchAll(/\bsd\s*\.\s*register\s*\(/g)) {
      const open = (registration.index ?? 0) + registration[0].length - 1;
      const suffix = resolveName(firstArgument(body, open), tree, constants);
      const className = secondArgumentClass(body, open, tree).split('.').pop() as string;
      // Hive's Registry sorts these into UDFs, UDAFs and UDTFs by class at run time; the class
      // name says which (DataToSketchUDAF, GetNUDF, …), which is all a guard needs.
      found.push({ name: `${prefix}_${sketch}_${suffix}`.toLowerCase(), kind: KIND_BY_CLASS(className) });
    }
  }
  if (found.length === 0) throw new Error(`${tree.label()}: no DataSketches functions found`);
  return found;
}

interface Entry {
  /** lead and lag are both a scalar function and a window function. */
  kinds: FunctionKind[];
  versions: string[];
}

interface Supplement {
  version: string;
  source: string;
  why: string;
  functions: Record<string, FunctionKind>;
}

function readSupplement(path: string): Supplement {
  const supplement = JSON.parse(readFileSync(path, 'utf8')) as Supplement;
  for (const [name, kind] of Object.entries(supplement.functions)) {
    if (!/^[a-z_][a-z0-9_]*$/.test(name) || !Object.values(KIND_OF_CALL).includes(kind)) {
      throw new Error(`${path}: "${name}": "${kind}" is not a lowercase function name and a kind`);
    }
  }
  return supplement;
}

function render(
  sources: { source: Source; commit: string }[],
  supplements: { path: string; supplement: Supplement }[],
  entries: Map<string, Entry>,
  argv: string[],
): string {
  const versions = sources.map(({ source }) => source.version);
  const header = [
    '/**',
    " * Hive's built-in functions, by name, as FunctionRegistry.java of each supported version",
    " * registers them in its system registry. GENERATED: do not edit; rerun",
    ` *   npx tsx scripts/sql-guard/generate-hive-functions.ts ${argv.map((arg) => arg.replace(/=.*@/, '=<hive git dir>@')).join(' ')}`,
    ' * with a checkout of github.com/apache/hive (git clone --bare); see that script.',
    ' * Source: Apache Hive, ql/src/java/org/apache/hadoop/hive/ql/exec/FunctionRegistry.java (with',
    ' * serdeConstants.java for the type-cast names and DataSketchesFunctions.java for ds_*), at:',
    ...sources.map(({ source, commit }) => ` *   ${source.version}: ${source.ref} (commit ${commit})`),
    ...supplements.map(({ path, supplement }) => ` * plus, for ${supplement.version}, the names in ${path} (its "source" says from where).`),
    ' * Kinds: scalar (UDF, GenericUDF), aggregate (UDAF, GenericUDAF, window functions),',
    ' * table-generating (GenericUDTF: LATERAL VIEW and SELECT … AS (a, b)), table (PTFs in FROM).',
    ' */',
  ];
  const lines = [...entries.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, entry]) => {
      const kinds = entry.kinds.map((kind) => `'${kind}'`).join(', ');
      const where = entry.versions.length === versions.length ? 'ALL' : `[${entry.versions.map((v) => `'${v}'`).join(', ')}]`;
      return `  ${name}: [[${kinds}], ${where}],`;
    });
  return [
    ...header,
    '',
    `export const HIVE_VERSIONS = [${versions.map((v) => `'${v}'`).join(', ')}] as const;`,
    'export type HiveVersion = (typeof HIVE_VERSIONS)[number];',
    "type FunctionKind = 'scalar' | 'aggregate' | 'table-generating' | 'table';",
    '',
    'const ALL: readonly HiveVersion[] = HIVE_VERSIONS;',
    '',
    '/** name → [its kinds, the versions whose FunctionRegistry registers it] */',
    'export const HIVE_BUILT_IN_FUNCTIONS: Readonly<Record<string, readonly [readonly FunctionKind[], readonly HiveVersion[]]>> = {',
    ...lines,
    '};',
    '',
  ].join('\n');
}

function parseArgument(argument: string): Source {
  const match = /^([0-9.]+)=(.+)@([^@]+)$/.exec(argument);
  if (!match) throw new Error(`expected <version>=<git dir>@<ref>, got "${argument}"`);
  return { version: match[1] as string, gitDir: match[2] as string, ref: match[3] as string };
}

/** Runs the generator on command-line arguments; returns what it did, in one line. */
export function generateHiveFunctions(args: readonly string[]): string {
  const check = args.includes('--check');
  const valuesOf = (option: string) => args.flatMap((arg, index) => (args[index - 1] === option ? [arg] : []));
  const supplementPaths = valuesOf('--supplement');
  const output = valuesOf('--out')[0] ?? OUTPUT;
  const argv = args.filter((arg, index) => !['--check', '--supplement', '--out'].includes(arg) && !['--supplement', '--out'].includes(args[index - 1] ?? ''));
  if (argv.length === 0) throw new Error('usage: generate-hive-functions.ts [--check] [--supplement file.json] <version>=<git dir>@<ref> …');
  const sources = argv.map(parseArgument).map((source) => ({ source, tree: new HiveTree(source) }));
  const supplements = supplementPaths.map((path) => ({ path, supplement: readSupplement(path) }));
  const entries = new Map<string, Entry>();
  const add = (name: string, kind: FunctionKind, version: string): void => {
    const entry = entries.get(name) ?? { kinds: [], versions: [] };
    if (!entry.kinds.includes(kind)) entry.kinds = [...entry.kinds, kind].sort();
    if (!entry.versions.includes(version)) entry.versions.push(version);
    entries.set(name, entry);
  };
  for (const { source, tree } of sources) {
    for (const { name, kind } of registeredFunctions(tree)) {
      // Operators (+, ==, …) are registered too; only names can be written as calls.
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) continue;
      add(name, kind, source.version);
    }
  }
  for (const { path, supplement } of supplements) {
    if (!sources.some(({ source }) => source.version === supplement.version)) throw new Error(`${path}: no source for version ${supplement.version}`);
    for (const [name, kind] of Object.entries(supplement.functions)) add(name, kind, supplement.version);
  }
  for (const entry of entries.values()) entry.versions.sort();
  const commandLine = [...supplementPaths.flatMap((path) => ['--supplement', path]), ...argv];
  const text = render(sources.map(({ source, tree }) => ({ source, commit: tree.commit() })), supplements, entries, commandLine);
  if (check) {
    if (readFileSync(output, 'utf8') !== text) throw new Error(`${output} differs from what the sources give`);
    return `${output} is up to date (${entries.size} names)`;
  }
  writeFileSync(output, text);
  return `wrote ${output}: ${entries.size} names`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.stdout.write(`${generateHiveFunctions(process.argv.slice(2))}\n`);
