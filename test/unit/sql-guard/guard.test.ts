import { describe, expect, it } from 'vitest';
import { AppError, isAppError } from '../../../app/src/errors.js';
import { DEFAULT_MAX_SQL_LENGTH, guardSql, type GuardOptions, type TableAccess } from '../../../app/src/sql-guard/guard.js';

// The demo organization of the local stack: it may read `enos`, not `enos_other`.
const access: TableAccess = { databases: ['enos'] };
const options: GuardOptions = { defaultDatabase: 'enos' };

function refusal(sql: string, tableAccess: TableAccess = access, guardOptions: GuardOptions = options): AppError {
  try {
    guardSql(sql, tableAccess, guardOptions);
  } catch (error) {
    if (isAppError(error)) return error;
    throw error;
  }
  throw new Error(`expected the guard to refuse: ${sql}`);
}

interface Accepted {
  sql: string;
  tables: string[];
}
interface Refused {
  sql: string;
  code: 'sql_rejected' | 'table_forbidden';
  message: string;
}

const accepted: Accepted[] = [
  { sql: 'select * from enos.asset', tables: ['enos.asset'] },
  { sql: 'SELECT Name FROM ENOS.Asset', tables: ['enos.asset'] },
  { sql: 'select * from asset', tables: ['enos.asset'] },
  { sql: 'select * from `enos`.`asset`', tables: ['enos.asset'] },
  { sql: 'select * from `enos.asset` a', tables: ['enos.asset'] },
  { sql: 'select * from enos . asset', tables: ['enos.asset'] },
  { sql: 'select a.id, m.v from enos.asset a join enos.measurement m on a.id = m.asset_id', tables: ['enos.asset', 'enos.measurement'] },
  { sql: 'select * from enos.asset a left outer join enos.power_load p on a.id = p.id full outer join enos.measurement m on m.id = a.id', tables: ['enos.asset', 'enos.measurement', 'enos.power_load'] },
  { sql: 'select * from enos.asset a, enos.power_load p where a.id = p.id', tables: ['enos.asset', 'enos.power_load'] },
  { sql: 'select * from enos.asset cross join enos.power_load', tables: ['enos.asset', 'enos.power_load'] },
  { sql: 'select * from enos.asset a left semi join enos.power_load p on a.id = p.id', tables: ['enos.asset', 'enos.power_load'] },
  { sql: 'with m as (select * from enos.measurement) select * from m join enos.asset a on a.id = m.asset_id', tables: ['enos.asset', 'enos.measurement'] },
  { sql: 'with a as (select 1 as x), b as (select x from a) select * from b', tables: [] },
  { sql: 'select * from (select id from enos.asset) s', tables: ['enos.asset'] },
  { sql: 'select * from enos.asset where id in (select asset_id from enos.measurement)', tables: ['enos.asset', 'enos.measurement'] },
  { sql: 'select * from enos.asset a where exists (select 1 from enos.power_load p where p.id = a.id)', tables: ['enos.asset', 'enos.power_load'] },
  { sql: 'select (select max(v) from enos.measurement) as top from enos.asset', tables: ['enos.asset', 'enos.measurement'] },
  { sql: 'select id from enos.asset union all select id from enos.power_load', tables: ['enos.asset', 'enos.power_load'] },
  { sql: 'select id from enos.asset union distinct select id from enos.power_load', tables: ['enos.asset', 'enos.power_load'] },
  { sql: 'select id from enos.asset intersect select id from enos.power_load', tables: ['enos.asset', 'enos.power_load'] },
  { sql: 'select id from enos.asset except select id from enos.power_load', tables: ['enos.asset', 'enos.power_load'] },
  { sql: '(select id from enos.asset) union all (select id from enos.power_load)', tables: ['enos.asset', 'enos.power_load'] },
  { sql: 'select id, row_number() over (partition by site order by ts desc) as rn from enos.measurement', tables: ['enos.measurement'] },
  { sql: 'select avg(v) over (partition by id order by ts rows between 3 preceding and current row) from enos.measurement', tables: ['enos.measurement'] },
  { sql: 'select id, sum(v) over w from enos.measurement window w as (partition by id order by ts)', tables: ['enos.measurement'] },
  { sql: 'select sum(v) over (order by ts range between unbounded preceding and current row) from enos.measurement', tables: ['enos.measurement'] },
  { sql: 'select sum(v) over (partition by id sort by ts) from enos.measurement', tables: ['enos.measurement'] },
  { sql: 'select id, tag from enos.asset lateral view explode(tags) t as tag', tables: ['enos.asset'] },
  { sql: 'select id, pos, tag from enos.asset lateral view outer posexplode(tags) t as pos, tag where id > 1', tables: ['enos.asset'] },
  { sql: "select id, k, v from enos.asset lateral view json_tuple(attrs, 'k', 'v') j as k, v", tables: ['enos.asset'] },
  { sql: 'select id from enos.measurement distribute by id sort by ts', tables: ['enos.measurement'] },
  { sql: 'select * from (select id from enos.measurement cluster by id) s limit 10', tables: ['enos.measurement'] },
  { sql: 'select * from enos.measurement tablesample(bucket 1 out of 16 on id) s', tables: ['enos.measurement'] },
  { sql: 'select site, id, count(*) from enos.asset group by site, id grouping sets ((site, id), site, ())', tables: ['enos.asset'] },
  { sql: 'select site, count(*) from enos.asset group by site with rollup', tables: ['enos.asset'] },
  { sql: 'select /*+ MAPJOIN(p) */ a.id from enos.asset a join enos.power_load p on a.id = p.id', tables: ['enos.asset', 'enos.power_load'] },
  { sql: "select id from enos.asset where name regexp '^wt' and site <=> 'x' order by name nulls last", tables: ['enos.asset'] },
  { sql: "select tags[0], attrs['k'], map('a', 1), array(1, 2) from enos.asset", tables: ['enos.asset'] },
  { sql: "select 'a;b', \"c;d\", `e;f` from enos.asset -- ; drop table enos.asset", tables: ['enos.asset'] },
  { sql: "select id from enos.asset where name = 'it\\'s; drop table x; --'", tables: ['enos.asset'] },
  { sql: "select '$' || '{x}', 'ｓｅｌｅｃｔ；' from enos.asset", tables: ['enos.asset'] },
  { sql: 'select v as `功率 (kW)` from enos.measurement', tables: ['enos.measurement'] },
  { sql: 'select 1', tables: [] },
  { sql: 'select * from enos.asset;', tables: ['enos.asset'] },
  { sql: ' \n select * from enos.asset ; -- trailing\n/* done */ \n', tables: ['enos.asset'] },
  { sql: 'select trim(name), lower(site) from enos.asset', tables: ['enos.asset'] },
  { sql: '-- Windows line endings\r\nselect id -- the id\r\nfrom enos.asset\r\n', tables: ['enos.asset'] },
  // Valid HiveQL that was refused with misleading messages (issue 9)
  { sql: 'select extract(hour FROM ts) from enos.measurement', tables: ['enos.measurement'] },
  { sql: 'select EXTRACT(dayofweek from ts), extract(years from ts) as y from enos.measurement', tables: ['enos.measurement'] },
  { sql: 'select 7 DIV 2', tables: [] },
  { sql: 'select id div 10, sum(v) from enos.measurement group by id div 10', tables: ['enos.measurement'] },
  { sql: "select stack(2, 'a', 1, 'b', 2) AS (k, v) from enos.asset", tables: ['enos.asset'] },
  { sql: 'select posexplode(tags) as (pos, tag) from enos.asset', tables: ['enos.asset'] },
  { sql: "select json_tuple(attrs, 'k', 'v') as (`k`, v) from enos.asset", tables: ['enos.asset'] },
  { sql: 'select inline(array(struct(1, 2))) as (a, b) from enos.asset', tables: ['enos.asset'] },
  { sql: 'select explode(tags) as tag from enos.asset', tables: ['enos.asset'] },
  { sql: '\uFEFFselect id from enos.asset', tables: ['enos.asset'] },
  { sql: '\uFEFF\n-- saved by Notepad\nselect 1', tables: [] },
  { sql: 'select * from enos.asset a join enos.power_load p using (id)', tables: ['enos.asset', 'enos.power_load'] },
  { sql: 'select * from enos.asset a left outer join enos.measurement m using (id, site) join enos.power_load using (id)', tables: ['enos.asset', 'enos.measurement', 'enos.power_load'] },
  { sql: 'select floor(ts TO hour), floor(v) from enos.measurement', tables: ['enos.measurement'] },
  { sql: 'select percentile_cont(0.5) within group (order by v) from enos.measurement', tables: ['enos.measurement'] },
  { sql: 'with m (id, v) as (select id, v from enos.measurement) select * from m', tables: ['enos.measurement'] },
  // Built-in functions by name: scalar, aggregate, window, UDTF, in any case, in backticks
  { sql: "select get_json_object(attrs, '$.a'), NVL(name, ''), coalesce(site, 'x'), if(id > 1, 'a', 'b'), case when id = 1 then 'one' end from enos.asset", tables: ['enos.asset'] },
  { sql: "select date_format(ts, 'yyyy-MM'), unix_timestamp(), from_unixtime(0), datediff(ts, ts), to_date(ts), current_date() from enos.measurement", tables: ['enos.measurement'] },
  { sql: "select regexp_extract(name, '(\\d+)', 1), concat_ws(',', tags), split(name, ' ')[0], size(tags), sort_array(tags), map_keys(attrs) from enos.asset", tables: ['enos.asset'] },
  { sql: 'select cast(v as decimal(10, 2)), cast(name as varchar(20)), cast(site as char(3)), cast(id as string), `UPPER`(name) from enos.measurement', tables: ['enos.measurement'] },
  { sql: 'select count(distinct id), collect_set(site), percentile_approx(v, 0.5), stddev_pop(v), corr(v, id), histogram_numeric(v, 10) from enos.measurement', tables: ['enos.measurement'] },
  { sql: 'select id, rank() over w, dense_rank() over w, lead(v, 1) over w, lag(v) over w, first_value(v) over w, last_value(v) over w, ntile(4) over w, cume_dist() over w, percent_rank() over w from enos.measurement window w as (partition by id order by ts)', tables: ['enos.measurement'] },
  { sql: "select id, k, v from enos.asset lateral view stack(2, 'a', 1, 'b', 2) s as k, v", tables: ['enos.asset'] },
  { sql: "select id, i.a from enos.asset lateral view inline(array(struct(1, 2))) i as a, b lateral view outer explode(tags) t as tag", tables: ['enos.asset'] },
  { sql: "select id, h, p from enos.asset lateral view parse_url_tuple(url, 'HOST', 'PATH') u as h, p", tables: ['enos.asset'] },
  { sql: 'select id from enos.asset where id in (1, 2) and not (id = 3) and exists (select 1 from enos.power_load p where p.id = id) and id between (1) and (9)', tables: ['enos.asset', 'enos.power_load'] },
  { sql: "select ds_hll_sketch(id), array_distinct(tags), st_point(1, 2) from enos.asset", tables: ['enos.asset'] },
];

