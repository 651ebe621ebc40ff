import { createLogger } from './logger';
import { base64Forms, REDACTED, SecretScrubber } from './secrets';
import { Writable } from 'node:stream';

describe('SecretScrubber', () => {
  it('replaces known values, their JSON-escaped, URL-encoded and base64 forms', () => {
    const s = new SecretScrubber();
    const key = 'up-key/with+odd"chars-0123456789';
    s.set('t', [key]);
    expect(s.scrub(`a ${key} b`)).toBe(`a ${REDACTED} b`);
    expect(s.scrub(JSON.stringify({ m: `x ${key}` }))).not.toContain('0123456789');
    expect(s.scrub(encodeURIComponent(key))).toBe(REDACTED);
    for (const prefix of ['', 'u', 'us', 'user:']) {
      const b64 = Buffer.from(prefix + key).toString('base64');
      expect(s.scrub(`Authorization-ish ${b64}`)).not.toContain(b64.slice(8, -4));
    }
  });

  it('catches credential shapes it was never told about', () => {
    const s = new SecretScrubber();
    expect(s.scrub('Authorization: Bearer abcdefgh12345678')).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(s.scrub('basic dXNlcjpwYXNzd29yZA==')).toBe(`basic ${REDACTED}`);
    expect(s.scrub('key sk-gw-AbCdEf0123456789')).toBe(`key sk-gw-${REDACTED}`);
    expect(s.scrub('sk-proj-abcdefghijklmnop1234')).toBe(REDACTED);
    expect(s.scrub('AIzaSyA1234567890abcdefghijklmnop')).toBe(REDACTED);
    // Ordinary text stays.
    expect(s.scrub('model gpt-4o answered in 120 ms; task-runner ok')).toBe(
      'model gpt-4o answered in 120 ms; task-runner ok',
    );
  });

  it('ignores short values and replaces a source on set', () => {
    const s = new SecretScrubber();
    s.set('cfg', ['short', 'first-secret-value']);
    expect(s.scrub('short first-secret-value')).toBe(`short ${REDACTED}`);
    s.set('cfg', ['second-secret-value']);
    expect(s.scrub('first-secret-value second-secret-value')).toBe(`first-secret-value ${REDACTED}`);
  });

  it('base64 forms depend on the secret only', () => {
    const forms = base64Forms('0123456789abcdef');
    for (const f of forms) expect(f.length).toBeGreaterThanOrEqual(8);
    expect(forms).toContain(Buffer.from('0123456789abcdef').toString('base64').slice(0, 20));
  });
});

describe('createLogger', () => {
  it('redacts credential fields by path and scrubs every written line', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const scrubber = new SecretScrubber();
    scrubber.set('t', ['literal-secret-123456']);
    const log = createLogger('debug', sink, scrubber);
    log.info(
      {
        api_key: 'x',
        req: { headers: { authorization: 'Bearer zzz', 'x-api-key': 'k', cookie: 'c' } },
        note: 'saw literal-secret-123456',
      },
      'call',
    );
    const line = JSON.parse(lines[0] as string) as Record<string, unknown>;
    expect(line.api_key).toBe(REDACTED);
    expect((line.req as { headers: Record<string, string> }).headers).toEqual({
      authorization: REDACTED,
      'x-api-key': REDACTED,
      cookie: REDACTED,
    });
    expect(line.note).toBe(`saw ${REDACTED}`);
  });
});
