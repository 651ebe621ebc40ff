/**
 * An upstream that echoes the request's credentials in its error messages: the provider key
 * must reach neither the caller's error body nor the stored trace (error, attempts, response).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { startGateway, type Harness } from '../support/gateway-harness';

const PROVIDER_KEY = 'prov-key-5d1c9e7a3b2f48e6a0c4';
const MASTER = 'test-master-key-0123456789abcdef';

/** Answers 500 (retryable) on /a and 401 on /b, each message holding the Authorization it got. */
function echoingUpstream(): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const auth = String(req.headers.authorization ?? '');
      const status = req.url?.startsWith('/a/') ? 500 : 401;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: {
            message: `Rejected credentials "${auth}" (key ${auth.replace(/^Bearer /, '')})`,
            type: status === 401 ? 'invalid_request_error' : 'server_error',
            param: null,
            code: status === 401 ? 'invalid_api_key' : null,
          },
        }),
      );
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
    ),
  );
}

describe('upstream error messages that echo the provider key', () => {
  let up: { server: Server; base: string };
  let gw: Harness;

  beforeAll(async () => {
    up = await echoingUpstream();
    gw = await startGateway(`
providers:
  a: { type: openai, base_url: "${up.base}/a/v1", api_key: ${PROVIDER_KEY} }
  b: { type: openai, base_url: "${up.base}/b/v1", api_key: ${PROVIDER_KEY} }
routes:
  - match: { exact: echo }
    targets: [ { provider: a, model: m1, priority: 0 }, { provider: b, model: m2, priority: 1 } ]
`);
  });
  afterAll(async () => {
    await gw.close();
    await new Promise((r) => up.server.close(r));
  });

  it('keeps the key out of the error body, the stored trace and the logs', async () => {
    const client = new OpenAI({ baseURL: gw.baseURL, apiKey: 'caller', maxRetries: 0 });
    const err = (await client.chat.completions
      .create({ model: 'echo', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.status).toBe(401);
    const body = JSON.stringify(err.error);
    expect(body).toContain('Rejected credentials');
    expect(body).not.toContain(PROVIDER_KEY);

    const traceId = err.headers?.get('x-gateway-trace-id');
    expect(traceId).toBeTruthy();
    let stored: Record<string, unknown> | null = null;
    for (let i = 0; i < 40 && !stored; i++) {
      const res = await fetch(`${gw.url}/api/records/${String(traceId)}`, {
        headers: { authorization: `Bearer ${MASTER}` },
      });
      if (res.status === 200) stored = (await res.json()) as Record<string, unknown>;
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(stored).not.toBeNull();
    expect(stored?.attempts).toHaveLength(2);
    expect(JSON.stringify(stored)).toContain('Rejected credentials');
    expect(JSON.stringify(stored)).not.toContain(PROVIDER_KEY);
    expect(gw.logs.join('')).not.toContain(PROVIDER_KEY);
  });
});
