import { chatRequest, deepFreeze } from './__fixtures__/requests';
import { maxTokensCap } from './max-tokens-cap';

describe('max_tokens_cap', () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ['lowers max_tokens above the cap', { max_tokens: 9000 }, { max_tokens: 100 }],
    [
      'lowers max_completion_tokens above the cap',
      { max_completion_tokens: 101 },
      { max_completion_tokens: 100 },
    ],
    [
      'lowers both',
      { max_tokens: 500, max_completion_tokens: 600 },
      { max_tokens: 100, max_completion_tokens: 100 },
    ],
    [
      'keeps values at or under the cap',
      { max_tokens: 100, max_completion_tokens: 10 },
      { max_tokens: 100, max_completion_tokens: 10 },
    ],
    ['keeps null as it is', { max_tokens: null }, { max_tokens: null }],
  ])('%s', (_name, params, expected) => {
    expect(maxTokensCap(chatRequest([], params), 100)).toEqual(chatRequest([], expected));
  });

  it('leaves absent limits absent', () => {
    const out = maxTokensCap(chatRequest([]), 100);
    expect('max_tokens' in out).toBe(false);
    expect('max_completion_tokens' in out).toBe(false);
  });

  it('never mutates its input, and returns it when nothing is over the cap', () => {
    const req = deepFreeze(chatRequest([], { max_tokens: 9000 }));
    expect(maxTokensCap(req, 100).max_tokens).toBe(100);
    expect(req.max_tokens).toBe(9000);
    const low = chatRequest([], { max_tokens: 5 });
    expect(maxTokensCap(low, 100)).toBe(low);
  });
});
