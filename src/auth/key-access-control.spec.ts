import { FakeKeyRepository } from '../../test/support/fake-key-repository';
import { GatewayError } from '../common/errors';
import { KeyAccessControl } from './key-access-control';
import { KeyCache } from './key-cache';
import { LocalKeyEvents } from './key-events';
import { KeysService, type CreateKeyInput } from './keys.service';
import { MemoryRateLimiter } from './rate-limiter';
import { UsageMeter } from './usage-meter';

function setup(requireClientKey = false) {
  const clock = { t: Date.parse('2026-03-01T12:00:00Z') };
  const now = () => clock.t;
  const repo = new FakeKeyRepository();
  const cache = new KeyCache();
  const meter = new UsageMeter(repo);
  const keys = new KeysService({ repo, cache, meter, events: new LocalKeyEvents(), now });
  const settings = { required: requireClientKey };
  const access = new KeyAccessControl({
    cache,
    meter,
    limiter: new MemoryRateLimiter(),
    requireClientKey: () => settings.required,
    now,
  });
  const create = async (input: Partial<CreateKeyInput> = {}) => keys.create({ name: 'test', ...input });
  return { clock, keys, access, meter, settings, create };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const chat = (headers: Record<string, string>, model: string | null = 'gpt-4o') => ({
  headers,
  model,
  endpoint: '/v1/chat/completions',
});

async function refusal(p: Promise<unknown>): Promise<GatewayError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('expected the call to be refused');
}

