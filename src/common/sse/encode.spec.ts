import { encodeSSE, SSE_DONE } from './encode';
import { parseSSE } from './parse';

describe('encodeSSE', () => {
  it('writes one data line of compact JSON and a blank line', () => {
    expect(encodeSSE({ a: 'é', b: [1] })).toBe('data: {"a":"é","b":[1]}\n\n');
  });

  it('puts the event line first when an event name is given', () => {
    expect(encodeSSE({ type: 'ping' }, 'ping')).toBe('event: ping\ndata: {"type":"ping"}\n\n');
  });

  it('keeps newlines inside strings escaped, so one event stays one data line', async () => {
    const text = encodeSSE({ content: 'line 1\nline 2\r\n' }, 'delta') + SSE_DONE;
    const events = [];
    for await (const e of parseSSE([text])) events.push(e);
    expect(events).toEqual([
      { event: 'delta', data: '{"content":"line 1\\nline 2\\r\\n"}', id: undefined },
      { event: undefined, data: '[DONE]', id: undefined },
    ]);
    expect(JSON.parse(events[0]?.data ?? '')).toEqual({ content: 'line 1\nline 2\r\n' });
  });

  it('ends a stream with data: [DONE]', () => {
    expect(SSE_DONE).toBe('data: [DONE]\n\n');
  });
});
