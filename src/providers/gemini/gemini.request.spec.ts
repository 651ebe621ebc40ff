import { GatewayError } from '../../common/errors';
import type { ChatCompletionRequest } from '../../common/openai.types';
import { cleanSchema, guessMimeType, modelPath, toGeminiRequest, toThinkingConfig } from './gemini.request';

function req(partial: Partial<ChatCompletionRequest>): ChatCompletionRequest {
  return {
    model: 'gemini-2.5-flash',
    messages: [{ role: 'user', content: 'hi' }],
    ...partial,
  };
}

function badRequest(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (e) {
    if (e instanceof GatewayError) return e;
    throw e;
  }
  throw new Error('expected a GatewayError');
}

describe('toGeminiRequest: messages → contents', () => {
  it('maps roles, moves system and developer messages to systemInstruction and merges same-role turns', () => {
    const body = toGeminiRequest(
      req({
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'developer', content: [{ type: 'text', text: 'Use French.' }] },
          { role: 'user', content: 'one' },
          { role: 'user', content: [{ type: 'text', text: 'two' }] },
          { role: 'assistant', content: 'three' },
          { role: 'user', content: 'four' },
        ],
      }),
    );
    expect(body.systemInstruction).toEqual({ parts: [{ text: 'Be brief.' }, { text: 'Use French.' }] });
    expect(body.contents).toEqual([
      { role: 'user', parts: [{ text: 'one' }, { text: 'two' }] },
      { role: 'model', parts: [{ text: 'three' }] },
      { role: 'user', parts: [{ text: 'four' }] },
    ]);
    expect(body.generationConfig).toBeUndefined();
  });

  it('maps data URLs to inlineData and http URLs to fileData with a guessed MIME type', () => {
    const body = toGeminiRequest(
      req({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'what is this?' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.webp?size=2' } },
              { type: 'image_url', image_url: { url: 'https://example.com/picture' } },
            ],
          },
        ],
      }),
    );
    expect(body.contents[0]!.parts).toEqual([
      { text: 'what is this?' },
      { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
      { fileData: { fileUri: 'https://example.com/cat.webp?size=2', mimeType: 'image/webp' } },
      { fileData: { fileUri: 'https://example.com/picture', mimeType: 'image/jpeg' } },
    ]);
  });

  it('rejects an image URL that is neither a data URL nor http(s)', () => {
    const err = badRequest(() =>
      toGeminiRequest(
        req({
          messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }] }],
        }),
      ),
    );
    expect(err.status).toBe(400);
    expect(err.param).toBe('messages[0].content[0].image_url.url');
  });

  it('turns assistant tool calls into functionCall parts and tool messages into functionResponse parts', () => {
    const body = toGeminiRequest(
      req({
        messages: [
          { role: 'user', content: 'weather and time in Paris?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'call_a',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
              },
              { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '' } },
            ],
          },
          { role: 'tool', tool_call_id: 'call_a', content: '{"temp":21}' },
          { role: 'tool', tool_call_id: 'call_b', content: '12:00' },
        ],
      }),
    );
    expect(body.contents).toEqual([
      { role: 'user', parts: [{ text: 'weather and time in Paris?' }] },
      {
        role: 'model',
        parts: [
          { functionCall: { name: 'get_weather', args: { city: 'Paris' } } },
          { functionCall: { name: 'get_time', args: {} } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_weather', response: { temp: 21 } } },
          { functionResponse: { name: 'get_time', response: { result: '12:00' } } },
        ],
      },
    ]);
  });

  it('answers 400 for tool-call arguments that are not JSON', () => {
    const err = badRequest(() =>
      toGeminiRequest(
        req({
          messages: [
            { role: 'user', content: 'x' },
            {
              role: 'assistant',
              content: null,
              tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{oops' } }],
            },
          ],
        }),
      ),
    );
    expect(err.status).toBe(400);
    expect(err.param).toBe('messages[1].tool_calls[0].function.arguments');
  });

  it('answers 400 for a tool message whose id matches no earlier tool call', () => {
    const err = badRequest(() =>
      toGeminiRequest(req({ messages: [{ role: 'tool', tool_call_id: 'nope', content: 'x' }] })),
    );
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/nope/);
  });

  it('puts a kept signature on the first functionCall part, or on the last text part', () => {
    const signature = 'c2lnLTE=';
    const withCall = toGeminiRequest(
      req({
        messages: [
          { role: 'user', content: 'x' },
          {
            role: 'assistant',
            content: 'Let me check.',
            reasoning_content: 'thinking...',
            thinking_blocks: [{ type: 'thinking', thinking: 'thinking...', signature }],
            tool_calls: [
              { id: 'c1', type: 'function', function: { name: 'a', arguments: '{}' } },
              { id: 'c2', type: 'function', function: { name: 'b', arguments: '{}' } },
            ],
          },
        ],
      }),
    );
    expect(withCall.contents[1]!.parts).toEqual([
      { text: 'Let me check.' },
      { functionCall: { name: 'a', args: {} }, thoughtSignature: signature },
      { functionCall: { name: 'b', args: {} } },
    ]);

    const textOnly = toGeminiRequest(
      req({
        messages: [
          { role: 'user', content: 'x' },
          {
            role: 'assistant',
            content: 'The answer.',
            thinking_blocks: [{ type: 'thinking', thinking: '', signature }],
          },
          {
            role: 'assistant',
            content: '',
            thinking_blocks: [{ type: 'thinking', thinking: 't', signature: 'b3RoZXI=' }],
          },
        ],
      }),
    );
    expect(textOnly.contents[1]!.parts).toEqual([
      { text: 'The answer.', thoughtSignature: signature },
      { text: '', thoughtSignature: 'b3RoZXI=' },
    ]);
  });
});

