/** Anthropic, Gemini and Coze behind the gateway, with the official openai SDK as the caller. */
import OpenAI from 'openai';
import { startGateway, type Harness } from '../support/gateway-harness';
import { MOCK_ANTHROPIC_KEY, startMockAnthropic, type MockAnthropic } from '../support/mock-anthropic';
import { MOCK_COZE_TOKEN, startMockCoze, type MockCoze } from '../support/mock-coze';
import { MOCK_GEMINI_KEY, startMockGemini, type MockGemini } from '../support/mock-gemini';

describe('provider adapters through the gateway', () => {
  let anthropic: MockAnthropic;
  let gemini: MockGemini;
  let coze: MockCoze;
  let gw: Harness;
  let client: OpenAI;

  beforeAll(async () => {
    anthropic = await startMockAnthropic();
    gemini = await startMockGemini();
    coze = await startMockCoze();
    gw = await startGateway(`
providers:
  claude: { type: anthropic, base_url: "${anthropic.baseUrl}", api_key: ${MOCK_ANTHROPIC_KEY} }
  gem: { type: gemini, base_url: "${gemini.baseUrl}", api_key: ${MOCK_GEMINI_KEY} }
  bots: { type: coze, base_url: "${coze.baseUrl}", api_key: ${MOCK_COZE_TOKEN}, timeout_ms: 10000 }
routes:
  - match: { prefix: "claude-" }
    targets: [ { provider: claude } ]
  - match: { prefix: "gemini-" }
    targets: [ { provider: gem } ]
  - match: { prefix: "coze/" }
    targets: [ { provider: bots } ]
`);
    client = new OpenAI({ baseURL: gw.baseURL, apiKey: 'x', maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([anthropic.close(), gemini.close(), coze.close()]);
  });

  const models = [['claude-sonnet-4-5'], ['gemini-2.5-flash'], ['coze/7351']];

  it.each(models)('%s: plain chat with a system prompt, non-stream', async (model) => {
    const res = await client.chat.completions.create({
      model,
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hello adapter' },
      ],
    });
    expect(res.choices[0]?.message.content).toContain('hello adapter');
    expect(res.choices[0]?.finish_reason).toBe('stop');
    expect(res.usage?.total_tokens).toBeGreaterThan(0);
  });

  it.each(models)('%s: stream, usage only when asked', async (model) => {
    const stream = await client.chat.completions.create({
      model,
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'stream adapter' }],
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const c of stream) {
      text += c.choices[0]?.delta.content ?? '';
      if (c.usage) usage = c.usage;
    }
    expect(text).toContain('stream adapter');
    expect(usage?.total_tokens).toBeGreaterThan(0);
  });

  it.each([['claude-sonnet-4-5'], ['gemini-2.5-flash']])('%s: tool call round trip', async (model) => {
    const tools: OpenAI.Chat.ChatCompletionTool[] = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          parameters: { type: 'object', properties: { city: { type: 'string' } } },
        },
      },
    ];
    const first = await client.chat.completions
      .stream({ model, tools, messages: [{ role: 'user', content: 'weather in Paris?' }] })
      .finalChatCompletion();
    const call = first.choices[0]?.message.tool_calls?.[0];
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    if (call?.type !== 'function') throw new Error('expected a function call');
    expect(() => JSON.parse(call.function.arguments) as unknown).not.toThrow();
    const second = await client.chat.completions.create({
      model,
      tools,
      messages: [
        { role: 'user', content: 'weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: call.id, content: 'sunny' },
      ],
    });
    expect(second.choices[0]?.message.content?.length).toBeGreaterThan(0);
  });
});
