/**
 * Client keys through /v1 with the official OpenAI SDK (SPEC §3, §4): the SDK's apiKey is the
 * gateway key; keys are created, rotated and revoked through the admin API.
 */
import OpenAI from 'openai';
import { startGateway, type Harness } from '../support/gateway-harness';

const MASTER = 'test-master-key-0123456789abcdef';

const CONFIG = `
auth:
  require_client_key: true
providers:
  mock: { type: mock }
routes:
  - match: { any: true }
    targets: [ { provider: mock } ]
`;

interface CreatedKey {
  id: string;
  key: string;
}

describe('client keys through /v1 with the OpenAI SDK', () => {
  let gw: Harness;

  beforeAll(async () => {
    gw = await startGateway(CONFIG, { env: { GATEWAY_MASTER_KEY: MASTER } });
  });
  afterAll(() => gw.close());

  const admin = async (
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(gw.url + path, {
      method,
      headers: {
        authorization: `Bearer ${MASTER}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null };
  };
  const createKey = async (body: Record<string, unknown>): Promise<CreatedKey> => {
    const res = await admin('POST', '/admin/keys', body);
    expect(res.status).toBe(201);
    return res.body as CreatedKey;
  };
  const sdk = (apiKey: string) => new OpenAI({ baseURL: gw.baseURL, apiKey, maxRetries: 0 });
  const ask = (client: OpenAI, model = 'gpt-4o') =>
    client.chat.completions.create({ model, messages: [{ role: 'user', content: 'ping pong' }] });

  async function apiError(p: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
    try {
      await p;
    } catch (err) {
      if (err instanceof OpenAI.APIError) return err;
      throw err;
    }
    throw new Error('expected the SDK call to fail');
  }

  it('refuses a call without a valid gateway key with 401 invalid_api_key', async () => {
    const err = await apiError(ask(sdk('sk-not-a-gateway-key')));
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(err.code).toBe('invalid_api_key');
    const unknown = await apiError(ask(sdk('sk-gw-' + 'Z'.repeat(40))));
    expect(unknown.status).toBe(401);
  });

  it('answers with a valid key, streamed or not, and counts the usage per key', async () => {
    const { id, key } = await createKey({ name: 'sdk' });
    const client = sdk(key);
    const res = await ask(client);
    expect(res.choices[0]?.message.content).toBe('ping pong');
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      stream: true,
      messages: [{ role: 'user', content: 'one two three' }],
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('one two three');
    // Usage is settled when the call ends (the stream's included, even though it did not ask for usage).
    let usage: { requests: number; total_tokens: number } | null = null;
    for (let i = 0; i < 100; i++) {
      usage = (
        (await admin('GET', `/admin/keys/${id}`)).body as {
          usage: { requests: number; total_tokens: number };
        }
      ).usage;
      if (usage.requests === 2) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(usage?.requests).toBe(2);
    expect(usage?.total_tokens).toBeGreaterThan(res.usage?.total_tokens ?? 0);
  });

  it('refuses a model outside the allow-list with 403 model_not_allowed', async () => {
    const { key } = await createKey({ name: 'gpt-only', models: ['gpt-*'] });
    expect((await ask(sdk(key), 'gpt-4o-mini')).choices).toHaveLength(1);
    const err = await apiError(ask(sdk(key), 'claude-sonnet'));
    expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(err.code).toBe('model_not_allowed');
  });

  it('answers 429 rate_limit_exceeded with Retry-After once rpm is used up', async () => {
    const { key } = await createKey({ name: 'rpm', rpm: 2 });
    const client = sdk(key);
    await ask(client);
    await ask(client);
    const err = await apiError(ask(client));
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.code).toBe('rate_limit_exceeded');
    const retryAfter = Number(err.headers?.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });

  it('answers 429 insufficient_quota once max_tokens_total is spent', async () => {
    const { key } = await createKey({ name: 'budget', max_tokens_total: 1 });
    await ask(sdk(key));
    const err = await apiError(ask(sdk(key)));
    expect(err.status).toBe(429);
    expect(err.code).toBe('insufficient_quota');
  });

  it('rotates: the new secret works, the old one is refused', async () => {
    const { id, key } = await createKey({ name: 'rotate' });
    await ask(sdk(key));
    const rotated = await admin('POST', `/admin/keys/${id}/rotate`, {});
    expect(rotated.status).toBe(201);
    const fresh = (rotated.body as CreatedKey).key;
    expect((rotated.body as CreatedKey).id).toBe(id);
    expect((await ask(sdk(fresh))).choices).toHaveLength(1);
    expect((await apiError(ask(sdk(key)))).status).toBe(401);
  });

  it('revokes: the key gets 401 at once', async () => {
    const { id, key } = await createKey({ name: 'revoke' });
    await ask(sdk(key));
    expect((await admin('DELETE', `/admin/keys/${id}`)).status).toBe(204);
    const err = await apiError(ask(sdk(key)));
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(err.code).toBe('invalid_api_key');
  });

  it('a client key cannot use the admin API', async () => {
    const { key } = await createKey({ name: 'not-admin' });
    const res = await fetch(`${gw.url}/admin/keys`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key');
  });
});
