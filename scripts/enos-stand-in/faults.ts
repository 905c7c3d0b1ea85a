/**
 * Fault hooks, so tests can show what the connector does when EnOS misbehaves: the next N
 * requests (optionally only those to one path) answer with an HTTP error, lose their connection,
 * or are held for a while before being served. Faults are consumed in the order they were added.
 */
import type { NextFunction, Request, Response } from 'express';

export interface FailOptions {
  /** HTTP status to answer with. @default 503 */
  status?: number;
  /** `drop` destroys the socket without an answer, which a client sees as a network error. @default 'status' */
  mode?: 'status' | 'drop';
  /** Only requests to this exact path are affected. @default every path */
  path?: string;
}

interface Fault {
  remaining: number;
  path: string | undefined;
  apply: (req: Request, res: Response, next: NextFunction) => void;
}

export class Faults {
  private readonly queue: Fault[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  /** The next `count` matching requests fail as described. */
  failNext(count: number, options: FailOptions = {}): void {
    const status = options.status ?? 503;
    const apply =
      options.mode === 'drop'
        ? (req: Request) => req.socket.destroy()
        : (_req: Request, res: Response) => {
            if (status === 429 || status === 503) res.setHeader('Retry-After', '0');
            res.status(status).json({ status, msg: `Injected fault: HTTP ${status}`, data: null });
          };
    this.queue.push({ remaining: count, path: options.path, apply });
  }

  /** The next `count` matching requests are served only after `delayMs`. */
  delayNext(count: number, delayMs: number, options: { path?: string } = {}): void {
    const apply = (_req: Request, res: Response, next: NextFunction) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (!res.destroyed) next();
      }, delayMs);
      this.timers.add(timer);
    };
    this.queue.push({ remaining: count, path: options.path, apply });
  }

  reset(): void {
    this.queue.length = 0;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  readonly middleware = (req: Request, res: Response, next: NextFunction): void => {
    const fault = this.queue.find((candidate) => candidate.path === undefined || candidate.path === req.path);
    if (fault === undefined) {
      next();
      return;
    }
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.queue.splice(this.queue.indexOf(fault), 1);
    fault.apply(req, res, next);
  };
}