const refused: Refused[] = [
  // Not a single statement
  { sql: '', code: 'sql_rejected', message: 'The query is empty' },
  { sql: ' -- only a comment\n/* and another */ ', code: 'sql_rejected', message: 'The query is empty' },
  { sql: 'select 1; select 2', code: 'sql_rejected', message: 'Only a single SELECT statement is allowed; found 2 statements' },
  { sql: 'select * from enos.asset; drop table enos.asset', code: 'sql_rejected', message: 'found 2 statements' },
  { sql: 'select 1;;', code: 'sql_rejected', message: "Only one ';', at the end of the query, is allowed" },
  { sql: '; select 1', code: 'sql_rejected', message: "Only one ';'" },
  // DML and DDL
  { sql: 'insert into enos.asset select * from enos.asset', code: 'sql_rejected', message: 'INSERT statements are not allowed' },
  { sql: 'INSERT OVERWRITE TABLE enos.asset SELECT * FROM enos.asset', code: 'sql_rejected', message: 'INSERT statements are not allowed' },
  { sql: "insert overwrite directory '/tmp/out' select * from enos.asset", code: 'sql_rejected', message: 'INSERT statements are not allowed' },
  { sql: "insert overwrite local directory '/tmp/out' select * from enos.asset", code: 'sql_rejected', message: 'INSERT statements are not allowed' },
  { sql: 'from enos.asset insert overwrite table enos.copy select *', code: 'sql_rejected', message: 'INSERT statements are not allowed' },
  { sql: 'with a as (select * from enos.asset) insert into enos.copy select * from a', code: 'sql_rejected', message: 'INSERT statements are not allowed' },
  { sql: 'create table enos.copy as select * from enos.asset', code: 'sql_rejected', message: 'CREATE statements are not allowed' },
  { sql: "create temporary function pwn as 'com.evil.Udf' using jar 'hdfs:///evil.jar'", code: 'sql_rejected', message: 'CREATE FUNCTION statements are not allowed' },
  { sql: "CREATE FUNCTION enos.pwn AS 'com.evil.Udf'", code: 'sql_rejected', message: 'CREATE FUNCTION statements are not allowed' },
  { sql: 'create temporary macro twice(x int) x * 2', code: 'sql_rejected', message: 'CREATE MACRO statements are not allowed' },
  { sql: 'drop table enos.asset', code: 'sql_rejected', message: 'DROP statements are not allowed' },
  { sql: 'alter table enos.asset rename to enos.gone', code: 'sql_rejected', message: 'ALTER statements are not allowed' },
  { sql: 'truncate table enos.asset', code: 'sql_rejected', message: 'TRUNCATE statements are not allowed' },
  { sql: "load data inpath '/tmp/x' into table enos.asset", code: 'sql_rejected', message: 'LOAD statements are not allowed' },
  { sql: 'update enos.asset set name = 1', code: 'sql_rejected', message: 'UPDATE statements are not allowed' },
  { sql: 'delete from enos.asset', code: 'sql_rejected', message: 'DELETE statements are not allowed' },
  { sql: 'merge into enos.asset t using enos.power_load s on t.id = s.id when matched then delete', code: 'sql_rejected', message: 'MERGE statements are not allowed' },
  { sql: 'grant select on table enos.asset to user eve', code: 'sql_rejected', message: 'GRANT statements are not allowed' },
  { sql: 'msck repair table enos.asset', code: 'sql_rejected', message: 'MSCK statements are not allowed' },
  { sql: 'use enos_other', code: 'sql_rejected', message: 'USE statements are not allowed' },
  // Commands HiveServer2 runs outside the SQL compiler
  { sql: 'set hive.exec.scratchdir=/tmp', code: 'sql_rejected', message: 'SET commands are not allowed' },
  { sql: 'reset', code: 'sql_rejected', message: 'RESET commands are not allowed' },
  { sql: 'add jar hdfs:///tmp/evil.jar', code: 'sql_rejected', message: 'ADD JAR/FILE/ARCHIVE commands are not allowed' },
  { sql: 'ADD FILE /etc/passwd', code: 'sql_rejected', message: 'ADD JAR/FILE/ARCHIVE commands are not allowed' },
  { sql: 'dfs -cat /etc/passwd', code: 'sql_rejected', message: 'DFS commands are not allowed' },
  { sql: '!cat /etc/passwd', code: 'sql_rejected', message: 'Shell commands (!) are not allowed' },
  { sql: 'source /tmp/evil.sql', code: 'sql_rejected', message: 'SOURCE commands are not allowed' },
  { sql: 'compile `import java.lang.Runtime` as groovy named x.groovy', code: 'sql_rejected', message: 'COMPILE commands are not allowed' },
  { sql: 'list jars', code: 'sql_rejected', message: 'LIST commands are not allowed' },
  { sql: 'reload', code: 'sql_rejected', message: 'RELOAD commands are not allowed' },
  // Not a data export
  { sql: 'explain select * from enos.asset', code: 'sql_rejected', message: 'EXPLAIN is not allowed' },
  { sql: 'show tables in enos_other', code: 'sql_rejected', message: 'SHOW statements are not allowed' },
  { sql: 'describe enos_other.site', code: 'sql_rejected', message: 'DESCRIBE statements are not allowed' },
  { sql: 'desc formatted enos.asset', code: 'sql_rejected', message: 'DESCRIBE statements are not allowed' },
  { sql: 'select * into enos.copy from enos.asset', code: 'sql_rejected', message: 'SELECT … INTO is not allowed' },
  { sql: 'from enos.asset select id', code: 'sql_rejected', message: 'Queries that start with FROM' },
  { sql: 'values (1, 2)', code: 'sql_rejected', message: 'VALUES statements are not allowed' },
  // Scripts and code
  { sql: "select transform(id) using '/bin/sh -c id' as x from enos.asset", code: 'sql_rejected', message: 'TRANSFORM … USING scripts are not allowed' },
  { sql: "from enos.asset map id using 'cat' as x", code: 'sql_rejected', message: 'TRANSFORM … USING scripts are not allowed' },
  { sql: "from (from enos.asset select id) t reduce t.id using 'wc -l' as n", code: 'sql_rejected', message: 'TRANSFORM … USING scripts are not allowed' },
  { sql: "select reflect('java.lang.Runtime', 'getRuntime') from enos.asset", code: 'sql_rejected', message: 'Function reflect() is not allowed' },
  { sql: "select java_method('java.lang.System', 'getenv') from enos.asset", code: 'sql_rejected', message: 'Function java_method() is not allowed' },
  { sql: "select REFLECT2(name, 'getClass') from enos.asset", code: 'sql_rejected', message: 'Function reflect2() is not allowed' },
  { sql: "select `reflect` /* hidden */ ('java.lang.Runtime', 'getRuntime') from enos.asset", code: 'sql_rejected', message: 'Function reflect() is not allowed' },
  { sql: "select in_file('root', '/etc/passwd') from enos.asset", code: 'sql_rejected', message: 'Function in_file() is not allowed' },
  { sql: "select xpath_string('<a/>', 'a') from enos.asset", code: 'sql_rejected', message: 'Function xpath_string() is not allowed' },
  { sql: "select * from enos.asset lateral view get_splits('select * from enos_other.site', 1) s as x", code: 'sql_rejected', message: 'Function get_splits() is not allowed: it runs a query given as a string' },
  { sql: "select `İn_file`('x', '/etc/passwd') from enos.asset", code: 'sql_rejected', message: 'Function names must be ASCII' },
  { sql: 'select enos.my_udf(id) from enos.asset', code: 'sql_rejected', message: 'Database-qualified functions such as enos.my_udf() are not allowed' },
  { sql: 'select default.myudf(1) from enos.asset', code: 'sql_rejected', message: 'Database-qualified functions such as default.myudf() are not allowed: they may be user-defined code (at line 1 column 8)' },
  { sql: 'select `enos`.`my_udf`(id) from enos.asset', code: 'sql_rejected', message: 'Database-qualified functions such as enos.my_udf()' },
  { sql: 'select `default.myudf`(1) from enos.asset', code: 'sql_rejected', message: 'Database-qualified functions such as default.myudf()' },
  // Hive 4 with hive.support.quoted.identifiers=standard reads "…" as an identifier
  { sql: 'select "myudf"(1) from enos.asset', code: 'sql_rejected', message: 'Function myudf() at line 1 column 8 is not a Hive built-in function' },
  { sql: 'select "default"."myudf"(1) from enos.asset', code: 'sql_rejected', message: 'Database-qualified functions such as default.myudf()' },
  // An unqualified name Hive does not hold resolves to default.myudf, the same code (issue 9)
  { sql: 'select myudf(1) from enos.asset', code: 'sql_rejected', message: 'Function myudf() at line 1 column 8 is not a Hive built-in function; user-defined functions are not allowed' },
  { sql: 'select `MyUdf`(id) from enos.asset', code: 'sql_rejected', message: 'Function myudf() at line 1 column 8 is not a Hive built-in function' },
  { sql: 'select id from enos.asset where id in (select to_owner_id(id) from enos.asset)', code: 'sql_rejected', message: 'Function to_owner_id() at line 1 column 47 is not a Hive built-in' },
  { sql: 'select sum(v) over (partition by my_bucket(id)) from enos.measurement', code: 'sql_rejected', message: 'Function my_bucket() at line 1 column 34' },
  { sql: "select * from enos.asset lateral view my_udtf(tags) t as x", code: 'sql_rejected', message: 'Function my_udtf() at line 1 column 39 is not a Hive built-in function' },
  { sql: 'select my_udtf(tags) as (a, b) from enos.asset', code: 'sql_rejected', message: 'Function my_udtf() at line 1 column 8 is not a Hive built-in' },
  { sql: "select * from enos.asset lateral view upper(name) t as x", code: 'sql_rejected', message: "LATERAL VIEW needs one of Hive's table-generating functions (" },
  { sql: 'select id from enos.asset where id = any (select id from enos.power_load)', code: 'sql_rejected', message: 'Function any() at line 1 column 38 is not a Hive built-in function; user-defined functions are not allowed; quantified comparisons such as = ANY (…) are not supported' },
  // Built-ins that are table functions (PTFs) over a table in their ON clause
  { sql: 'select * from noop(on enos_other.site partition by id)', code: 'sql_rejected', message: 'Function noop() is not allowed: it is a table function (PTF) over a table the guard cannot check (at line 1 column 15)' },
  { sql: "select * from matchpath(on enos.measurement partition by id order by ts arg1('a'))", code: 'sql_rejected', message: 'Function matchpath() is not allowed: it is a table function' },
  { sql: "select get_sql_schema('select * from enos_other.site')", code: 'sql_rejected', message: 'Function get_sql_schema() is not allowed: it compiles a query given as a string' },
  { sql: "select xpath('<a><b>1</b></a>', 'a/b') from enos.asset", code: 'sql_rejected', message: 'Function xpath() is not allowed: its XML parser let Hive releases before 2.3.3 read local files' },
  // Hive's keyword forms still only take what Hive takes, and hide no table
  { sql: 'select extract(fortnight from ts) from enos.measurement', code: 'sql_rejected', message: 'Syntax error near line 1 column 16: EXTRACT needs a unit (year, years, quarter' },
  { sql: 'select extract(hour from (select max(ts) from enos_other.site))', code: 'table_forbidden', message: 'Table enos_other.site' },
  { sql: 'select floor(ts to fortnight) from enos.measurement', code: 'sql_rejected', message: 'FLOOR … TO needs a unit' },
  { sql: 'select percentile_cont(0.5) within group (order by (select max(id) from enos_other.site)) from enos.asset', code: 'sql_rejected', message: 'Subqueries and table references are not supported inside WITHIN GROUP' },
  { sql: 'select stack(1, 2) as (k, (select 1 from enos_other.site)) from enos.asset', code: 'sql_rejected', message: 'Syntax error' },
  { sql: 'select * from enos.asset a join enos_other.site s using (id)', code: 'table_forbidden', message: 'Table enos_other.site' },
  { sql: "select * from enos.asset a join enos.power_load p using 'cat'", code: 'sql_rejected', message: 'TRANSFORM … USING scripts are not allowed' },
  { sql: "select * from (from enos.asset map (id) using 'cat' as x) t", code: 'sql_rejected', message: 'TRANSFORM … USING scripts are not allowed' },
  { sql: 'select 1\uFEFF from enos.asset', code: 'sql_rejected', message: 'Character U+FEFF at line 1 column 9' },
  { sql: '\uFEFF\uFEFFselect 1', code: 'sql_rejected', message: 'Character U+FEFF at line 1 column 2' },
  { sql: '\uFEFFdrop table enos.asset', code: 'sql_rejected', message: 'DROP statements are not allowed' },
  { sql: 'select * from enos.asset lateral view explode((select collect_list(id) from enos_other.site)) t as x', code: 'sql_rejected', message: 'Subqueries and table references are not supported inside LATERAL VIEW' },
  { sql: 'select id from enos.asset distribute by (select max(id) from enos_other.site)', code: 'sql_rejected', message: 'Subqueries and table references are not supported inside DISTRIBUTE BY' },
  // Variable substitution happens before Hive parses, inside strings and comments too
  { sql: "select '${env:HIVE_SERVER2_PASSWORD}' from enos.asset", code: 'sql_rejected', message: 'Variable substitution (${…}) is not allowed' },
  { sql: 'select id from enos.asset -- ${hivevar:more}', code: 'sql_rejected', message: 'Variable substitution' },
  // Characters and tokens whose boundaries Hive versions disagree on
  { sql: 'ѕelect * from enos.asset', code: 'sql_rejected', message: 'Character "ѕ" (U+0455) at line 1 column 1 is not allowed' },
  { sql: 'select 1；drop table enos.asset', code: 'sql_rejected', message: 'Character "；" (U+FF1B)' },
  { sql: 'select\u200b* from enos.asset', code: 'sql_rejected', message: 'Character U+200B' },
  { sql: 'select id from enos.asset # not a comment in Hive', code: 'sql_rejected', message: 'Character "#" (U+0023)' },
  { sql: "select 'a\u0000' from enos.asset", code: 'sql_rejected', message: 'NUL characters are not allowed' },
  { sql: 'select 1 /* outer /* inner */ from enos_other.site */', code: 'sql_rejected', message: 'Nested block comments are not allowed' },
  { sql: 'select /*+ MAPJOIN(a); drop */ 1', code: 'sql_rejected', message: 'Query hints may only contain names, commas and parentheses' },
  { sql: 'select "a\\" from enos_other.site --" from enos.asset', code: 'sql_rejected', message: 'Backslashes are not allowed in double-quoted strings' },
  // HiveServer2 (3+) picks a command processor from the statement with `--` comments removed up to
  // the next LF, while its SQL parser ends them at a CR too: here it would run `dfs -cat`.
  { sql: "--\rselect '\ndfs -cat /warehouse/enos_other.db/site/000000_0\n--\r' from enos.asset", code: 'sql_rejected', message: 'A line comment must end with a line feed' },
  { sql: 'select id from enos.asset -- note\r where id = 1', code: 'sql_rejected', message: 'A line comment must end with a line feed (at line 1 column 34)' },
  // Hive lexes `_utf8--x` as one character set name: the "comment" would be code to Hive.
  { sql: "select _utf8--x 'a', (select max(id) from enos_other.site) as y\nfrom enos.asset", code: 'sql_rejected', message: '"_utf8--x" at line 1 column 8 is one token to Hive' },
  { sql: 'select `a``b` from enos.asset', code: 'sql_rejected', message: 'doubled backticks are not allowed' },
  { sql: "select 'unterminated from enos.asset", code: 'sql_rejected', message: 'Unterminated string literal starting at line 1 column 8' },
  { sql: 'select 1 /* never closed', code: 'sql_rejected', message: 'Unterminated comment' },
  { sql: 'select `never closed from enos.asset', code: 'sql_rejected', message: 'Unterminated quoted identifier' },
  // Syntax and shape
  { sql: 'select id frm enos.asset', code: 'sql_rejected', message: 'Syntax error near line 1 column 15: unexpected "enos"' },
  { sql: 'select (((id) from enos.asset', code: 'sql_rejected', message: '"(" is never closed' },
  { sql: 'select id) from enos.asset', code: 'sql_rejected', message: 'unmatched ")"' },
  { sql: `select ${'('.repeat(70)}1${')'.repeat(70)}`, code: 'sql_rejected', message: 'Parentheses are nested more than 64 levels deep' },
  { sql: `select '${'x'.repeat(DEFAULT_MAX_SQL_LENGTH)}'`, code: 'sql_rejected', message: `the limit is ${DEFAULT_MAX_SQL_LENGTH}` },
  { sql: 'select * from `enos_othеr`.site', code: 'sql_rejected', message: 'Table name "enos_othеr.site" is not valid' },
  // Tables outside the organization's databases
  { sql: 'select * from enos_other.site', code: 'table_forbidden', message: 'Table enos_other.site is not in a database your organization may read' },
  { sql: 'SELECT * FROM ENOS_OTHER.SITE', code: 'table_forbidden', message: 'Table enos_other.site is not in a database' },
  { sql: 'select * from `enos_other.site`', code: 'table_forbidden', message: 'Table enos_other.site' },
  { sql: 'select * from `enos_other`.`site`', code: 'table_forbidden', message: 'Table enos_other.site' },
  { sql: 'select * from enos.asset a join enos_other.site s on a.id = s.id', code: 'table_forbidden', message: 'Table enos_other.site' },
  { sql: 'select * from enos.asset a, enos_other.site s', code: 'table_forbidden', message: 'Table enos_other.site' },
  { sql: 'select * from enos.asset where id in (select id from enos_other.site)', code: 'table_forbidden', message: 'Table enos_other.site' },
  { sql: 'select (select max(id) from enos_other.site) from enos.asset', code: 'table_forbidden', message: 'Table enos_other.site' },
  { sql: 'select id from enos.asset union all select id from enos_other.site', code: 'table_forbidden', message: 'Table enos_other.site' },
  { sql: 'with site as (select * from enos_other.site) select * from site', code: 'table_forbidden', message: 'Table enos_other.site' },
  { sql: 'select * from enos.asset a where exists (select 1 from enos_other.site s where s.id = a.id)', code: 'table_forbidden', message: 'Table enos_other.site' },
  { sql: 'select * from enos.asset a lateral view explode(a.tags) t as x, enos_other.site', code: 'table_forbidden', message: 'Table enos_other.site' },
  { sql: 'select * from enos.asset a lateral view explode(a.tags) t, enos_other.site', code: 'table_forbidden', message: 'Table enos_other.site' },
  { sql: 'select id from enos.asset sort by id union all select id from enos_other.site', code: 'table_forbidden', message: 'Table enos_other.site' },
  { sql: 'select * from enos/**/.asset join enos_other -- hidden?\n.site on 1 = 1', code: 'table_forbidden', message: 'Table enos_other.site' },
];

