import { lastUsageObject } from './usage-bytes';
import { usageOfSse } from './usage';

const b = (s: string): Buffer => Buffer.from(s);

describe('lastUsageObject', () => {
  it('finds the top-level usage of a chat.completion without parsing the rest', () => {
    const body = {
      id: 'x',
      choices: [{ message: { content: 'the "usage": {"prompt_tokens": 999} is text here' } }],
      usage: {
        prompt_tokens: 3,
        completion_tokens: 4,
        total_tokens: 7,
        prompt_tokens_details: { cached_tokens: 1 },
      },
    };
    expect(lastUsageObject(b(JSON.stringify(body)))).toEqual(body.usage);
    expect(lastUsageObject(b(JSON.stringify(body, null, 2)))).toEqual(body.usage);
  });

  it('passes over null usage members and escaped text', () => {
    expect(lastUsageObject(b('{"usage":null,"a":"\\"usage\\":{\\"x\\":1}"}'))).toBeUndefined();
    expect(lastUsageObject(b('{"usage":{"prompt_tokens":1},"later":{"usage":null}}'))).toEqual({
      prompt_tokens: 1,
    });
  });

  it('returns undefined for an unclosed object or none at all', () => {
    expect(lastUsageObject(b('{"usage":{"prompt_tokens":1'))).toBeUndefined();
    expect(lastUsageObject(b('{"choices":[]}'))).toBeUndefined();
  });
});

describe('usageOfSse', () => {
  const usageEvent =
    'data: {"id":"c","choices":[],"usage":{"prompt_tokens":20,"completion_tokens":48,"total_tokens":68,"completion_tokens_details":{"reasoning_tokens":5}}}\n\n';
  const events = [
    'data: {"id":"c","choices":[{"index":0,"delta":{"content":"hi"}}],"usage":null}\n\n',
    usageEvent,
    'data: [DONE]\n\n',
  ].join('');

  it('reads the usage chunk at every split of the stream into two reads', () => {
    const all = b(events);
    for (let i = 1; i < all.length; i++) {
      const u = usageOfSse([all.subarray(0, i), all.subarray(i)]);
      expect(u).toMatchObject({
        prompt_tokens: 20,
        completion_tokens: 48,
        total_tokens: 68,
        reasoning_tokens: 5,
      });
    }
  });

  it('is null for a stream without usage', () => {
    expect(usageOfSse([b('data: {"choices":[],"usage":null}\n\ndata: [DONE]\n\n')])).toBeNull();
  });
});
