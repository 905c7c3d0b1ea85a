/**
 * What of a HiveServer2 error a user gets to read: Hive's reason, without what belongs to the
 * cluster. A failed Tez job's message carries HDFS URIs with the name node's host, data node
 * addresses, worker host names and YARN/Tez ids (application_…, vertex_…, attempt_…); those go
 * to the connector's log with the job id, never into the job's error. Classifying errors (whose
 * mistake, which HTTP-like status) happens where they are raised; this only cleans the text.
 */

const MAX_LENGTH = 500;

/** Rewrites applied in order; each says what it removes. */
const SCRUBS: [RegExp, string][] = [
  // Any URI with a scheme and an authority: hdfs://nn:8020/…, abfss://c@acct.dfs.core.windows.net/…, http://host:port/…
  [/\b[a-z][a-z0-9+.-]*:\/\/[^\s,;'"\])}]+/gi, '<path>'],
  // YARN, Tez and MapReduce ids: application_1700000000000_0042, vertex_…_1_00, attempt_…, container_e01_…, job_…
  [/\b(?:application|appattempt|vertex|dag|task|attempt|container|job)_(?:e\d+_)?\d{6,}(?:_\d+)+\b/gi, '<id>'],
  // HDFS block pool and block ids.
  [/\bBP-\d+-[\d.]+-\d+(?::blk_\d+_\d+)?\b/g, '<block>'],
  [/\bblk_\d+_\d+\b/g, '<block>'],
  // IPv4 addresses, with a port or not.
  [/\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b/g, '<address>'],
  // host:port with a dotted host name.
  [/\b[a-z0-9-]+(?:\.[a-z0-9-]+)+:\d{2,5}\b/gi, '<address>'],
  // Host names under the domains clusters use internally.
  [/\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:internal|local|localdomain|lan|corp|intranet|cluster\.local|svc|cloudapp\.net|cloudapp\.azure\.com)\b/gi, '<host>'],
];

/** Hive's reason, first line only, Java class prefix dropped, cluster internals removed, capped. */
export function readableHiveError(message: string | undefined): string {
  const first = (message ?? '').split('\n')[0]!.trim();
  let text = first.replace(/^org\.apache\.[\w.$]+:\s*/, '');
  for (const [pattern, replacement] of SCRUBS) text = text.replace(pattern, replacement);
  text = text.replace(/\s*\(\s*<id>\s*\)/g, '').replace(/\s{2,}/g, ' ').trim() || 'Hive reported an error without a message';
  return text.length > MAX_LENGTH ? `${text.slice(0, MAX_LENGTH - 3)}...` : text;
}

/** Where in the statement Hive's compiler says an error is: 1-based line, 0-based character in that line. */
export interface HiveErrorPosition {
  line: number;
  charPositionInLine: number;
}

/**
 * The position a Hive compile error names, if any. Both of Hive's compile errors carry ANTLR's
 * token position as `line:charPositionInLine` (line from 1, character from 0, lines split at LF):
 * a ParseException as `line 1:7 cannot recognize input near …` (ParseError.getMessage in
 * ql/src/java/org/apache/hadoop/hive/ql/parse/ParseError.java: ANTLR 3's
 * BaseRecognizer.getErrorHeader, "line " + e.line + ":" + e.charPositionInLine), a
 * SemanticException as `Line 1:14 Table not found 'x'` (the ASTNode's token line and position;
 * common/src/java/org/apache/hadoop/hive/ql/ErrorMsg.java reads such texts back with
 * ERROR_MESSAGE_PATTERN `.*Line [0-9]+:[0-9]+ (.*)`). The first one in the message is the one meant.
 */
export function hiveErrorPosition(message: string | undefined): HiveErrorPosition | undefined {
  const match = /\b[Ll]ine (\d+):(\d+)\b/.exec(message ?? '');
  if (!match) return undefined;
  return { line: Number(match[1]), charPositionInLine: Number(match[2]) };
}