describe('guardSql, table-driven', () => {
  it('has at least 60 statements, accepted and refused', () => {
    expect(accepted.length + refused.length).toBeGreaterThanOrEqual(60);
  });

  it.each(accepted)('accepts $sql', ({ sql, tables }) => {
    expect(guardSql(sql, access, options).tables).toEqual(tables);
  });

  it.each(refused)('refuses $sql', ({ sql, code, message }) => {
    const error = refusal(sql);
    expect({ code: error.code, status: error.status }).toEqual({ code, status: code === 'sql_rejected' ? 400 : 403 });
    expect(error.message).toContain(message);
  });
});

describe('guardSql, positions', () => {
  it('reports the line and column of a syntax error, in the message and in details', () => {
    const error = refusal('select id,\n       name\n  from enos.asset\n where id >');
    expect(error.message).toBe('Syntax error near line 4 column 12: unexpected end of query');
    expect(error.details).toEqual({ position: { line: 4, column: 12 } });
  });

  it('counts lines inside comments and strings it rewrote for the parser', () => {
    const error = refusal("/* a\ncomment */ select 'multi\nline', \"it's\" -- x\nfrom enos.asset whre id = 1");
    expect(error.details).toEqual({ position: { line: 4, column: 22 } });
    expect(error.message).toContain('unexpected "id"');
  });

  it('points at the second statement, a forbidden word, a forbidden table and a bad character', () => {
    expect(refusal('select 1;\n\n  select 2').details).toEqual({ position: { line: 3, column: 3 } });
    expect(refusal('select id,\n  reflect(1) from enos.asset').details).toEqual({ position: { line: 2, column: 3 } });
    expect(refusal('select id,\n  myudf(1) from enos.asset').details).toEqual({ position: { line: 2, column: 3 } });
    expect(refusal('select *\nfrom enos.asset a\njoin  enos_other.site s on 1 = 1').details).toEqual({ position: { line: 3, column: 7 } });
    expect(refusal('select 1\n  # comment').details).toEqual({ position: { line: 2, column: 3 } });
  });

  it('keeps positions exact after blanked Hive clauses', () => {
    const error = refusal('select id from enos.asset lateral view explode(tags) t as x\nwhere id = = 1');
    expect(error.details).toEqual({ position: { line: 2, column: 12 } });
  });
});

