/**
 * The generator of app/src/sql-guard/hive-functions.ts, run on a tiny git repository laid out
 * like Hive's source tree. The Java here is written for the test in the shapes FunctionRegistry
 * uses across 2.3, 3.1 and 4.0 (literal names, constants of the same class, of serdeConstants and
 * of other classes, getSimpleName(), the DataSketches plugin, registrations in comments and in
 * methods that must not count); it is not Hive's code.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHiveFunctions } from '../../../scripts/sql-guard/generate-hive-functions.js';

const REGISTRY = 'ql/src/java/org/apache/hadoop/hive/ql/exec/FunctionRegistry.java';

const registry = (extra: string): string => `
package org.apache.hadoop.hive.ql.exec;
public final class FunctionRegistry {
  public static final String LEAD_FUNC_NAME = "lead";
  private static final String NOOP_TABLE_FUNCTION = "noop";
  private static final Registry system = new Registry(true);
  static {
    system.registerGenericUDF("concat", GenericUDFConcat.class);
    system.registerUDF("Substr", UDFSubstr.class, false);
    // system.registerUDF("line_commented", UDFX.class, false);
    /* system.registerUDF("block_commented", UDFX.class, false); */
    system.registerGenericUDF("+", GenericUDFOPPlus.class);
    system.registerUDF(serdeConstants.INT_TYPE_NAME, UDFToInteger.class, false, UDFToInteger.class.getSimpleName());
    system.registerUDF(UDFToInteger.class.getSimpleName(), UDFToInteger.class, false, UDFToInteger.class.getSimpleName());
    system.registerGenericUDF(GenericUDFMask.UDF_NAME, GenericUDFMask.class);
    system.registerGenericUDAF("count", new GenericUDAFCount());
    system.registerGenericUDTF("explode", GenericUDTFExplode.class);
    system.registerGenericUDF(LEAD_FUNC_NAME, GenericUDFLead.class);
    system.registerWindowFunction(LEAD_FUNC_NAME, new GenericUDAFLead());
    system.registerTableFunction(NOOP_TABLE_FUNCTION, NoopResolver.class);
    system.registerHiddenBuiltIn(GenericUDFOPDTIMinus.class);
    system.registerGenericUDF("text_with_//_and_/*", GenericUDFX.class);
