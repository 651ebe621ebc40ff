import { callRecord, sseBytes } from '../../test/support/call-records';
import { bodyTexts, buildTrace, redact } from './trace-builder';
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

  it('redaction copies only what it changes, and returns a value with nothing to redact as it is', () => {
    const clean = { model: 'm', messages: [{ role: 'user', content: 'hi' }], n: 1, tags: ['a', null] };
    expect(redact(clean)).toBe(clean);
    const tainted = { model: 'm', keep: { deep: [1, 2] }, messages: [{ role: 'user', content: 'key sk-gw-ABCDEFGHIJKL' }] };
    const out = redact(tainted) as typeof tainted;
    expect(out).not.toBe(tainted);
    expect(out).toEqual({ model: 'm', keep: { deep: [1, 2] }, messages: [{ role: 'user', content: 'key [redacted]' }] });
    expect(out.keep).toBe(tainted.keep);
    expect(tainted.messages[0]?.content).toBe('key sk-gw-ABCDEFGHIJKL');
    // A "__proto__" key from JSON.parse stays an own property of the copy.
    const odd = JSON.parse('{"__proto__":{"x":1},"password":"p"}') as Record<string, unknown>;
    const copy = redact(odd) as Record<string, unknown>;
    expect(Object.keys(copy)).toEqual(['__proto__', 'password']);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(JSON.stringify(copy)).toBe('{"__proto__":{"x":1},"password":"[redacted]"}');
  });

  it('stores bodies as the texts they arrived as when redaction leaves them alone', () => {
    const text = '{ "model": "gpt-x",  "messages": [{"role":"user","content":"hi"}] }';
    const reply = '{"id":"r","choices":[{"index":0,"message":{"role":"assistant","content":"yo"},"finish_reason":"stop"}]}';
    const request = JSON.parse(text) as unknown;
    const rec = callRecord([user('hi')], null, { request, upstreamRequest: request, response: { kind: 'raw-json', bytes: Buffer.from(reply) } });
    const d = buildTrace(rec, null, { request: text, upstream: text });
    expect(bodyTexts(d)).toEqual([text, text, reply]);
    // Without the texts (or with a body redaction changed) the values are serialized.
    expect(bodyTexts(buildTrace(rec))).toEqual([JSON.stringify(request), JSON.stringify(request), reply]);
    const secretText = '{"model":"gpt-x","api_key":"sk-upstream-1234567890","messages":[]}';
    const secret = JSON.parse(secretText) as unknown;
    const rs = callRecord([], null, { request: secret, upstreamRequest: secret, response: { kind: 'raw-json', bytes: Buffer.from('{"note":"Bearer abcdefghijkl"}') } });
    const [req, up, res] = bodyTexts(buildTrace(rs, null, { request: secretText, upstream: secretText }));
    expect(JSON.parse(req)).toEqual({ model: 'gpt-x', api_key: '[redacted]', messages: [] });
    expect(up).toBe(req);
    expect(JSON.parse(res)).toEqual({ note: 'Bearer [redacted]' });
    expect(`${req}${up}${res}`).not.toMatch(/sk-upstream|abcdefghijkl/);
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
