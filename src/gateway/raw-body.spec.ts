import { withIncludeUsage } from './raw-body';

describe('withIncludeUsage', () => {
  const add = (text: string): unknown => {
    const out = withIncludeUsage(Buffer.from(text));
    return out === null ? null : JSON.parse(out.toString('utf8'));
  };

  it('adds include_usage as the last member and keeps every other byte', () => {
    const text = '{"model":"m","messages":[{"role":"user","content":"héllo } {"}],"stream":true}';
    const out = withIncludeUsage(Buffer.from(text))!.toString('utf8');
    expect(out).toBe(text.slice(0, -1) + ',"stream_options":{"include_usage":true}}');
    expect(JSON.parse(out)).toEqual({ ...JSON.parse(text), stream_options: { include_usage: true } });
  });

  it('copes with white space after the closing brace and before it', () => {
    expect(add('{"model":"m" ,"stream":true }\r\n')).toEqual({
      model: 'm',
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('refuses what it cannot edit safely', () => {
    expect(add('{}')).toBeNull();
    expect(add('{ }')).toBeNull();
    expect(add('[1,2]')).toBeNull();
    expect(add('{"a":1,}')).toBeNull();
    expect(add('')).toBeNull();
  });
});
