/**
 * SQL guard throughput: statements per second for typical export queries, for refusals, and for
 * a query near the length cap. Prints the ratios of each to the typical case, so the figures
 * stay comparable on a busy machine. `npm run bench sql-guard`
 */
import { isAppError } from '../../app/src/errors.js';
import { DEFAULT_MAX_SQL_LENGTH, guardSql, type TableAccess } from '../../app/src/sql-guard/guard.js';

const access: TableAccess = { databases: ['enos'] };
const options = { defaultDatabase: 'enos' };

const typical = [
  'select * from enos.asset',
  "select asset_id, ts, v from enos.measurement where ts >= '2024-01-01' and ts < '2024-02-01'",
  'with m as (select asset_id, avg(v) as v from enos.measurement group by asset_id) select a.name, m.v from enos.asset a join m on a.id = m.asset_id',
  'select id, row_number() over (partition by site order by ts desc) as rn from enos.measurement',
  'select id, tag from enos.asset lateral view explode(tags) t as tag distribute by id sort by tag',
  "select asset_id, extract(hour from ts) as h, v div 10, get_json_object(attrs, '$.unit') from enos.measurement join enos.asset using (asset_id)",
];
const refused = [
  'select * from enos_other.site',
  'drop table enos.asset',
  "select reflect('java.lang.Runtime', 'getRuntime') from enos.asset",
  'select my_udf(id) from enos.asset',
  'select 1; select 2',
];
const nearCap = (() => {
  const head = 'select id from enos.measurement where id in (';
  // Seven-digit ids joined by ', ' take 9 characters each.
  const count = Math.floor((DEFAULT_MAX_SQL_LENGTH - head.length - 1) / 9);
  return `${head}${Array.from({ length: count }, (_, index) => String(1_000_000 + index)).join(', ')})`;
})();

/** Statements per second over at least `minMs` of repeated guarding. */
function throughput(statements: readonly string[], minMs = 1_000): number {
  let count = 0;
  const started = performance.now();
  while (performance.now() - started < minMs) {
    for (const sql of statements) {
      try {
        guardSql(sql, access, options);
      } catch (error) {
        if (!isAppError(error)) throw error;
      }
      count += 1;
    }
  }
  return count / ((performance.now() - started) / 1000);
}

export default async function run(): Promise<void> {
  throughput(typical, 300); // warm up the parser's JIT before measuring
  const base = throughput(typical);
  const rejections = throughput(refused);
  const large = throughput([nearCap], 2_000);
  const line = (label: string, perSecond: number): string =>
    `${label.padEnd(44)} ${perSecond.toFixed(0).padStart(8)} statements/s  ${(perSecond / base).toFixed(3)}× typical\n`;
  process.stdout.write(line(`typical accepted queries (${typical.length} shapes)`, base));
  process.stdout.write(line('refusals (table, DDL, 2 functions, 2 statements)', rejections));
  process.stdout.write(line(`one query of ${nearCap.length} characters (near the cap)`, large));
  process.stdout.write(`near-cap query: ${(1000 / large).toFixed(1)} ms each on the event loop\n`);
}
