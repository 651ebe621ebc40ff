import type { Socket } from 'node:net';
import { openAIClientErrorHandler } from './client-error';

function fakeSocket(writable = true): { socket: Socket; written: string[]; destroyed: () => boolean } {
  const written: string[] = [];
  let destroyed = false;
  const socket = {
    writable,
    get destroyed() {
      return destroyed;
    },
    write: (s: string) => written.push(s),
    destroy: () => {
      destroyed = true;
    },
  } as unknown as Socket;
  return { socket, written, destroyed: () => destroyed };
}

function reply(code: string | undefined): { status: number; body: unknown } {
  const { socket, written } = fakeSocket();
  openAIClientErrorHandler(Object.assign(new Error('x'), code === undefined ? {} : { code }), socket);
  const raw = written.join('');
  const [head, body] = raw.split('\r\n\r\n') as [string, string];
  expect(head).toMatch(/Content-Length: \d+/);
  expect(Number(/Content-Length: (\d+)/.exec(head)?.[1])).toBe(Buffer.byteLength(body));
  return { status: Number(head.split(' ')[1]), body: JSON.parse(body) as unknown };
}

describe('openAIClientErrorHandler', () => {
  it('answers malformed HTTP, oversized headers and timeouts in OpenAI shape, then closes', () => {
    expect(reply('HPE_INVALID_CONTENT_LENGTH')).toEqual({
      status: 400,
      body: {
        error: {
          message: expect.any(String),
          type: 'invalid_request_error',
          param: null,
          code: 'bad_request',
        },
      },
    });
    expect(reply('HPE_HEADER_OVERFLOW').status).toBe(431);
    expect(reply('ERR_HTTP_REQUEST_TIMEOUT').status).toBe(408);
  });

  it('writes nothing to a reset or closed socket', () => {
    const reset = fakeSocket();
    openAIClientErrorHandler(Object.assign(new Error('x'), { code: 'ECONNRESET' }), reset.socket);
    expect(reset.written).toEqual([]);
    const closed = fakeSocket(false);
    openAIClientErrorHandler(new Error('x'), closed.socket);
    expect(closed.written).toEqual([]);
    expect(closed.destroyed()).toBe(true);
  });
});
