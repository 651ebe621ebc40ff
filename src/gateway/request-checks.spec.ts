import { GatewayError } from '../common/errors';
import { checkEndpointBody } from './request-checks';

const chat = (extra: Record<string, unknown>, content: unknown = 'hi'): Record<string, unknown> => ({
  model: 'm',
  messages: [{ role: 'user', content }],
  ...extra,
});

function param(body: Record<string, unknown>): string | null | undefined {
  try {
    checkEndpointBody('/v1/chat/completions', body);
    return undefined;
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    expect(err.status).toBe(400);
    return err.param;
  }
}

describe('chat body checks', () => {
  it('accepts what OpenAI accepts: string, null or part-array content, null optional parameters', () => {
    expect(param(chat({}, null))).toBeUndefined();
    expect(param(chat({}, [{ type: 'text', text: 'x' }]))).toBeUndefined();
    expect(
      param(chat({ max_tokens: null, temperature: null, tools: null, n: 2, top_p: 0.5 })),
    ).toBeUndefined();
  });

  it('refuses wrong content and wrongly typed well-known parameters with the field named', () => {
    expect(param(chat({}, 42))).toBe('messages[0].content');
    expect(param(chat({}, [[1]]))).toBe('messages[0].content');
    expect(param(chat({}, { text: 'x' }))).toBe('messages[0].content');
    expect(param(chat({ max_tokens: 'many' }))).toBe('max_tokens');
    expect(param(chat({ n: 1.5 }))).toBe('n');
    expect(param(chat({ temperature: 'hot' }))).toBe('temperature');
    expect(param(chat({ tools: 'none' }))).toBe('tools');
  });
});