describe('guardSql, the statement sent to Hive', () => {
  it('trims, drops one trailing semicolon and a comments-only tail, and keeps everything else', () => {
    const sql = "\n  -- monthly export\n  select id, 'a;b' /* inline */ from enos.asset ;  -- done\n /* bye */\n";
    expect(guardSql(sql, access, options).sql).toBe("-- monthly export\n  select id, 'a;b' /* inline */ from enos.asset");
  });

  it('sends Hive the statement without the byte order mark, whose position still counts', () => {
    expect(guardSql('\uFEFFselect id from enos.asset', access, options).sql).toBe('select id from enos.asset');
    expect(refusal('\uFEFFselect id frm enos.asset').details).toEqual({ position: { line: 1, column: 16 } });
  });

  it('drops a trailing line comment so that nothing appended later can be commented out', () => {
    expect(guardSql('select id from enos.asset -- note', access, options).sql).toBe('select id from enos.asset');
  });
});

describe('guardSql, configuration', () => {
  it('refuses unqualified tables when there is no default database, but not CTE names', () => {
    const error = refusal('select * from asset', access, {});
    expect(error.code).toBe('sql_rejected');
    expect(error.message).toBe('Table "asset" must be qualified with its database, as in database.asset');
    expect(guardSql('with asset as (select 1 as id) select * from asset', access, {}).tables).toEqual([]);
  });

  it('lets a CTE name hide a table only inside the query that defines it', () => {
    const limited: TableAccess = { databases: ['enos'], tables: ['enos.asset'] };
    expect(guardSql('with site as (select id from enos.asset) select * from site', limited, options).tables).toEqual(['enos.asset']);
    const error = refusal('select * from (with site as (select 1 as id) select * from site) q join site s on q.id = s.id', limited);
    expect(error.code).toBe('table_forbidden');
    expect(error.message).toBe('Table enos.site is not among the tables your organization may read');
  });

  it('resolves unqualified tables against the default database, which must itself be readable', () => {
    expect(refusal('select * from site', access, { defaultDatabase: 'enos_other' }).code).toBe('table_forbidden');
    expect(guardSql('select * from site', { databases: ['ENOS_OTHER'] }, { defaultDatabase: 'Enos_Other' }).tables).toEqual(['enos_other.site']);
  });

  it('limits reads to the listed tables when the organization has a table list', () => {
    const limited: TableAccess = { databases: ['enos'], tables: ['enos.asset', 'ENOS.Power_Load'] };
    expect(guardSql('select * from enos.asset join enos.power_load p on 1 = 1', limited, options).tables).toEqual(['enos.asset', 'enos.power_load']);
    const error = refusal('select * from enos.asset a join measurement m on a.id = m.id', limited);
    expect(error.code).toBe('table_forbidden');
    expect(error.message).toBe('Table enos.measurement is not among the tables your organization may read');
  });

  it('honours a custom length cap', () => {
    expect(refusal('select id from enos.asset', access, { ...options, maxLength: 10 }).message).toBe('The query is 25 characters long; the limit is 10');
  });

  it('answers a query far deeper than the parser likes with a 400, not a crash', () => {
    const deep = `select id from enos.asset where ${Array.from({ length: 3000 }, (_, index) => `id = ${index}`).join(' or ')}`;
    expect(guardSql(deep, access, options).tables).toEqual(['enos.asset']);
  });
});

