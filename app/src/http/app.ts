/**
 * Builds the Express app from configuration and already-constructed dependencies, so tests run
 * the real app on port 0 with real or in-memory adapters. Routers stay thin; use cases live in
 * the domain modules they call.
 */
import express, { type Express, type Router } from 'express';
import helmet from 'helmet';
import type { Config } from '../config/config.js';
import type { Logger } from '../logger.js';
import { jsonBodiesOnly, noStore } from './api-conventions.js';
import { errorMiddleware, notFoundHandler } from './error-middleware.js';
import { healthRoutes, type ReadinessCheck } from './health-routes.js';
import { requestContext } from './request-context.js';

export interface AppDeps {
  logger: Logger;
  readiness: Record<string, ReadinessCheck>;
  /** Feature routers mounted after the health routes, in order. */
  routers?: Router[];
}

export function createApp(config: Config, deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.http.trustProxy);
  app.use(requestContext(deps.logger));
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: true,
        directives: {
          'default-src': ["'self'"],
          'script-src': ["'self'"],
          'style-src': ["'self'"],
          'img-src': ["'self'", 'data:'],
          'connect-src': ["'self'"],
          'frame-ancestors': ["'none'"],
          'form-action': ["'self'"],
        },
      },
      crossOriginResourcePolicy: { policy: 'same-origin' },
    }),
  );
  app.use(noStore);
  app.use(jsonBodiesOnly);
  app.use(express.json({ limit: config.http.bodyLimit }));
  app.use(healthRoutes(deps.readiness, deps.logger));
  for (const router of deps.routers ?? []) app.use(router);
  app.use(notFoundHandler);
  app.use(errorMiddleware);
  return app;
}
