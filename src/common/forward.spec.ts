/** forward(): pass-through exchanges on undici's dispatch callbacks, against a real HTTP server. */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { UpstreamAbort } from './abort';
import { UpstreamError } from './errors';
import { ForwardBody, HIGH_WATER, forward } from './forward';

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

let server: Server;
let pool: Pool;
let handler: Handler = (_req, res) => res.end();
const closed: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => handler(req, res, Buffer.concat(parts)));
    res.on('close', () => {
      if (!res.writableFinished) closed.push(req.url ?? '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { connections: null });
});

afterAll(async () => {
  await pool.close();
  await new Promise((r) => server.close(r));
});

beforeEach(() => {
  closed.length = 0;
});

const post = (path: string, body = '{}', signal: UpstreamAbort | AbortSignal | null = null) =>
  forward(pool, { path, method: 'POST', headers: { 'content-type': 'application/json' }, body }, signal);

const until = async (check: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('forward', () => {
  it('sends the body and headers, and yields the reply chunks in order with status and headers', async () => {
    handler = (req, res, body) => {
      res.writeHead(201, {
        'content-type': 'text/event-stream',
        'x-seen': `${req.headers['content-type']} ${body.toString()}`,
      });
      res.write('data: 1\n\n');
      setTimeout(() => res.end('data: 2\n\ndata: [DONE]\n\n'), 10);
    };
    const res = await post('/s', '{"a":1}');
    expect(res.status).toBe(201);
    expect(res.headers['x-seen']).toBe('application/json {"a":1}');
    const chunks: string[] = [];
    for await (const c of res.body) chunks.push(c.toString());
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    expect(chunks.join('')).toBe('data: 1\n\ndata: 2\n\ndata: [DONE]\n\n');
  });

  it('reads a whole body with all() and text(), also once it has ended', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"x":');
      res.end('[1,2,3]}');
    };
    const a = await post('/j');
    expect(JSON.parse(await a.body.text())).toEqual({ x: [1, 2, 3] });
    const b = await post('/j');
    await until(() => (b.body as ForwardBody).queuedBytes === '{"x":[1,2,3]}'.length);
    await new Promise((r) => setTimeout(r, 20));
    expect((await (b.body as ForwardBody).all()).toString()).toBe('{"x":[1,2,3]}');
  });

  it('pauses the upstream when the reader falls behind and loses no byte', async () => {
    const payload = Buffer.alloc(8 * 1024 * 1024, 'abcdefghij');
    let writerBlocked = false;
    handler = (_req, res) => {
      res.writeHead(200);
      let off = 0;
      const pump = (): void => {
        while (off < payload.length) {
          const ok = res.write(payload.subarray(off, off + 65_536));
          off += 65_536;
          if (!ok) {
            writerBlocked = true;
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    };
    const res = await post('/big');
    const body = res.body as ForwardBody;
    await until(() => writerBlocked);
    await new Promise((r) => setTimeout(r, 100));
    // Paused at the high-water mark: at most one more read of the socket is queued.
    expect(body.queuedBytes).toBeLessThanOrEqual(HIGH_WATER + 256 * 1024);
    const hash = createHash('sha256');
    let size = 0;
    for await (const c of body) {
      hash.update(c);
      size += c.length;
    }
    expect(size).toBe(payload.length);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
  });

  it('an abort before the reply rejects with its reason and closes the request', async () => {
    handler = () => undefined; // never answers
    const abort = new UpstreamAbort();
    const p = post('/hang', '{}', abort);
    await new Promise((r) => setTimeout(r, 30));
    const reason = new Error('client went away');
    abort.abort(reason);
    await expect(p).rejects.toBe(reason);
    await until(() => closed.includes('/hang'));
  });

  it('an AbortSignal aborted mid-body fails the pending read and closes the request', async () => {
    handler = (_req, res) => {
      res.writeHead(200);
      res.write('data: first\n\n');
    };
    const controller = new AbortController();
    const res = await post('/mid', '{}', controller.signal);
    const it = res.body[Symbol.asyncIterator]();
    expect((await it.next()).value?.toString()).toBe('data: first\n\n');
    const pending = it.next();
    controller.abort(new Error('timeout'));
    await expect(pending).rejects.toThrow('timeout');
    await until(() => closed.includes('/mid'));
  });

  it('an already aborted handle rejects without sending', async () => {
    const abort = new UpstreamAbort();
    abort.abort(new Error('gone'));
    await expect(post('/never', '{}', abort)).rejects.toThrow('gone');
  });

  it('a reader that stops early ends the exchange', async () => {
    handler = (_req, res) => {
      res.writeHead(200);
      res.write('data: one\n\n');
    };
    const res = await post('/early');
    for await (const c of res.body) {
      expect(c.toString()).toBe('data: one\n\n');
      break;
    }
    await until(() => closed.includes('/early'));
  });

  it('an upstream that drops the connection mid-body fails the read', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
      setTimeout(() => res.socket?.destroy(), 10);
    };
    const res = await post('/drop');
    await expect(res.body.text()).rejects.toBeInstanceOf(Error);
  });

  it('a refused connection is an UpstreamError of kind connection that names no host or key', async () => {
    const dead = new Pool('http://127.0.0.1:1');
    try {
      const err = await forward(
        dead,
        { path: '/x', method: 'POST', headers: { authorization: 'Bearer sk-secret' }, body: '{}' },
        null,
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UpstreamError);
      expect((err as UpstreamError).kind).toBe('connection');
      expect((err as UpstreamError).message).not.toContain('sk-secret');
    } finally {
      await dead.close();
    }
  });
});
