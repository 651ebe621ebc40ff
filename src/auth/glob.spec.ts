import { globToRegExp, matchesGlob, modelAllowed } from './glob';

describe('model allow-list globs', () => {
  it('matches any run of characters with *', () => {
    expect(matchesGlob('gpt-*', 'gpt-4o')).toBe(true);
    expect(matchesGlob('gpt-*', 'gpt-')).toBe(true);
    expect(matchesGlob('gpt-*', 'chatgpt-4o')).toBe(false);
    expect(matchesGlob('*-mini', 'gpt-4o-mini')).toBe(true);
  });

  it('matches exactly one character with ?', () => {
    expect(matchesGlob('claude-?-*', 'claude-3-opus')).toBe(true);
    expect(matchesGlob('claude-?-*', 'claude-35-sonnet')).toBe(false);
    expect(matchesGlob('claude-?-*', 'claude--x')).toBe(false);
  });

  it('treats regex characters literally', () => {
    expect(matchesGlob('gpt-4.1', 'gpt-4.1')).toBe(true);
    expect(matchesGlob('gpt-4.1', 'gpt-4x1')).toBe(false);
    expect(matchesGlob('coze/(bot)+', 'coze/(bot)+')).toBe(true);
    expect(matchesGlob('a[b]', 'ab')).toBe(false);
    expect(globToRegExp('a$^|b').test('a$^|b')).toBe(true);
  });

  it('requires the whole name to match', () => {
    expect(matchesGlob('gpt-4o', 'gpt-4o-mini')).toBe(false);
    expect(matchesGlob('gpt-4o', 'xgpt-4o')).toBe(false);
  });

  it('allows every model when the list is null or empty, else only listed patterns', () => {
    expect(modelAllowed(null, 'anything')).toBe(true);
    expect(modelAllowed([], 'anything')).toBe(true);
    expect(modelAllowed(['gpt-*', 'claude-sonnet'], 'claude-sonnet')).toBe(true);
    expect(modelAllowed(['gpt-*', 'claude-sonnet'], 'claude-opus')).toBe(false);
  });
});
