import { responseFacts } from './response-facts';

describe('responseFacts', () => {
  it('reads a parsed or raw JSON body', () => {
    const body = {
      id: 'chatcmpl-1',
      model: 'gpt-4o-2024-08-06',
      choices: [{ finish_reason: 'stop' }, { finish_reason: 'length' }, { finish_reason: 'stop' }],
    };
    const facts = {
      finishReasons: ['stop', 'length'],
      model: 'gpt-4o-2024-08-06',
      id: 'chatcmpl-1',
      errorCode: null,
    };
    expect(responseFacts({ kind: 'json', body })).toEqual(facts);
    expect(responseFacts({ kind: 'raw-json', bytes: Buffer.from(JSON.stringify(body)) })).toEqual(facts);
  });

  it('reads an error code', () => {
    expect(
      responseFacts({
        kind: 'json',
        body: { error: { message: 'm', type: 'api_error', code: 'upstream_timeout' } },
      }).errorCode,
    ).toBe('upstream_timeout');
  });

  it('scans SSE bytes split anywhere', () => {
    const text =
      'data: {"id":"c1","object":"chat.completion.chunk","model":"m-1","choices":[{"delta":{"content":"hi"},"finish_reason":null}]}\n\n' +
      'data: {"id":"c1","model":"m-1","choices":[{"delta":{},"finish_reason":"tool_calls"}]}\n\ndata: [DONE]\n\n';
    const bytes = Buffer.from(text);
    for (const at of [1, 40, 150, text.length - 3]) {
      const chunks = [bytes.subarray(0, at), bytes.subarray(at)];
      expect(responseFacts({ kind: 'sse', chunks })).toEqual({
        finishReasons: ['tool_calls'],
        model: 'm-1',
        id: 'c1',
        errorCode: null,
      });
    }
  });

  it('reads adapter chunks, and survives bad bytes', () => {
    expect(
      responseFacts({
        kind: 'chunks',
        chunks: [
          {
            id: 'x',
            object: 'chat.completion.chunk',
            created: 1,
            model: 'claude',
            choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
          },
        ],
      } as never).finishReasons,
    ).toEqual(['stop']);
    expect(responseFacts({ kind: 'raw-json', bytes: Buffer.from('{nope') })).toMatchObject({
      finishReasons: [],
    });
    expect(responseFacts({ kind: 'none' }).model).toBeNull();
  });
});
