/**
 * The HTTP server's own limits, over raw sockets: a client that trickles its request body is cut
 * off with 408 instead of holding a socket for ever, while an answer that takes longer than that
 * limit to stream (a large download) is not cut off.
 */
import { connect } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../../app/src/config/config.js';
import { startServer, type RunningServer } from '../../../app/src/http/server.js';

const httpConfig: Config['http'] = { host: '127.0.0.1', port: 0, trustProxy: 'loopback', bodyLimit: '64kb' };
const REQUEST_TIMEOUT_MS = 300;

function slowApp() {
  const app = express();
  app.use(express.json());
  app.post('/echo', (req, res) => {
    res.json(req.body);
  });
  // Streams ten chunks over about three request timeouts.
  app.get('/slow', (_req, res) => {
    let sent = 0;
    const timer = setInterval(() => {
      res.write(`chunk ${sent}\n`);
      if (++sent === 10) {
        clearInterval(timer);
        res.end();
      }
    }, REQUEST_TIMEOUT_MS / 3);
    res.on('close', () => clearInterval(timer));
  });
  return app;
}

describe('startServer limits', () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('answers 408 and closes the socket when the request body never completes', async () => {
    server = await startServer(slowApp(), httpConfig, { requestTimeoutMs: REQUEST_TIMEOUT_MS });
    const socket = connect(server.port, '127.0.0.1');
    socket.write('POST /echo HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":');
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    expect(received.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
  });

  it('lets an answer stream for longer than the request timeout', async () => {
    server = await startServer(slowApp(), httpConfig, { requestTimeoutMs: REQUEST_TIMEOUT_MS });
    const response = await fetch(`${server.url}/slow`);
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(text.trim().split('\n')).toHaveLength(10);
  });

  it('has a request timeout by default', async () => {
    server = await startServer(slowApp(), httpConfig);
    expect(server.server.requestTimeout).toBeGreaterThan(0);
  });
});