${extra}
  }
  public static FunctionInfo registerPermanentFunction(String functionName, String className) {
    return system.registerPermanentFunction(functionName, className, true, null);
  }
}
`;

const HIVE4_EXTRA = `
    system.registerFunction("ST_Point", ST_Point.class);
    system.registerFunction("ST_Aggr_Union", ST_Aggr_Union.class);
    system.registerUDFPlugin(DataSketchesFunctions.INSTANCE);
    try {
      system.registerGenericUDF("iceberg_bucket",
          (Class<? extends GenericUDF>) Class.forName("org.apache.iceberg.mr.hive.udf.GenericUDFIcebergBucket"));
    } catch (ClassNotFoundException e) {
      LOG.warn("not registered");
    }`;

const SKETCHES = `
public final class DataSketchesFunctions implements HiveUDFPlugin {
  private static final String DATASKETCHES_PREFIX = "ds";
  public static final String DATA_TO_SKETCH = "sketch";
  public static final String SKETCH_TO_ESTIMATE = "estimate";
  private static final String UNION_SKETCH = "union";
  private void registerHll() {
    SketchDescriptor sd = new SketchDescriptor("hll");
    sd.register(DATA_TO_SKETCH, org.apache.datasketches.hive.hll.DataToSketchUDAF.class);
    sd.register(SKETCH_TO_ESTIMATE, org.apache.datasketches.hive.hll.SketchToEstimateUDF.class);
    // sd.register(UNION_SKETCH, org.apache.datasketches.hive.hll.UnionSketchUDAF.class);
    sketchClasses.put("hll", sd);
  }
  private void registerFrequencies() {
    SketchDescriptor sd = new SketchDescriptor("freq");
    sd.register(UNION_SKETCH, org.apache.datasketches.hive.frequencies.UnionItemsSketchUDAF.class);
    sd.register("frequent_items", org.apache.datasketches.hive.frequencies.GetFrequentItemsFromStringsSketchUDTF.class);
    sketchClasses.put("freq", sd);
  }
}
`;

let root: string;
let gitDir: string;
const git = (...args: string[]) => execFileSync('git', ['-C', root, ...args], { encoding: 'utf8' });

function commit(files: Record<string, string>, tag: string): void {
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  git('add', '-A');
  git('-c', 'user.name=test', '-c', 'user.email=test@example.invalid', 'commit', '-q', '-m', tag);
  git('tag', tag);
}

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'hive-tree-'));
  gitDir = path.join(root, '.git');
  git('init', '-q');
  const common = {
    'serde/src/gen/thrift/gen-javabean/org/apache/hadoop/hive/serde/serdeConstants.java':
      'public class serdeConstants {\n  public static final java.lang.String INT_TYPE_NAME = "int";\n}\n',
    'ql/src/java/org/apache/hadoop/hive/ql/udf/generic/GenericUDFMask.java': 'public class GenericUDFMask {\n  public static final String UDF_NAME = "mask";\n}\n',
  };
  commit({ ...common, [REGISTRY]: registry('') }, 'rel/release-2.3.0');
  commit({ [REGISTRY]: registry(HIVE4_EXTRA), 'ql/src/java/org/apache/hadoop/hive/ql/exec/DataSketchesFunctions.java': SKETCHES }, 'rel/release-4.0.0');
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('generate-hive-functions', () => {
  const sources = () => [`2.3=${gitDir}@rel/release-2.3.0`, `4.0=${gitDir}@rel/release-4.0.0`];

  it('lists every name each version registers in its static registry, with kinds and versions', () => {
    const out = path.join(root, 'listed.ts');
    expect(generateHiveFunctions(['--out', out, ...sources()])).toBe(`wrote ${out}: 16 names`);
    const text = readFileSync(out, 'utf8');
    // Operators, the string holding "//" and "/*", commented-out and run-time registrations are
    // not names a query can call; everything after that string still counts.
    expect(text.split('\n').filter((line) => /^ {2}[a-z_0-9]+: /.test(line))).toEqual([
      "  concat: [['scalar'], ALL],",
      "  count: [['aggregate'], ALL],",
      "  ds_freq_frequent_items: [['table-generating'], ['4.0']],",
      "  ds_freq_union: [['aggregate'], ['4.0']],",
      "  ds_hll_estimate: [['scalar'], ['4.0']],",
      "  ds_hll_sketch: [['aggregate'], ['4.0']],",
      "  explode: [['table-generating'], ALL],",
      "  iceberg_bucket: [['scalar'], ['4.0']],",
      "  int: [['scalar'], ALL],",
      "  lead: [['aggregate', 'scalar'], ALL],",
      "  mask: [['scalar'], ALL],",
      "  noop: [['table'], ALL],",
      "  st_aggr_union: [['aggregate'], ['4.0']],",
      "  st_point: [['scalar'], ['4.0']],",
      "  substr: [['scalar'], ALL],",
      "  udftointeger: [['scalar'], ALL],",
    ]);
    expect(text).toContain("export const HIVE_VERSIONS = ['2.3', '4.0'] as const;");
    expect(text).toContain(` *   2.3: rel/release-2.3.0 (commit ${git('rev-parse', 'rel/release-2.3.0').trim()})`);
    expect(text).toContain('generate-hive-functions.ts 2.3=<hive git dir>@rel/release-2.3.0 4.0=<hive git dir>@rel/release-4.0.0');
  });

  it('adds the names of a supplement to its version, and says so in the header', () => {
    const out = path.join(root, 'supplemented.ts');
    const supplement = path.join(root, 'supplement.json');
    writeFileSync(supplement, JSON.stringify({ version: '4.0', source: 'a later FunctionRegistry', why: 'test', functions: { array_min: 'scalar', explode: 'table-generating' } }));
    generateHiveFunctions(['--out', out, '--supplement', supplement, ...sources()]);
    const text = readFileSync(out, 'utf8');
    expect(text).toContain("  array_min: [['scalar'], ['4.0']],");
    expect(text).toContain("  explode: [['table-generating'], ALL],");
    expect(text).toContain(`plus, for 4.0, the names in ${supplement}`);
  });

  it('checks a written module against the sources, and fails when it differs', () => {
    const out = path.join(root, 'checked.ts');
    generateHiveFunctions(['--out', out, ...sources()]);
    expect(generateHiveFunctions(['--check', '--out', out, ...sources()])).toBe(`${out} is up to date (16 names)`);
    writeFileSync(out, readFileSync(out, 'utf8').replace("  concat: [['scalar'], ALL],\n", ''));
    expect(() => generateHiveFunctions(['--check', '--out', out, ...sources()])).toThrow(`${out} differs from what the sources give`);
  });

  it('stops on a name it cannot resolve rather than leave a function out', () => {
    commit({ [REGISTRY]: registry('    system.registerGenericUDF(Unknown.NAME, GenericUDFX.class);') }, 'broken');
    expect(() => generateHiveFunctions(['--out', path.join(root, 'broken.ts'), `2.3=${gitDir}@broken`])).toThrow('2.3 (broken): expected one Unknown.java, found 0');
  });
});
