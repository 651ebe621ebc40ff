import { chatRequest, deepFreeze } from './__fixtures__/requests';
import { mergeStop } from './stop-merge';

describe('stop', () => {
  it.each<[string, unknown, string[], number | undefined, unknown]>([
    ['adds the configured list when the request has none', undefined, ['END'], undefined, ['END']],
    ['counts a string stop as a one-item list', 'STOP', ['END'], undefined, ['STOP', 'END']],
    ['keeps the request first and drops duplicates', ['b', 'a'], ['a', 'c', 'b'], undefined, ['b', 'a', 'c']],
    ['deduplicates within the request too', ['a', 'a'], ['b'], undefined, ['a', 'b']],
    ['caps the merged list at the platform limit', ['x', 'y'], ['z', 'w'], 3, ['x', 'y', 'z']],
    ['treats null as no stop', null, ['END'], undefined, ['END']],
  ])('%s', (_name, stop, extra, maxStop, expected) => {
    const req = chatRequest([], stop === undefined ? {} : { stop });
    expect(mergeStop(req, extra, maxStop).stop).toEqual(expected);
  });

  it('never mutates its input', () => {
    const req = deepFreeze(chatRequest([], { stop: ['a'] }));
    expect(mergeStop(req, ['b']).stop).toEqual(['a', 'b']);
    expect(req.stop).toEqual(['a']);
  });

  it('returns the same request when nothing changes', () => {
    const req = chatRequest([], { stop: ['a', 'b'] });
    expect(mergeStop(req, ['b'])).toBe(req);
    const none = chatRequest([]);
    expect(mergeStop(none, [])).toBe(none);
    expect('stop' in mergeStop(none, [])).toBe(false);
  });
});