describe('guardSql, comments and line breaks between tokens', () => {
  const outcome = (sql: string): unknown => {
    try {
      return guardSql(sql, access, options).tables;
    } catch (error) {
      if (isAppError(error)) return error.code;
      throw error;
    }
  };
  const separators = [' /* c; */ ', '\n', ' -- c;\n', '\t\r\n', ' /*+ MAPJOIN(a) */ '];
  const samples: [string, unknown][] = [
    ['select * from enos . asset a join enos . power_load p on a . id = p . id', ['enos.asset', 'enos.power_load']],
    ['select * from enos . asset a , enos_other . site s', 'table_forbidden'],
    ['select id from enos . asset lateral view explode ( tags ) t as x , enos_other . site', 'table_forbidden'],
    ['select id from enos . asset where id in ( select id from enos_other . site )', 'table_forbidden'],
    ['select reflect ( 1 ) from enos . asset', 'sql_rejected'],
    ['drop table enos . asset', 'sql_rejected'],
    ['with site as ( select id from enos . asset ) select * from site', ['enos.asset']],
  ];

  it.each(samples)('answers %s the same whatever separates its tokens', (sample, expected) => {
    const parts = sample.split(' ');
    expect(outcome(sample)).toEqual(expected);
    // A hint is only valid right after SELECT; elsewhere it must not change the answer either.
    for (const separator of separators) expect(outcome(parts.join(separator))).toEqual(expected);
  });
});