describe('toGeminiRequest: tools and parameters', () => {
  it('declares functions with cleaned schemas and omits empty parameter objects', () => {
    const body = toGeminiRequest(
      req({
        tools: [
          {
            type: 'function',
            function: {
              name: 'search',
              description: 'Search the web',
              strict: true,
              parameters: {
                $schema: 'http://json-schema.org/draft-07/schema#',
                type: 'object',
                additionalProperties: false,
                properties: {
                  q: { type: 'string', description: 'query' },
                  limit: { type: ['integer', 'null'] },
                  tags: { type: 'array', items: { type: 'string', additionalProperties: false } },
                  mode: { const: 'fast' },
                },
                required: ['q'],
              },
            },
          },
          { type: 'function', function: { name: 'now', parameters: { type: 'object', properties: {} } } },
        ],
        tool_choice: 'required',
      }),
    );
    expect(body.tools).toEqual([
      {
        functionDeclarations: [
          {
            name: 'search',
            description: 'Search the web',
            parameters: {
              type: 'object',
              properties: {
                q: { type: 'string', description: 'query' },
                limit: { type: 'integer', nullable: true },
                tags: { type: 'array', items: { type: 'string' } },
                mode: { enum: ['fast'] },
              },
              required: ['q'],
            },
          },
          { name: 'now' },
        ],
      },
    ]);
    expect(body.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY' } });
  });

  it.each([
    ['auto', { mode: 'AUTO' }],
    ['none', { mode: 'NONE' }],
    ['required', { mode: 'ANY' }],
    [
      { type: 'function', function: { name: 'f' } },
      { mode: 'ANY', allowedFunctionNames: ['f'] },
    ],
  ])('maps tool_choice %j', (choice, expected) => {
    const body = toGeminiRequest(
      req({ tool_choice: choice as NonNullable<ChatCompletionRequest['tool_choice']> }),
    );
    expect(body.toolConfig).toEqual({ functionCallingConfig: expected });
  });

  it('maps sampling parameters into generationConfig', () => {
    const body = toGeminiRequest(
      req({
        temperature: 0.3,
        top_p: 0.9,
        top_k: 40,
        max_tokens: 100,
        max_completion_tokens: 200,
        stop: 'END',
        n: 2,
        presence_penalty: 0.1,
        frequency_penalty: 0.2,
        seed: 7,
        response_format: { type: 'json_object' },
      }),
    );
    expect(body.generationConfig).toEqual({
      temperature: 0.3,
      topP: 0.9,
      topK: 40,
      maxOutputTokens: 200,
      stopSequences: ['END'],
      candidateCount: 2,
      presencePenalty: 0.1,
      frequencyPenalty: 0.2,
      seed: 7,
      responseMimeType: 'application/json',
    });
  });

  it('passes a json_schema response format as responseJsonSchema', () => {
    const schema = {
      $schema: 'x',
      type: 'object',
      properties: { a: { type: 'string' } },
      additionalProperties: false,
    };
    const body = toGeminiRequest(
      req({ response_format: { type: 'json_schema', json_schema: { name: 's', schema } } }),
    );
    expect(body.generationConfig).toEqual({
      responseMimeType: 'application/json',
      responseJsonSchema: {
        type: 'object',
        properties: { a: { type: 'string' } },
        additionalProperties: false,
      },
    });
  });

  it('maps reasoning_effort to a thinking budget, or a thinking level on Gemini 3', () => {
    expect(toGeminiRequest(req({ reasoning_effort: 'low' })).generationConfig?.thinkingConfig).toEqual({
      includeThoughts: true,
      thinkingBudget: 1024,
    });
    expect(toThinkingConfig('high', 'gemini-3-pro-preview')).toEqual({
      includeThoughts: true,
      thinkingLevel: 'high',
    });
    expect(toThinkingConfig('none', 'gemini-2.5-flash')).toEqual({ thinkingBudget: 0 });
    expect(toThinkingConfig(undefined, 'gemini-2.5-flash')).toBeUndefined();
    expect(badRequest(() => toThinkingConfig('extreme', 'gemini-2.5-flash')).param).toBe('reasoning_effort');
  });
});

describe('helpers', () => {
  it('builds model paths', () => {
    expect(modelPath('gemini-2.5-flash')).toBe('models/gemini-2.5-flash');
    expect(modelPath('models/gemini-2.5-flash')).toBe('models/gemini-2.5-flash');
    expect(modelPath('tunedModels/my-model')).toBe('tunedModels/my-model');
  });

  it('guesses MIME types from the URL path', () => {
    expect(guessMimeType('https://x/a.PNG', 'image/jpeg')).toBe('image/png');
    expect(guessMimeType('https://x/a.gif#frag', 'image/jpeg')).toBe('image/gif');
    expect(guessMimeType('https://x/a', 'image/jpeg')).toBe('image/jpeg');
  });

  it('cleans anyOf branches recursively', () => {
    expect(cleanSchema({ anyOf: [{ type: 'string', format: 'uri', $id: 'x' }, { type: 'null' }] })).toEqual({
      anyOf: [{ type: 'string', format: 'uri' }, { type: 'null' }],
    });
  });
});
