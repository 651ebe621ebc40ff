/**
 * The Azure OpenAI mock driven by the official clients of the `openai` package: `AzureOpenAI` for
 * the deployments path, plain `OpenAI` for the v1 path, as Azure's own guides set them up.
 */
import OpenAI, { AzureOpenAI } from 'openai';
import {
  MOCK_AZURE_KEY,
  OUTPUT_FILTER_TRIGGER,
  PROMPT_FILTER_TRIGGER,
  startMockAzure,
  type MockAzure,
} from './mock-azure';

describe('mock Azure OpenAI (driven by the openai package AzureOpenAI client)', () => {
  let mock: MockAzure;
  let azure: AzureOpenAI;

  beforeAll(async () => {
    mock = await startMockAzure();
    azure = new AzureOpenAI({
      endpoint: mock.endpoint,
      apiKey: MOCK_AZURE_KEY,
      apiVersion: '2024-10-21',
      maxRetries: 0,
    });
  });
  afterAll(async () => {
    await mock.close();
  });

  it('answers on the deployments path with the api-key header and api-version', async () => {
    const res = await azure.chat.completions.create({
      model: 'gpt-4o-prod',
      messages: [{ role: 'user', content: 'hello azure' }],
    });
    expect(res.choices[0]?.message.content).toBe('Echo: hello azure');
    expect(res.model).toBe('gpt-4o-2024-08-06');
    const sent = mock.requests[mock.requests.length - 1]!;
    expect(sent.path).toBe('/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21');
    expect(sent.headers['api-key']).toBe(MOCK_AZURE_KEY);
    const annotated = res as unknown as {
      prompt_filter_results: unknown[];
      choices: Array<{ content_filter_results: unknown }>;
    };
    expect(annotated.prompt_filter_results).toHaveLength(1);
    expect(annotated.choices[0]?.content_filter_results).toMatchObject({ hate: { filtered: false } });
  });

  it('streams with an annotation event first, usage last', async () => {
    const stream = await azure.chat.completions.create({
      model: 'gpt-4o-prod',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'stream through azure please' }],
    });
    const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks[0]?.choices).toEqual([]);
    expect((chunks[0] as unknown as { prompt_filter_results: unknown[] }).prompt_filter_results).toHaveLength(
      1,
    );
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('Echo: stream through azure please');
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks[chunks.length - 1]?.usage?.total_tokens).toBeGreaterThan(0);
  });

  it('refuses a filtered prompt with 400 content_filter and the inner error', async () => {
    const err = await azure.chat.completions
      .create({ model: 'gpt-4o-prod', messages: [{ role: 'user', content: PROMPT_FILTER_TRIGGER }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    const e = err as InstanceType<typeof OpenAI.BadRequestError>;
    expect(e.code).toBe('content_filter');
    expect(e.param).toBe('prompt');
    expect((e.error as { innererror?: { code?: string } }).innererror?.code).toBe(
      'ResponsibleAIPolicyViolation',
    );
  });

  it('cuts a filtered answer with finish_reason content_filter, stream and not', async () => {
    const res = await azure.chat.completions.create({
      model: 'gpt-4o-prod',
      messages: [{ role: 'user', content: `tell me about ${OUTPUT_FILTER_TRIGGER} now` }],
    });
    expect(res.choices[0]?.finish_reason).toBe('content_filter');
    expect(res.choices[0]?.message.content).toBeNull();
    const stream = await azure.chat.completions.create({
      model: 'gpt-4o-prod',
      stream: true,
      messages: [{ role: 'user', content: `tell me about ${OUTPUT_FILTER_TRIGGER} now` }],
    });
    const finishes: Array<string | null | undefined> = [];
    let text = '';
    for await (const c of stream) {
      text += c.choices[0]?.delta.content ?? '';
      if (c.choices[0]?.finish_reason) finishes.push(c.choices[0].finish_reason);
    }
    expect(finishes).toEqual(['content_filter']);
    const whole = `Echo: tell me about ${OUTPUT_FILTER_TRIGGER} now`;
    expect(text.length).toBeGreaterThan(0);
    expect(text.length).toBeLessThan(whole.length);
    expect(whole.startsWith(text)).toBe(true);
  });

  it('runs a tool call round trip', async () => {
    const tools: OpenAI.Chat.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } },
    ];
    const first = await azure.chat.completions.create({
      model: 'gpt-4o-prod',
      tools,
      messages: [{ role: 'user', content: 'weather in Oslo?' }],
    });
    const call = first.choices[0]?.message.tool_calls?.[0];
    if (call?.type !== 'function') throw new Error('expected a function call');
    const second = await azure.chat.completions.create({
      model: 'gpt-4o-prod',
      tools,
      messages: [
        { role: 'user', content: 'weather in Oslo?' },
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: call.id, content: 'cold' },
      ],
    });
    expect(second.choices[0]?.message.content).toBe('The tool said: cold');
  });

  it('answers 404 DeploymentNotFound, 401 for a wrong key, 404 for an unknown api-version', async () => {
    const missing = await azure.chat.completions
      .create({ model: 'no-such-deployment', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect((missing as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('DeploymentNotFound');

    const wrongKey = new AzureOpenAI({
      endpoint: mock.endpoint,
      apiKey: 'nope',
      apiVersion: '2024-10-21',
      maxRetries: 0,
    });
    await expect(
      wrongKey.chat.completions.create({ model: 'gpt-4o-prod', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toBeInstanceOf(OpenAI.AuthenticationError);

    const oldVersion = new AzureOpenAI({
      endpoint: mock.endpoint,
      apiKey: MOCK_AZURE_KEY,
      apiVersion: '2020-01-01',
      maxRetries: 0,
    });
    await expect(
      oldVersion.chat.completions.create({
        model: 'gpt-4o-prod',
        messages: [{ role: 'user', content: 'x' }],
      }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('cuts a stream when told to: the client sees the first events, then a connection error', async () => {
    mock.resetNextStream();
    const stream = await azure.chat.completions.create({
      model: 'gpt-4o-prod',
      stream: true,
      messages: [{ role: 'user', content: 'a long enough answer to be cut somewhere' }],
    });
    let chunks = 0;
    const err = await (async () => {
      for await (const _ of stream) chunks++;
    })().catch((e: unknown) => e);
    expect(chunks).toBeGreaterThan(0);
    // fetch's TypeError comes from undici's realm, not Jest's: checked by shape
    expect(String((err as { message?: unknown } | undefined)?.message)).toMatch(/terminated|socket|closed/i);
  });

  it('answers 429 with retry-after headers the client reads', async () => {
    mock.failNext(429);
    const err = await azure.chat.completions
      .create({ model: 'gpt-4o-prod', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const e = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect(e.headers?.get('retry-after')).toBe('2');
    expect(e.headers?.get('retry-after-ms')).toBe('2000');
  });

  it('lists models and embeds on the deployments path', async () => {
    const models = await azure.models.list();
    expect(models.data.map((m) => m.id)).toContain('gpt-4o-2024-08-06');
    expect(models.data[0]).toMatchObject({
      object: 'model',
      status: 'succeeded',
      created_at: expect.any(Number),
    });
    const emb = await azure.embeddings.create({ model: 'embed-small', input: 'vector me' });
    expect(emb.data[0]?.embedding.length).toBeGreaterThan(0);
  });

  it('answers the v1 path to the plain OpenAI client (bearer key, no api-version)', async () => {
    const v1 = new OpenAI({ baseURL: `${mock.endpoint}/openai/v1/`, apiKey: MOCK_AZURE_KEY, maxRetries: 0 });
    const res = await v1.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hello v1' }],
    });
    expect(res.choices[0]?.message.content).toBe('Echo: hello v1');
    expect(mock.requests[mock.requests.length - 1]?.path).toBe('/openai/v1/chat/completions');
    expect((await v1.models.list()).data.length).toBeGreaterThan(0);
    const bad = new OpenAI({ baseURL: `${mock.endpoint}/openai/v1/`, apiKey: 'nope', maxRetries: 0 });
    await expect(bad.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });
});
