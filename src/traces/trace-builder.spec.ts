import { callRecord, sseBytes } from '../../test/support/call-records';
import { buildTrace, redact } from './trace-builder';
import { hashMessages, parentHash, replyHash, sessionName } from './threading';

const user = (content: unknown) => ({ role: 'user', content });

describe('buildTrace', () => {
  it('flags images in the request as multimodal and tools from the request or the reply', () => {
    const image = buildTrace(
      callRecord([user([{ type: 'text', text: 'what is this' }, { type: 'image_url', image_url: { url: 'data:x' } }])], 'a cat'),
    );
    expect(image.multimodal).toBe(true);
    expect(image.tools).toBe(false);
    const withTools = buildTrace(
      callRecord([user('hi')], 'ok', { request: { model: 'm', messages: [user('hi')], tools: [{ type: 'function' }] } }),
    );
    expect(withTools.tools).toBe(true);
    const reply = {
      choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] }, finish_reason: 'tool_calls' }],
    };
    expect(buildTrace(callRecord([user('hi')], null, { response: { kind: 'json', body: reply } })).tools).toBe(true);
  });

  it('keeps a cancelled stream with its partial output and 499', () => {
    const d = buildTrace(
      callRecord([user('count')], null, {
        status: 'cancelled',
        httpStatus: 499,
        stream: true,
        response: { kind: 'sse', chunks: sseBytes(['one ', 'two'], false).slice(0, 8) },
      }),
    );
    expect(d.status).toBe('cancelled');
    expect(d.httpStatus).toBe(499);
    const content = (d.response as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content;
    expect(content).toBe('one ');
    expect(d.usage?.source).toBe('estimated');
  });

  it('indexes request and response text for search', () => {
    const d = buildTrace(callRecord([user('find the Gnu')], 'a Wildebeest'));
    expect(d.searchText).toContain('find the Gnu');
    expect(d.searchText).toContain('a Wildebeest');
  });

  it('redacts credential fields and bearer tokens at any depth', () => {
    expect(
      redact({ api_key: 'k1', nested: [{ Authorization: 'Bearer abc' }], note: 'Bearer abcdefghijklmnop', keep: 'x', max_tokens: 5 }),
    ).toEqual({ api_key: '[redacted]', nested: [{ Authorization: '[redacted]' }], note: 'Bearer [redacted]', keep: 'x', max_tokens: 5 });
  });
});

describe('threading hashes', () => {
  const m1 = [user('Plan a trip')];
  const reply = { role: 'assistant', content: 'Day 1' };

  it('the follow-up request looks up the hash of the earlier request plus its reply', () => {
    const follow = [...m1, { ...reply, content: ' Day 1 ' }, user('more'), { role: 'tool', content: 'r' }];
    expect(parentHash(follow)).toBe(replyHash(m1, reply));
    expect(parentHash(m1)).toBeNull();
    expect(replyHash(m1, null)).toBeNull();
  });

  it('tells different tool calls apart', () => {
    const call = (args: string) => ({ role: 'assistant', content: null, tool_calls: [{ function: { name: 'f', arguments: args } }] });
    expect(hashMessages([call('{"a":1}')])).not.toBe(hashMessages([call('{"a":2}')]));
  });

  it('names a session from the first user message', () => {
    expect(sessionName([{ role: 'system', content: 'sys' }, user('  Hello\n there ')])).toBe('Hello there');
    expect(sessionName([])).toBe('Untitled conversation');
    expect(sessionName([user('x'.repeat(100))])).toHaveLength(60);
  });
});
