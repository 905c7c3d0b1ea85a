/**
 * Gives every request an id (echoed as X-Request-Id), a child logger and a server span, and
 * writes one access log line when the response finishes — with signatures stripped from the URL,
 * since download URLs and SAS links are bearer capabilities. The span is named after the route
 * (`GET /api/v1/exports/:id`), carries the user once authenticated, and is the parent of
 * everything the request does (the guard, storage, and — through the export id — the export run).
 */
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { redactUrl, type Logger } from '../logger.js';
import { context, SpanKind, SpanStatusCode, trace, tracer } from '../telemetry/instruments.js';

declare module 'express-serve-static-core' {
  interface Request {
    id: string;
    log: Logger;
  }
}

const INCOMING_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The matched route pattern, never the concrete path (ids and link secrets stay out of span names). */
function routeOf(req: Request): string {
  const route = req.route as { path?: unknown } | undefined;
  return typeof route?.path === 'string' ? `${req.baseUrl}${route.path}` : 'unmatched';
}

export function requestContext(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const incoming = req.get('x-request-id');
    req.id = incoming && INCOMING_ID.test(incoming) ? incoming : randomUUID();
    req.log = logger.child({ reqId: req.id });
    res.setHeader('X-Request-Id', req.id);
    const span = tracer.startSpan(`${req.method}`, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': req.method, 'request.id': req.id },
    });
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const level = res.statusCode >= 500 ? 'error' : 'info';
      req.log[level]({ method: req.method, url: redactUrl(req.originalUrl), status: res.statusCode, ms: Math.round(ms) }, 'request');
      const route = routeOf(req);
      span.updateName(`${req.method} ${route}`);
      span.setAttributes({ 'http.route': route, 'http.response.status_code': res.statusCode, ...(req.ip ? { 'client.address': req.ip } : {}) });
      if (req.session) span.setAttributes({ 'enduser.id': req.session.userId, 'enos.organization': req.session.organizationId });
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    const active = trace.setSpan(context.active(), span);
    // Body parsing and streams call back from their own events: bind them to this request's context.
    context.bind(active, req);
    context.bind(active, res);
    context.with(active, () => next());
  };
}
