import type { TransformsConfig } from '../config/config.types';
import { chatRequest, deepFreeze } from './__fixtures__/requests';
import { applyRequestTransforms, hasRequestTransforms, mergeTransforms } from './pipeline';

describe('transform pipeline', () => {
  describe('mergeTransforms', () => {
    it('lets target keys replace the route keys of the same name', () => {
      expect(
        mergeTransforms({ max_tokens_cap: 10, stop: ['r'] }, { max_tokens_cap: 5, drop_params: ['user'] }),
      ).toEqual({
        max_tokens_cap: 5,
        stop: ['r'],
        drop_params: ['user'],
      });
    });

    it('replaces whole keys, not their contents', () => {
      expect(mergeTransforms({ defaults: { a: 1, b: 2 } }, { defaults: { a: 3 } })).toEqual({
        defaults: { a: 3 },
      });
    });

    it('works with either side missing, and ignores undefined keys', () => {
      expect(mergeTransforms(undefined, { stop: ['t'] })).toEqual({ stop: ['t'] });
      expect(mergeTransforms({ stop: ['r'] })).toEqual({ stop: ['r'] });
      expect(mergeTransforms()).toEqual({});
      const target = { stop: undefined } as unknown as TransformsConfig;
      expect(mergeTransforms({ stop: ['r'] }, target)).toEqual({ stop: ['r'] });
    });
  });

  describe('hasRequestTransforms', () => {
    it.each<[string, TransformsConfig | undefined, boolean]>([
      ['undefined', undefined, false],
      ['empty', {}, false],
      ['response steps only', { response_prefix: '> ', image_to_text: { model: 'v' } }, false],
      ['a request step', { drop_empty_messages: true }, true],
      ['a request step set to false', { drop_empty_messages: false }, true],
    ])('%s → %s', (_name, t, expected) => {
      expect(hasRequestTransforms(t)).toBe(expected);
    });
  });

  describe('applyRequestTransforms', () => {
    it('returns the same object when there is nothing to do', () => {
      const req = chatRequest([{ role: 'user', content: 'hi' }], { stop: ['a', 'b', 'c', 'd', 'e'] });
      expect(applyRequestTransforms(req, {}, { maxStop: 4 })).toBe(req);
      expect(applyRequestTransforms(req, { response_prefix: '> ' })).toBe(req);
    });

    it('runs every step, in order, without mutating the input', () => {
      const t: TransformsConfig = {
        strip_assistant_tags: ['think'],
        merge_consecutive_user: 'join',
        drop_empty_messages: true,
        non_empty_content: '.',
        max_tokens_cap: 50,
        stop: ['END', 'STOP'],
        defaults: { temperature: 0.3, top_p: 0.1 },
        overrides: { top_p: 0.9 },
        drop_params: ['user'],
      };
      const req = deepFreeze(
        chatRequest(
          [
            { role: 'system', content: '' },
            { role: 'user', content: 'first' },
            { role: 'user', content: 'second' },
            { role: 'assistant', content: '<think>hidden</think>' },
            { role: 'user', content: 'third' },
          ],
          { max_tokens: 4000, stop: 'STOP', user: 'someone' },
        ),
      );
      const before = structuredClone(req);
      const out = applyRequestTransforms(req, t, { maxStop: 4 });
      expect(out).toEqual({
        model: 'm',
        messages: [
          // non_empty_content runs after drop_empty_messages, so the empty system message is dropped
          { role: 'user', content: 'first\n\nsecond' },
          // the assistant message is emptied by strip_assistant_tags and then dropped
          { role: 'user', content: 'third' },
        ],
        max_tokens: 50,
        stop: ['STOP', 'END'],
        temperature: 0.3,
        top_p: 0.9,
      });
      expect(req).toEqual(before);
    });

    it('merges user messages after tags are stripped, and before empty messages are dropped', () => {
      const req = chatRequest([
        { role: 'user', content: 'a' },
        { role: 'assistant', content: '<think>only thoughts</think>' },
        { role: 'user', content: 'b' },
      ]);
      const out = applyRequestTransforms(req, {
        strip_assistant_tags: ['think'],
        drop_empty_messages: true,
        merge_consecutive_user: 'keep_last',
      });
      // dropping the emptied assistant turn comes after the merge: both user turns survive
      expect(out.messages).toEqual([
        { role: 'user', content: 'a' },
        { role: 'user', content: 'b' },
      ]);
    });

    it('fills empty content left after the other message steps', () => {
      const req = chatRequest([
        { role: 'assistant', content: '<think>x</think>' },
        { role: 'user', content: 'q' },
      ]);
      const out = applyRequestTransforms(req, { strip_assistant_tags: ['think'], non_empty_content: '.' });
      expect(out.messages[0]).toEqual({ role: 'assistant', content: '.' });
    });

    it('applies overrides after defaults and drops params last', () => {
      const req = chatRequest([{ role: 'user', content: 'q' }]);
      const out = applyRequestTransforms(req, {
        defaults: { seed: 1, temperature: 0.5 },
        overrides: { seed: 2 },
        drop_params: ['temperature'],
      });
      expect(out).toEqual({ model: 'm', messages: [{ role: 'user', content: 'q' }], seed: 2 });
    });

    it('caps the merged stop list at maxStop', () => {
      const req = chatRequest([], { stop: ['a', 'b'] });
      expect(applyRequestTransforms(req, { stop: ['c', 'd'] }, { maxStop: 3 }).stop).toEqual(['a', 'b', 'c']);
    });
  });
});
