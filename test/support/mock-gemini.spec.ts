/**
 * The Gemini mock driven by the official `@google/genai` SDK: if the SDK can talk to it, the
 * mock speaks the real wire format (paths, headers, bodies, SSE framing, error shape).
 */
import { ApiError, FunctionCallingConfigMode, GoogleGenAI, Type } from '@google/genai';
import { MOCK_GEMINI_KEY, startMockGemini } from './mock-gemini';
import type { MockGemini } from './mock-gemini';

/**
 * The SDK routes Node's fetch through the realm's undici global dispatcher, which Jest's sandbox
 * does not have; plain fetch without that option reaches the same server.
 */
const sandboxFetch = (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
  const { dispatcher: _dispatcher, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
  return fetch(url, rest);
};

export function sdkFor(mock: MockGemini, apiKey: string = MOCK_GEMINI_KEY): GoogleGenAI {
  return new GoogleGenAI({ apiKey, httpOptions: { baseUrl: mock.baseUrl, fetch: sandboxFetch } });
}

describe('mock Gemini API (driven by @google/genai)', () => {
  let mock: MockGemini;
  let ai: GoogleGenAI;

  beforeAll(async () => {
    mock = await startMockGemini();
    ai = sdkFor(mock);
  });
  afterAll(async () => {
    await mock.close();
  });

  it('reports a long system instruction seen before as implicitly cached tokens', async () => {
    const systemInstruction = 'Answer in one short sentence about the weather. '.repeat(130);
    const ask = (contents: string): ReturnType<typeof ai.models.generateContent> =>
      ai.models.generateContent({ model: 'gemini-2.5-flash', contents, config: { systemInstruction } });
    expect((await ask('first')).usageMetadata?.cachedContentTokenCount).toBeUndefined();
    const second = await ask('second');
    expect(second.usageMetadata?.cachedContentTokenCount).toBeGreaterThanOrEqual(1024);
    expect(second.usageMetadata?.cachedContentTokenCount).toBeLessThan(
      second.usageMetadata?.promptTokenCount ?? 0,
    );
    const short = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'x',
      config: { systemInstruction: 'brief' },
    });
    expect(short.usageMetadata?.cachedContentTokenCount).toBeUndefined();
  });

  it('answers generateContent with the last user text and usage', async () => {
    const res = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'hello there gemini',
    });
    expect(res.text).toBe('hello there gemini');
    expect(res.candidates?.[0]?.finishReason).toBe('STOP');
    expect(res.usageMetadata?.promptTokenCount).toBe(3);
    expect(res.usageMetadata?.candidatesTokenCount).toBe(3);
    const last = mock.requests[mock.requests.length - 1]!;
    expect(last.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(last.headers['x-goog-api-key']).toBe(MOCK_GEMINI_KEY);
  });

  it('streams generateContentStream as SSE pieces that join to the answer', async () => {
    const stream = await ai.models.generateContentStream({
      model: 'gemini-2.5-flash',
      contents: 'one two three four five six seven',
    });
    const texts: string[] = [];
    let finish: string | undefined;
    for await (const chunk of stream) {
      texts.push(chunk.text ?? '');
      finish = chunk.candidates?.[0]?.finishReason ?? finish;
    }
    expect(texts.length).toBeGreaterThan(1);
    expect(texts.join('')).toBe('one two three four five six seven');
    expect(finish).toBe('STOP');
    expect(mock.requests[mock.requests.length - 1]!.path).toBe(
      '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    );
  });

  it('calls a function when tools are given, then answers the function response', async () => {
    const tools = [
      {
        functionDeclarations: [
          {
            name: 'get_weather',
            description: 'Weather for a city',
            parameters: {
              type: Type.OBJECT,
              properties: { city: { type: Type.STRING } },
              required: ['city'],
            },
          },
        ],
      },
    ];
    const first = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'Paris',
      config: { tools },
    });
    expect(first.functionCalls).toEqual([
      expect.objectContaining({ name: 'get_weather', args: { city: 'Paris' } }),
    ]);

    const second = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: [
        { role: 'user', parts: [{ text: 'Paris' }] },
        { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] },
        { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp: 21 } } }] },
      ],
      config: { tools },
    });
    expect(second.text).toBe('Result: {"temp":21}');
  });

  it('honours functionCallingConfig NONE', async () => {
    const res = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'no tools please',
      config: {
        tools: [{ functionDeclarations: [{ name: 'f' }] }],
        toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.NONE } },
      },
    });
    expect(res.functionCalls).toBeUndefined();
    expect(res.text).toBe('no tools please');
  });

  it('emits thoughts with a signature and requires the signature back', async () => {
    const tools = [
      {
        functionDeclarations: [
          { name: 'lookup', parameters: { type: Type.OBJECT, properties: { q: { type: Type.STRING } } } },
        ],
      },
    ];
    const config = { tools, thinkingConfig: { includeThoughts: true } };
    const first = await ai.models.generateContent({ model: 'gemini-2.5-pro', contents: 'find x', config });
    const parts = first.candidates?.[0]?.content?.parts ?? [];
    expect(parts[0]).toEqual(expect.objectContaining({ thought: true }));
    const call = parts.find((p) => p.functionCall);
    expect(call?.thoughtSignature).toEqual(expect.any(String));
    expect(first.usageMetadata?.thoughtsTokenCount).toBeGreaterThan(0);

    const history = (signature: string | undefined) => [
      { role: 'user', parts: [{ text: 'find x' }] },
      {
        role: 'model',
        parts: [{ functionCall: call!.functionCall!, ...(signature ? { thoughtSignature: signature } : {}) }],
      },
      { role: 'user', parts: [{ functionResponse: { name: 'lookup', response: { found: true } } }] },
    ];
    const ok = await ai.models.generateContent({
      model: 'gemini-2.5-pro',
      contents: history(call!.thoughtSignature),
      config,
    });
    expect(ok.text).toBe('Result: {"found":true}');

    await expect(
      ai.models.generateContent({ model: 'gemini-2.5-pro', contents: history(undefined), config }),
    ).rejects.toThrow(/thought_signature/);
    await expect(
      ai.models.generateContent({ model: 'gemini-2.5-pro', contents: history('Zm9yZ2Vk'), config }),
    ).rejects.toThrow(/Corrupted thought signature/);
  });

  it('embeds one text and a batch (the SDK uses batchEmbedContents)', async () => {
    const one = await ai.models.embedContent({ model: 'gemini-embedding-001', contents: 'hello' });
    expect(one.embeddings?.[0]?.values).toHaveLength(8);
    const many = await ai.models.embedContent({
      model: 'gemini-embedding-001',
      contents: ['a', 'b'],
      config: { outputDimensionality: 16 },
    });
    expect(many.embeddings?.map((e) => e.values?.length)).toEqual([16, 16]);
    expect(many.embeddings?.[0]?.values).not.toEqual(many.embeddings?.[1]?.values);
    expect(mock.requests[mock.requests.length - 1]!.path).toBe(
      '/v1beta/models/gemini-embedding-001:batchEmbedContents',
    );
  });

  it('lists models across pages', async () => {
    const pager = await ai.models.list({ config: { pageSize: 2 } });
    const names: string[] = [];
    for await (const m of pager) names.push(m.name ?? '');
    expect(names).toEqual([
      'models/gemini-2.5-flash',
      'models/gemini-2.5-pro',
      'models/gemini-3-pro-preview',
      'models/gemini-embedding-001',
    ]);
  });

  it.each([
    [400, 'INVALID_ARGUMENT'],
    [429, 'RESOURCE_EXHAUSTED'],
    [500, 'INTERNAL'],
    [503, 'UNAVAILABLE'],
  ])('answers an injected %i as an ApiError with status %s', async (code, status) => {
    mock.failNext(code);
    const err: unknown = await ai.models
      .generateContent({ model: 'gemini-2.5-flash', contents: 'x' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(code);
    expect(JSON.parse((err as ApiError).message)).toEqual({
      error: expect.objectContaining({ code, status }),
    });
  });

  it('fails by model name and rejects a wrong key', async () => {
    await expect(
      ai.models.generateContent({ model: 'gemini-error-503', contents: 'x' }),
    ).rejects.toMatchObject({ status: 503 });
    const wrong = sdkFor(mock, 'nope');
    await expect(wrong.models.generateContent({ model: 'gemini-2.5-flash', contents: 'x' })).rejects.toThrow(
      /API key not valid/,
    );
  });

  it('rejects JSON-schema keys the real API does not know (raw request: the SDK strips them itself)', async () => {
    const res = await fetch(`${mock.baseUrl}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': MOCK_GEMINI_KEY },
      body: JSON.stringify({
        contents: [{ role: 'user', parts: [{ text: 'x' }] }],
        tools: [
          {
            functionDeclarations: [
              { name: 'f', parameters: { type: 'object', additionalProperties: false } },
            ],
          },
        ],
      }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { status: string; message: string } };
    expect(body.error.status).toBe('INVALID_ARGUMENT');
    expect(body.error.message).toMatch(/Unknown name "additionalProperties"/);
  });

  it('ends with SAFETY for a safety model and truncates at maxOutputTokens', async () => {
    const blocked = await ai.models.generateContent({ model: 'gemini-safety', contents: 'x' });
    expect(blocked.candidates?.[0]?.finishReason).toBe('SAFETY');
    const short = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'a b c d e',
      config: { maxOutputTokens: 2 },
    });
    expect(short.text).toBe('a b');
    expect(short.candidates?.[0]?.finishReason).toBe('MAX_TOKENS');
  });

  it('breaks a stream off with an error object for a midstream-error model', async () => {
    const stream = await ai.models.generateContentStream({
      model: 'gemini-midstream-error',
      contents: 'a few words to stream back',
    });
    let text = '';
    const err = await (async () => {
      for await (const c of stream) text += c.text ?? '';
    })().catch((e: unknown) => e);
    expect(text.length).toBeGreaterThan(0);
    expect(err).toBeInstanceOf(Error);
    expect(String((err as Error).message)).toContain('overloaded');
  });
});
