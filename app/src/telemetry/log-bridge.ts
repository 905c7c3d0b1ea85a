/**
 * pino → OpenTelemetry logs, so the connector's log lines reach Application Insights (table
 * `traces`) next to its spans. Each JSON line pino writes is re-emitted as a log record with the
 * same severity, message and fields; pino writes synchronously, so the record is emitted in the
 * context of the call that logged and carries its trace and span ids.
 */
import { Writable } from 'node:stream';
import { logs, SeverityNumber, type AnyValueMap } from '@opentelemetry/api-logs';
import { INSTRUMENTATION } from './instruments.js';

const SEVERITY: Record<number, [SeverityNumber, string]> = {
  10: [SeverityNumber.TRACE, 'TRACE'],
  20: [SeverityNumber.DEBUG, 'DEBUG'],
  30: [SeverityNumber.INFO, 'INFO'],
  40: [SeverityNumber.WARN, 'WARN'],
  50: [SeverityNumber.ERROR, 'ERROR'],
  60: [SeverityNumber.FATAL, 'FATAL'],
};

/** Nested values become JSON text: Application Insights shows custom dimensions as strings. */
function attributesOf(fields: Record<string, unknown>): AnyValueMap {
  const attributes: AnyValueMap = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined || value === null) continue;
    attributes[key] = typeof value === 'object' ? JSON.stringify(value) : (value as string | number | boolean);
  }
  return attributes;
}

export function openTelemetryLogStream(): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      for (const line of chunk.toString().split('\n')) {
        if (line.trim() === '') continue;
        try {
          const { level, msg, time: _time, pid: _pid, hostname: _hostname, ...fields } = JSON.parse(line) as Record<string, unknown>;
          const [severityNumber, severityText] = SEVERITY[Number(level)] ?? [SeverityNumber.INFO, 'INFO'];
          // Looked up per line, as the tracer is (instruments.ts): the SDK registers later, through its own copy of the API.
          logs.getLogger(INSTRUMENTATION).emit({ severityNumber, severityText, body: String(msg ?? ''), attributes: attributesOf(fields) });
        } catch {
          // Not a pino JSON line: nothing to forward.
        }
      }
      done();
    },
  });
}
