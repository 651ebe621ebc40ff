/** Transforms observed at the mock upstream, with the official openai SDK as the caller. */
import OpenAI from 'openai';
import { startGateway, type Harness } from '../support/gateway-harness';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai';

describe('route transforms through the gateway', () => {
  let up: MockOpenAI;
  let gw: Harness;
  let client: OpenAI;

  beforeAll(async () => {
    up = await startMockOpenAI();
    gw = await startGateway(`
providers:
  up: { type: openai, base_url: "${up.baseUrl}", api_key: k }
  textonly: { type: mock, vision: false }
routes:
  - match: { exact: shaped }
    targets:
      - provider: up
        model: target-model
        transforms: { max_tokens_cap: 50 }
    transforms:
      merge_consecutive_user: join
      drop_empty_messages: true
      strip_assistant_tags: [think]
      max_tokens_cap: 500
      stop: [ "END", "STOP" ]
      defaults: { temperature: 0.3 }
      overrides: { top_p: 0.9 }
      drop_params: [ user ]
  - match: { exact: filled }
    targets: [ { provider: up } ]
    transforms: { non_empty_content: "." }
  - match: { exact: prefixed }
    targets: [ { provider: up } ]
    transforms: { response_prefix: "PREFIX: " }
  - match: { exact: vision }
    targets: [ { provider: up, model: vision-model } ]
  - match: { exact: blind }
    targets: [ { provider: textonly } ]
    transforms: { image_to_text: { model: vision, prompt: "Describe it." } }
`);
    client = new OpenAI({ baseURL: gw.baseURL, apiKey: 'x', maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
  });
  beforeEach(() => {
    up.requests.length = 0;
  });

  it('applies the request steps and keeps the target key over the route key', async () => {
    await client.chat.completions.create({
      model: 'shaped',
      max_tokens: 4000,
      stop: 'STOP',
      user: 'someone',
      messages: [
        { role: 'user', content: 'first' },
        { role: 'user', content: 'second' },
        { role: 'assistant', content: '<think>hidden</think>visible' },
        { role: 'user', content: '   ' },
        { role: 'user', content: 'third' },
      ],
    });
    const sent = up.requests[0]!.body as Record<string, unknown>;
    expect(sent.model).toBe('target-model');
    expect(sent.messages).toEqual([
      { role: 'user', content: 'first\n\nsecond' },
      { role: 'assistant', content: 'visible' },
      { role: 'user', content: 'third' },
    ]);
    expect(sent.max_tokens).toBe(50);
    expect(sent.stop).toEqual(['STOP', 'END']);
    expect(sent.temperature).toBe(0.3);
    expect(sent.top_p).toBe(0.9);
    expect('user' in sent).toBe(false);
  });

  it('fills empty content', async () => {
    await client.chat.completions.create({
      model: 'filled',
      messages: [
        { role: 'system', content: '' },
        { role: 'user', content: 'q' },
      ],
    });
    expect((up.requests[0]!.body as { messages: Array<{ content: string }> }).messages[0]!.content).toBe('.');
  });

  it('prefixes the first assistant content, streamed and not', async () => {
    const res = await client.chat.completions.create({
      model: 'prefixed',
      messages: [{ role: 'user', content: 'hello' }],
    });
    expect(res.choices[0]?.message.content).toBe('PREFIX: Echo: hello');
    const stream = await client.chat.completions.create({
      model: 'prefixed',
      stream: true,
      messages: [{ role: 'user', content: 'hello' }],
    });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    expect(text).toBe('PREFIX: Echo: hello');
  });

  it('describes images for a text-only target with the vision model, once per image content', async () => {
    const image = {
      type: 'image_url' as const,
      image_url: { url: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==' },
    };
    const ask = () =>
      client.chat.completions.create({
        model: 'blind',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'what is it?' }, image] }],
      });
    const first = await ask();
    expect(first.choices[0]?.message.content).toContain('[Image description: Echo: Describe it.]');
    expect(up.requests).toHaveLength(1);
    expect((up.requests[0]!.body as { model: string }).model).toBe('vision-model');
    await ask();
    expect(up.requests).toHaveLength(1);
  });

  it('answers a clear error when the image description fails', async () => {
    up.enqueue({
      status: 400,
      body: { error: { message: 'cannot see', type: 'invalid_request_error', param: null, code: null } },
    });
    const image = { type: 'image_url' as const, image_url: { url: 'data:image/png;base64,AAAAnewimage' } };
    await expect(
      client.chat.completions.create({ model: 'blind', messages: [{ role: 'user', content: [image] }] }),
    ).rejects.toMatchObject({ status: 502, message: expect.stringContaining('cannot see') as unknown });
  });
});
