import { GatewayError } from '../../common/errors';
import type { ChatCompletionRequest } from '../../common/openai.types';
import { toAnthropicRequest } from './anthropic.request';

const req = (over: Partial<ChatCompletionRequest>): ChatCompletionRequest => ({
  model: 'claude-sonnet-4-5',
  messages: [{ role: 'user', content: 'hi' }],
  ...over,
});

function badRequest(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).status).toBe(400);
    return err as GatewayError;
  }
  throw new Error('expected a 400');
}

describe('toAnthropicRequest', () => {
  it('joins system and developer messages into `system` and defaults max_tokens', () => {
    const body = toAnthropicRequest(
      req({
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
          { role: 'user', content: 'hi' },
        ],
      }),
    );
    expect(body).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 4096,
      system: 'Be brief.\n\nAnswer in French.',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
    });
  });

  it('takes max_completion_tokens, then max_tokens, then the provider default', () => {
    expect(toAnthropicRequest(req({ max_completion_tokens: 10, max_tokens: 20 })).max_tokens).toBe(10);
    expect(toAnthropicRequest(req({ max_tokens: 20 })).max_tokens).toBe(20);
    expect(toAnthropicRequest(req({}), { defaultMaxTokens: 1000 }).max_tokens).toBe(1000);
    badRequest(() => toAnthropicRequest(req({ max_tokens: 0 })));
  });

  it('maps sampling params, stop, user and stream', () => {
    const body = toAnthropicRequest(
      req({ temperature: 0.5, top_p: 0.9, top_k: 40, stop: 'END', user: 'u-1', stream: true }),
    );
    expect(body).toMatchObject({
      temperature: 0.5,
      top_p: 0.9,
      top_k: 40,
      stop_sequences: ['END'],
      metadata: { user_id: 'u-1' },
      stream: true,
    });
    expect(toAnthropicRequest(req({ stop: ['a', 'b'] })).stop_sequences).toEqual(['a', 'b']);
    expect(toAnthropicRequest(req({ stop: null })).stop_sequences).toBeUndefined();
  });

  it('merges consecutive messages of one role and puts tool results in a user message', () => {
    const body = toAnthropicRequest(
      req({
        messages: [
          { role: 'user', content: 'one' },
          { role: 'user', content: 'two' },
          {
            role: 'assistant',
            content: 'Looking.',
            tool_calls: [
              { id: 'call_a', type: 'function', function: { name: 'f', arguments: '{"x":1}' } },
              { id: 'call_b', type: 'function', function: { name: 'g', arguments: '' } },
            ],
          },
          { role: 'tool', tool_call_id: 'call_a', content: 'A' },
          { role: 'tool', tool_call_id: 'call_b', content: [{ type: 'text', text: 'B' }] },
          { role: 'user', content: 'thanks' },
        ],
      }),
    );
    expect(body.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'one' },
          { type: 'text', text: 'two' },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Looking.' },
          { type: 'tool_use', id: 'call_a', name: 'f', input: { x: 1 } },
          { type: 'tool_use', id: 'call_b', name: 'g', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'call_a', content: 'A' },
          { type: 'tool_result', tool_use_id: 'call_b', content: [{ type: 'text', text: 'B' }] },
          { type: 'text', text: 'thanks' },
        ],
      },
    ]);
  });

  it('rejects tool-call arguments that are not a JSON object with a 400', () => {
    const call = (args: string): ChatCompletionRequest =>
      req({
        messages: [
          { role: 'user', content: 'x' },
          {
            role: 'assistant',
            tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: args } }],
          },
        ],
      });
    expect(badRequest(() => toAnthropicRequest(call('{"x":'))).param).toBe(
      'messages[1].tool_calls[0].function.arguments',
    );
    badRequest(() => toAnthropicRequest(call('[1]')));
  });

  it('turns data URLs into base64 image sources and http URLs into url sources', () => {
    const body = toAnthropicRequest(
      req({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'what is this?' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'high' } },
            ],
          },
        ],
      }),
    );
    expect(body.messages[0]!.content).toEqual([
      { type: 'text', text: 'what is this?' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
    ]);
    badRequest(() =>
      toAnthropicRequest(
        req({
          messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }] }],
        }),
      ),
    );
  });

  it('maps tools, tool_choice and parallel_tool_calls', () => {
    const tools: ChatCompletionRequest['tools'] = [
      {
        type: 'function',
        function: {
          name: 'f',
          description: 'does f',
          parameters: { type: 'object', properties: { a: { type: 'string' } } },
        },
      },
      { type: 'function', function: { name: 'g' } },
    ];
    const body = toAnthropicRequest(req({ tools }));
    expect(body.tools).toEqual([
      {
        name: 'f',
        description: 'does f',
        input_schema: { type: 'object', properties: { a: { type: 'string' } } },
      },
      { name: 'g', input_schema: { type: 'object', properties: {} } },
    ]);
    expect(body.tool_choice).toBeUndefined();
    const choice = (over: Partial<ChatCompletionRequest>): unknown =>
      toAnthropicRequest(req({ tools, ...over })).tool_choice;
    expect(choice({ tool_choice: 'auto' })).toBeUndefined();
    expect(choice({ tool_choice: 'none' })).toEqual({ type: 'none' });
    expect(choice({ tool_choice: 'required' })).toEqual({ type: 'any' });
    expect(choice({ tool_choice: { type: 'function', function: { name: 'g' } } })).toEqual({
      type: 'tool',
      name: 'g',
    });
    expect(choice({ parallel_tool_calls: false })).toEqual({ type: 'auto', disable_parallel_tool_use: true });
    expect(choice({ tool_choice: 'required', parallel_tool_calls: false })).toEqual({
      type: 'any',
      disable_parallel_tool_use: true,
    });
    expect(toAnthropicRequest(req({ tool_choice: 'required' })).tool_choice).toBeUndefined();
  });

  it('turns reasoning_effort or a thinking param into a thinking budget below max_tokens', () => {
    expect(toAnthropicRequest(req({ reasoning_effort: 'low' }))).toMatchObject({
      thinking: { type: 'enabled', budget_tokens: 1024 },
      max_tokens: 4096,
    });
    expect(toAnthropicRequest(req({ reasoning_effort: 'none' })).thinking).toBeUndefined();
    expect(toAnthropicRequest(req({ thinking: { type: 'enabled', budget_tokens: 8000 } }))).toMatchObject({
      thinking: { type: 'enabled', budget_tokens: 8000 },
      max_tokens: 8000 + 4096,
    });
    expect(
      toAnthropicRequest(req({ thinking: { type: 'enabled', budget_tokens: 8000 }, max_tokens: 5000 })),
    ).toMatchObject({
      thinking: { type: 'enabled', budget_tokens: 4999 },
      max_tokens: 5000,
    });
    expect(toAnthropicRequest(req({ thinking: { type: 'adaptive' } })).thinking).toEqual({
      type: 'adaptive',
    });
    expect(toAnthropicRequest(req({ thinking: { type: 'disabled' } })).thinking).toBeUndefined();
    badRequest(() => toAnthropicRequest(req({ reasoning_effort: 'high', max_tokens: 500 })));
    badRequest(() => toAnthropicRequest(req({ thinking: { type: 'enabled', budget_tokens: 100 } })));
  });

  it('puts signed thinking blocks first in their assistant message and drops unsigned reasoning', () => {
    const body = toAnthropicRequest(
      req({
        messages: [
          { role: 'user', content: 'q' },
          {
            role: 'assistant',
            content: 'a',
            reasoning_content: 'thought',
            thinking_blocks: [
              { type: 'thinking', thinking: 'thought', signature: 'sig1' },
              { type: 'redacted_thinking', data: 'opaque' },
              { type: 'thinking', thinking: 'no signature' },
            ],
            tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }],
          },
          { role: 'tool', tool_call_id: 'call_1', content: 'r' },
          { role: 'assistant', content: 'plain', reasoning_content: 'cannot be signed' },
          { role: 'user', content: 'next' },
        ],
      }),
    );
    expect(body.messages[1]!.content).toEqual([
      { type: 'thinking', thinking: 'thought', signature: 'sig1' },
      { type: 'redacted_thinking', data: 'opaque' },
      { type: 'text', text: 'a' },
      { type: 'tool_use', id: 'call_1', name: 'f', input: {} },
    ]);
    expect(body.messages[3]!.content).toEqual([{ type: 'text', text: 'plain' }]);
  });

  it('keeps cache_control on system parts and trims a final prefill', () => {
    const body = toAnthropicRequest(
      req({
        messages: [
          {
            role: 'system',
            content: [{ type: 'text', text: 'long context', cache_control: { type: 'ephemeral' } } as never],
          },
          { role: 'user', content: 'q' },
          { role: 'assistant', content: 'The answer is ' },
        ],
      }),
    );
    expect(body.system).toEqual([
      { type: 'text', text: 'long context', cache_control: { type: 'ephemeral' } },
    ]);
    expect(body.messages[1]).toEqual({
      role: 'assistant',
      content: [{ type: 'text', text: 'The answer is' }],
    });
  });

  it('refuses what the Messages API cannot take', () => {
    badRequest(() => toAnthropicRequest(req({ n: 2 })));
    badRequest(() => toAnthropicRequest(req({ model: '' })));
    badRequest(() => toAnthropicRequest(req({ messages: [] })));
    badRequest(() =>
      toAnthropicRequest(
        req({
          messages: [
            { role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'x', format: 'wav' } }] },
          ],
        }),
      ),
    );
  });
});
