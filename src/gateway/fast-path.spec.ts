import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { createFastPath, LINGER_BYTES } from './fast-path';
import type { GatewayService } from './gateway.service';

const LIMIT = 64 * 1024;

interface Reply {
  status: number;
  body: string;
  failed?: string;
}

/** The service is never reached by these requests: every one is over the limit. */
const unreachable = {
  handle: () => {
    throw new Error('an oversized body reached the service');
  },
} as unknown as GatewayService;

/**
 * Posts the body in pieces with a pause between them, as a client on a slower link would, and
 * settles only once the connection is closed: any socket error on the way (EPIPE, ECONNRESET
 * after the answer) counts as a failure.
 */
function post(port: number, body: Buffer, chunked: boolean): Promise<Reply> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (!chunked) headers['content-length'] = String(body.length);
    let reply: Reply = { status: 0, body: '' };
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path: '/v1/chat/completions', headers, agent: false },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => {
          reply = { ...reply, status: res.statusCode ?? 0, body: Buffer.concat(parts).toString() };
        });
      },
    );
    req.on('error', (e) => {
      reply = { ...reply, failed: e.message };
    });
    req.on('close', () => resolve(reply));
    void (async () => {
      const step = 64 * 1024;
      for (let o = 0; o < body.length && !req.destroyed; o += step) {
        req.write(body.subarray(o, o + step));
        await new Promise((r) => setTimeout(r, 1));
      }
      if (!req.destroyed) req.end();
    })();
  });
}

describe('fast path: bodies over the limit', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    const handle = createFastPath(
      () => unreachable,
      () => LIMIT,
    );
    server = createServer((req, res) => {
      if (!handle(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const big = Buffer.alloc(LIMIT * 20, 'y');

  for (const chunked of [false, true]) {
    it(`answer 413 in OpenAI's shape to a client still writing (${chunked ? 'chunked' : 'content-length'})`, async () => {
      // Closing with the body unread resets the connection; a client still writing then sees
      // EPIPE/ECONNRESET, before or after the answer depending on timing.
      for (let i = 0; i < 10; i++) {
        const reply = await post(port, big, chunked);
        expect(reply.failed).toBeUndefined();
        expect(reply.status).toBe(413);
        expect(JSON.parse(reply.body)).toEqual({
          error: {
            message: 'Request body is larger than the limit.',
            type: 'invalid_request_error',
            param: null,
            code: 'request_too_large',
          },
        });
      }
    });
  }

  it('stops reading a body that goes on far past the limit', async () => {
    // Declares 1 GiB and keeps writing: the answer arrives, then the gateway closes the
    // connection once it has drained LINGER_BYTES instead of reading the rest.
    const { received, written } = await new Promise<{ received: string; written: number }>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      const parts: Buffer[] = [];
      let written = 0;
      let closed = false;
      const chunk = Buffer.alloc(64 * 1024, 'z');
      const pump = (): void => {
        while (!closed && written < 1024 * 1024 * 1024) {
          written += chunk.length;
          if (!socket.write(chunk)) return void socket.once('drain', pump);
        }
      };
      socket.on('data', (c: Buffer) => parts.push(c));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        closed = true;
        resolve({ received: Buffer.concat(parts).toString(), written });
      });
      socket.write(
        'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n' +
          `content-length: ${1024 * 1024 * 1024}\r\n\r\n`,
      );
      pump();
    });
    expect(received).toMatch(/^HTTP\/1\.1 413 /);
    expect(received).toContain('"code":"request_too_large"');
    // What sits in the two sockets' buffers comes on top of what the gateway drained.
    expect(written).toBeGreaterThan(LINGER_BYTES);
    expect(written).toBeLessThan(LINGER_BYTES + 64 * 1024 * 1024);
  });
});
