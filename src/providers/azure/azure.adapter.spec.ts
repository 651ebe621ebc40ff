/** The azure adapter against the Azure OpenAI mock: both path styles, errors, content filter. */
import { UpstreamError } from '../../common/errors';
import { UpstreamHttp } from '../../common/http';
import type { ChatCompletionChunk } from '../../common/openai.types';
import {
  MOCK_AZURE_KEY,
  OUTPUT_FILTER_TRIGGER,
  PROMPT_FILTER_TRIGGER,
  startMockAzure,
  type MockAzure,
} from '../../../test/support/mock-azure';
import type { CallContext, ProviderAdapter, ProviderSettings } from '../adapter.interface';
import { azureAdapter } from './azure.adapter';

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const out: ChatCompletionChunk[] = [];
  for await (const c of stream) out.push(c);
  return out;
}

async function caught(p: Promise<unknown>): Promise<UpstreamError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(UpstreamError);
    return err as UpstreamError;
  }
  throw new Error('expected an UpstreamError');
}

function withoutBaseUrl(s: ProviderSettings): ProviderSettings {
  const { base_url: _drop, ...rest } = s;
  return rest;
}

describe('azure adapter (against the mock Azure OpenAI)', () => {
  let mock: MockAzure;
  let http: UpstreamHttp;
  const ctx = (): CallContext => ({
    signal: new AbortController().signal,
    requestId: 'r1',
    apiKey: MOCK_AZURE_KEY,
  });
  const settings = (over: Partial<ProviderSettings> = {}): ProviderSettings => ({
    id: 'az',
    type: 'azure',
    base_url: mock.endpoint,
    headers: {},
    timeout_ms: 10_000,
    options: {},
    ...over,
  });
  const adapter = (over: Partial<ProviderSettings> = {}): ProviderAdapter =>
    azureAdapter.create(settings(over), { http });

  beforeAll(async () => {
    mock = await startMockAzure();
    http = new UpstreamHttp();
  });
  afterAll(async () => {
    await http.close();
    await mock.close();
  });

  it('asks for a base_url', () => {
    expect(azureAdapter.validate?.(withoutBaseUrl(settings()))).toEqual([
      'base_url: required for type azure (https://<resource>.openai.azure.com)',
    ]);
    expect(azureAdapter.validate?.(settings({ base_url: 'ftp://x' }))).toEqual([
      'base_url: must be an http(s) URL',
    ]);
  });

  it('calls the deployment named by the model, with api-version and the api-key header', async () => {
    const res = await adapter({ api_version: '2024-10-21' }).chat(
      { model: 'gpt-4o-prod', messages: [{ role: 'user', content: 'hi' }] },
      ctx(),
    );
    expect(res.choices[0]?.message.content).toBe('Echo: hi');
    const sent = mock.requests[mock.requests.length - 1]!;
    expect(sent.path).toBe('/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21');
    expect(sent.headers['api-key']).toBe(MOCK_AZURE_KEY);
    expect(sent.headers.authorization).toBeUndefined();
  });

  it('uses the v1 path with the model in the body when api_version is v1', async () => {
    const res = await adapter({ api_version: 'v1' }).chat(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi v1' }] },
      ctx(),
    );
    expect(res.choices[0]?.message.content).toBe('Echo: hi v1');
    expect(mock.requests[mock.requests.length - 1]?.path).toBe('/openai/v1/chat/completions');
  });

  it('streams without the annotation event, ending with the usage chunk', async () => {
    const chunks = await collect(
      await adapter().streamChat(
        { model: 'gpt-4o-prod', messages: [{ role: 'user', content: 'a b c' }] },
        ctx(),
      ),
    );
    expect(chunks.every((c) => c.id.length > 0)).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Echo: a b c');
    expect(chunks[chunks.length - 1]?.usage?.total_tokens).toBeGreaterThan(0);
  });

  it('maps a prompt refused by the content filter to a 400 naming the filtered category', async () => {
    const e = await caught(
      adapter().chat(
        { model: 'gpt-4o-prod', messages: [{ role: 'user', content: PROMPT_FILTER_TRIGGER }] },
        ctx(),
      ),
    );
    expect(e.status).toBe(400);
    expect(e.retryable).toBe(false);
    expect(e.body?.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'content_filter',
      param: 'prompt',
    });
    expect(e.body?.error.message).toContain('(filtered: violence (high))');
  });

  it('maps errors on the byte pass-through too, keeping retry-after', async () => {
    mock.failNext(429);
    const e = await caught(
      adapter().passthrough!(
        { path: '/chat/completions', model: 'gpt-4o-prod', body: JSON.stringify({ messages: [] }) },
        ctx(),
      ),
    );
    expect(e.status).toBe(429);
    expect(e.retryable).toBe(true);
    expect(e.headers['retry-after']).toBe('2');
    expect(e.body?.error).toMatchObject({ type: 'rate_limit_error', code: null });
    const missing = await caught(
      adapter().chat({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }, ctx()),
    );
    expect(missing.status).toBe(404);
    expect(missing.body?.error.code).toBe('DeploymentNotFound');
  });

  it('keeps finish_reason content_filter of an answer cut by the output filter', async () => {
    const messages = [{ role: 'user' as const, content: `about ${OUTPUT_FILTER_TRIGGER}` }];
    const res = await adapter().chat({ model: 'gpt-4o-prod', messages }, ctx());
    expect(res.choices[0]?.finish_reason).toBe('content_filter');
    const chunks = await collect(await adapter().streamChat({ model: 'gpt-4o-prod', messages }, ctx()));
    expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['content_filter']);
  });

  it('lists the resource models in OpenAI shape (created from created_at), both path styles', async () => {
    for (const api_version of ['2024-10-21', 'v1']) {
      const models = await adapter({ api_version }).listModels!(ctx());
      expect(models.map((m) => m.id)).toEqual(
        expect.arrayContaining(['gpt-4o-2024-08-06', 'gpt-4o-mini-2024-07-18', 'text-embedding-3-small']),
      );
      expect(models[0]).toEqual({
        id: 'gpt-4o-2024-08-06',
        object: 'model',
        created: 1_722_902_400,
        owned_by: 'azure',
      });
    }
  });
});