/**
 * HiveServer2 3+ does not hand every statement to its SQL parser: it first removes `--` comments
 * line by line (HiveStringUtils.removeComments: lines split at LF only, a line starting with `--`
 * or `#` dropped, quotes tracked with a naive backslash check) and runs a command processor when
 * the first word is one (HiveCommand.find). A port of those two, so that the guard's idea of "one
 * SELECT" can be checked against what HiveServer2 would do with the text.
 */
function hiveServer2Command(statement: string): string | undefined {
  let quote: string | undefined;
  const kept: string[] = [];
  for (const line of statement.split('\n').filter((part) => part !== '')) {
    if (quote === undefined && /^\s*(--|#)/.test(line)) continue;
    let out = '';
    for (let index = 0; index < line.length; ) {
      if (quote === undefined && line.startsWith('--', index)) break;
      const char = line[index] as string;
      const escaped = index > 0 && line[index - 1] === '\\';
      if (quote === char && !escaped) quote = undefined;
      else if (quote === undefined && (char === "'" || char === '"') && !escaped) quote = char;
      out += char;
      index += 1;
    }
    if (out.trim() !== '') kept.push(out.trim());
  }
  const words = kept.join('\n').trim().split(/[ \t\n\v\f\r]+/);
  const [first = '', second = ''] = words.map((word) => word.toUpperCase());
  if (words.length > 1 && (second === 'ROLE' || second === 'FROM' || (first === 'SET' && second === 'AUTOCOMMIT'))) return undefined;
  if (first === 'LLAP') return ['CLUSTER', 'CACHE'].includes(second) ? first : undefined;
  return ['SET', 'RESET', 'DFS', 'CRYPTO', 'ADD', 'LIST', 'RELOAD', 'DELETE', 'COMPILE'].includes(first) ? first : undefined;
}

describe('guardSql and HiveServer2 agree that an accepted statement is a query', () => {
  const smuggled = "--\rselect '\ndfs -cat /warehouse/enos_other.db/site/000000_0\n--\r' from enos.asset";

  it('has a faithful port of the command detection', () => {
    expect(hiveServer2Command(smuggled)).toBe('DFS');
    expect(hiveServer2Command('-- note\n  set hive.x=1')).toBe('SET');
    expect(hiveServer2Command("select '\n--' from t\ndfs -ls /")).toBeUndefined();
    expect(hiveServer2Command('delete from enos.asset')).toBeUndefined();
  });

  it('sends no accepted statement of the table to a command processor', () => {
    for (const { sql } of accepted) expect(hiveServer2Command(sql)).toBeUndefined();
  });

  it('sends none of thousands of generated statements it accepts to a command processor', () => {
    // Comments, line breaks and strings holding command words, in every order around one SELECT.
    const trivia = [' ', '\n', '\r\n', '\r', '-- c\n', '-- c\r', '-- c\r\n', '--\r', '/* c */', '/*\n-- c\n*/', '/*+ MAPJOIN(a) */'];
    const strings = ["'\ndfs -ls /\n'", "'--'", "'\n--\r'", "'a\\''", "'\\\\'", '"\nset a=b\n"', "'#'", "'\r\nadd jar x\r\n'", '"--\n"'];
    let seed = 20_251_127;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return Math.floor((seed / 2_147_483_648) * n); // the high bits: an LCG's low bits repeat quickly
    };
    const pick = (list: string[], max: number) => Array.from({ length: random(max + 1) }, () => list[random(list.length)] as string).join('');
    let acceptedCount = 0;
    for (let i = 0; i < 4_000; i++) {
      const expression = Array.from({ length: 1 + random(3) }, () => strings[random(strings.length)] as string).join(` ||${pick(trivia, 2)} `);
      const sql = `${pick(trivia, 3)}select ${pick(trivia, 1)}${expression} as x ${pick(trivia, 3)}from enos.asset${pick(trivia, 2)}`;
      let guarded: string | undefined;
      try {
        guarded = guardSql(sql, access, options).sql;
      } catch (error) {
        if (!isAppError(error)) throw error;
      }
      if (guarded === undefined) continue;
      acceptedCount += 1;
      expect({ sql, command: hiveServer2Command(guarded) }).toEqual({ sql, command: undefined });
    }
    expect(acceptedCount).toBeGreaterThan(1_000);
  });
});

