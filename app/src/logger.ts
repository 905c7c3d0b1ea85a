/**
 * The connector's pino logger. Redaction is the last line of defence: code should never hand a
 * secret to the logger, but if a password, token, SAS signature or key slips into a logged
 * object under a well-known name it is replaced before it is written.
 */
import { isSpanContextValid, trace } from '@opentelemetry/api';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'password',
  '*.password',
  'credentials',
  '*.credentials',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'sig',
  '*.sig',
  'downloadUrl',
  '*.downloadUrl',
  'connectionString',
  '*.connectionString',
  'appSecret',
  '*.appSecret',
];

/** Removes signatures and SAS parameters from a URL before it is logged. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:sig|se|skoid|sktid|skt|ske|sks|skv|sv|exp|token)=)[^&#]*/gi, '$1[REDACTED]');
}

/** The active trace and span, so a log line can be found from its trace and back. */
function traceIds(): Record<string, string> {
  const span = trace.getActiveSpan()?.spanContext();
  return span && isSpanContextValid(span) ? { trace_id: span.traceId, span_id: span.spanId } : {};
}

export function createLogger(level: string, destination?: NodeJS.WritableStream | DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'enos-aml-connector' },
      mixin: traceIds,
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination as never,
  );
}
