/**
 * The platform floor: a minimal raw node:http + undici pass-through that buffers the request,
 * re-parses and re-serializes it, and forwards the reply. Usage: floor.ts <port> <upstreamBase>
 */
import { createServer } from 'node:http';
import { Pool } from 'undici';

const port = Number(process.argv[2] ?? 0);
const upstream = new URL(process.argv[3] ?? 'http://127.0.0.1:1');
const pool = new Pool(upstream.origin, { connections: 256, keepAliveTimeout: 30_000 });

const server = createServer((req, res) => {
  const parts: Buffer[] = [];
  req.on('data', (c: Buffer) => parts.push(c));
  req.on('end', () => {
    void (async () => {
      try {
        const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as { stream?: boolean };
        const up = await pool.request({
          path: '/v1/chat/completions',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        if (body.stream) {
          res.writeHead(up.statusCode, { 'content-type': 'text/event-stream' });
          for await (const c of up.body) res.write(c);
          res.end();
        } else {
          const out: Buffer[] = [];
          for await (const c of up.body) out.push(c as Buffer);
          res.writeHead(up.statusCode, { 'content-type': 'application/json' });
          res.end(Buffer.concat(out));
        }
      } catch {
        res.writeHead(502);
        res.end();
      }
    })();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(`READY ${typeof a === 'object' && a ? a.port : port}\n`);
});
// A clean exit on SIGINT lets `--cpu-prof` write its profile (bench/profile.ts).
process.on('SIGINT', () => process.exit(0));