describe('KeyAccessControl.admit', () => {
  it('admits anonymous calls when keys are not required and forwards the caller bearer', async () => {
    const { access } = setup(false);
    expect(await access.admit(chat({}))).toEqual({ keyId: null, forwardToken: null });
    expect(await access.admit(chat(bearer('sk-upstream-123')))).toEqual({
      keyId: null,
      forwardToken: 'sk-upstream-123',
    });
  });

  it('refuses calls without a gateway key when keys are required (401 invalid_api_key)', async () => {
    const { access } = setup(true);
    const missing = await refusal(access.admit(chat({})));
    expect(missing.status).toBe(401);
    expect(missing.code).toBe('invalid_api_key');
    const foreign = await refusal(access.admit(chat(bearer('sk-upstream-123'))));
    expect(foreign.status).toBe(401);
    expect(foreign.message).not.toContain('sk-upstream-123');
  });

  it('accepts the key as Authorization: Bearer, x-api-key or api-key, and never forwards it', async () => {
    const { access, create } = setup(true);
    const { key, record } = await create();
    for (const headers of [bearer(key), { 'x-api-key': key }, { 'api-key': key }]) {
      expect(await access.admit(chat(headers))).toEqual({ keyId: record.id, forwardToken: null });
    }
  });

  it('checks a presented sk-gw- key even when keys are not required', async () => {
    const { access, create } = setup(false);
    const { key, record } = await create();
    expect(await access.admit(chat(bearer(key)))).toEqual({ keyId: record.id, forwardToken: null });
    const unknown = await refusal(access.admit(chat(bearer('sk-gw-' + 'x'.repeat(40)))));
    expect(unknown.status).toBe(401);
    expect(unknown.code).toBe('invalid_api_key');
  });

  it('forwards a non-gateway bearer beside an x-api-key client key only when keys are not required', async () => {
    const { access, create, settings } = setup(false);
    const { key, record } = await create();
    const headers = { ...bearer('sk-upstream-1'), 'x-api-key': key };
    expect(await access.admit(chat(headers))).toEqual({ keyId: record.id, forwardToken: 'sk-upstream-1' });
    settings.required = true;
    expect(await access.admit(chat(headers))).toEqual({ keyId: record.id, forwardToken: null });
  });

  it('refuses a disabled key with 401 invalid_api_key, and admits it again when re-enabled', async () => {
    const { access, create, keys } = setup(true);
    const { key, record } = await create();
    await keys.update(record.id, { enabled: false });
    const err = await refusal(access.admit(chat(bearer(key))));
    expect([err.status, err.code]).toEqual([401, 'invalid_api_key']);
    await keys.update(record.id, { enabled: true });
    expect((await access.admit(chat(bearer(key)))).keyId).toBe(record.id);
  });

  it('refuses a key once expires_at has passed', async () => {
    const { access, create, clock } = setup(true);
    const { key } = await create({ expires_at: new Date(clock.t + 60_000).toISOString() });
    expect((await access.admit(chat(bearer(key)))).keyId).not.toBeNull();
    clock.t += 59_999;
    expect((await access.admit(chat(bearer(key)))).keyId).not.toBeNull();
    clock.t += 1;
    const err = await refusal(access.admit(chat(bearer(key))));
    expect([err.status, err.code]).toEqual([401, 'invalid_api_key']);
    expect(err.message).toMatch(/expired/);
  });

  it('refuses a revoked key at once', async () => {
    const { access, create, keys } = setup(false);
    const { key, record } = await create();
    await keys.revoke(record.id);
    expect((await refusal(access.admit(chat(bearer(key))))).status).toBe(401);
  });

  it('enforces the model allow-list with globs (403 model_not_allowed); model listing is not checked', async () => {
    const { access, create } = setup(true);
    const { key } = await create({ models: ['gpt-*', 'claude-?-*'] });
    expect((await access.admit(chat(bearer(key), 'gpt-4o-mini'))).keyId).not.toBeNull();
    expect((await access.admit(chat(bearer(key), 'claude-3-haiku'))).keyId).not.toBeNull();
    const err = await refusal(access.admit(chat(bearer(key), 'gemini-2.0-flash')));
    expect([err.status, err.code, err.type, err.param]).toEqual([
      403,
      'model_not_allowed',
      'permission_error',
      'model',
    ]);
    expect((await access.admit(chat(bearer(key), null))).keyId).not.toBeNull();
  });

  it('answers 429 rate_limit_exceeded with Retry-After in whole seconds when rpm is used up', async () => {
    const { access, create, clock } = setup(true);
    const { key } = await create({ rpm: 2 });
    await access.admit(chat(bearer(key)));
    clock.t += 15_500;
    await access.admit(chat(bearer(key)));
    clock.t += 100;
    const err = await refusal(access.admit(chat(bearer(key))));
    expect([err.status, err.code]).toEqual([429, 'rate_limit_exceeded']);
    expect(err.headers['retry-after']).toBe('45'); // first call leaves the window in 44.4 s
    clock.t += 44_400;
    expect((await access.admit(chat(bearer(key)))).keyId).not.toBeNull();
  });

  it('counts settled tokens against tpm', async () => {
    const { access, create, clock } = setup(true);
    const { key, record } = await create({ tpm: 100 });
    await access.admit(chat(bearer(key)));
    access.settle(record.id, { prompt_tokens: 70, completion_tokens: 40, total_tokens: 110 });
    clock.t += 2_000;
    const err = await refusal(access.admit(chat(bearer(key))));
    expect([err.status, err.code]).toEqual([429, 'rate_limit_exceeded']);
    expect(Number(err.headers['retry-after'])).toBeGreaterThanOrEqual(58);
    expect(Number(err.headers['retry-after'])).toBeLessThanOrEqual(60);
    clock.t += 61_000;
    expect((await access.admit(chat(bearer(key)))).keyId).toBe(record.id);
  });

  it('refuses with 429 insufficient_quota once recorded usage reaches max_tokens_total', async () => {
    const { access, create, keys } = setup(true);
    const { key, record } = await create({ max_tokens_total: 100 });
    await access.admit(chat(bearer(key)));
    access.settle(record.id, { prompt_tokens: 50, completion_tokens: 49, total_tokens: 99 });
    await access.admit(chat(bearer(key))); // 99 < 100: still admitted
    access.settle(record.id, { prompt_tokens: 1, completion_tokens: 0, total_tokens: 1 });
    const err = await refusal(access.admit(chat(bearer(key))));
    expect([err.status, err.code]).toEqual([429, 'insufficient_quota']);
    // Still refused after the usage is written to the database; a raised budget admits again.
    await keys.flushUsage();
    expect((await refusal(access.admit(chat(bearer(key))))).code).toBe('insufficient_quota');
    await keys.update(record.id, { max_tokens_total: 1000 });
    expect((await access.admit(chat(bearer(key)))).keyId).toBe(record.id);
  });

  it('settle counts requests and tokens per key', async () => {
    const { access, create, keys } = setup(false);
    const { record } = await create();
    access.settle(record.id, { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });
    access.settle(record.id, { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 });
    expect((await keys.get(record.id)).usage).toEqual({
      requests: 2,
      prompt_tokens: 4,
      completion_tokens: 5,
      total_tokens: 9,
    });
  });
});
