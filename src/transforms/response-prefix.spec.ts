import type { ChatCompletionChunk } from '../common/openai.types';
import { chunk, completion, deepFreeze, toolCall } from './__fixtures__/requests';
import { createStreamPrefixer, prefixCompletion } from './response-prefix';

describe('response_prefix', () => {
  describe('prefixCompletion', () => {
    it('prepends the prefix to the assistant content of every choice', () => {
      const out = prefixCompletion(completion('hi', { choices: 2 }), '> ');
      expect(out.choices.map((c) => c.message.content)).toEqual(['> hi', '> hi']);
    });

    it.each<[string, ReturnType<typeof completion>]>([
      ['null content with tool calls', completion(null, { tool_calls: [toolCall()] })],
      ['null content', completion(null)],
      ['empty content', completion('')],
    ])('adds nothing to a reply with %s', (_name, reply) => {
      expect(prefixCompletion(reply, '> ')).toBe(reply);
    });

    it('never mutates its input', () => {
      const reply = deepFreeze(completion('hi'));
      expect(prefixCompletion(reply, '> ').choices[0]?.message.content).toBe('> hi');
      expect(reply.choices[0]?.message.content).toBe('hi');
    });
  });

  describe('createStreamPrefixer', () => {
    const contents = (chunks: ChatCompletionChunk[]) => chunks.map((c) => c.choices[0]?.delta.content);

    it('prefixes the first content delta only', () => {
      const p = createStreamPrefixer('> ');
      expect(contents([chunk({ content: 'a' }), chunk({ content: 'b' })].map(p))).toEqual(['> a', 'b']);
    });

    it('waits past a role-only first chunk', () => {
      const p = createStreamPrefixer('> ');
      const out = [
        chunk({ role: 'assistant', content: '' }),
        chunk({ role: 'assistant' }),
        chunk({ content: 'a' }),
      ].map(p);
      expect(contents(out)).toEqual(['', undefined, '> a']);
    });

    it('never puts the prefix on a tool-call chunk, and waits for content after it', () => {
      const p = createStreamPrefixer('> ');
      const call = { tool_calls: [{ index: 0, id: 'call_1', function: { name: 'f', arguments: '' } }] };
      const out = [chunk(call), chunk({ content: null, ...call }), chunk({ content: 'a' })].map(p);
      expect(out[0]).toEqual(chunk(call));
      expect(contents(out)).toEqual([undefined, null, '> a']);
    });

    it('adds nothing when no content ever arrives', () => {
      const p = createStreamPrefixer('> ');
      const call = { tool_calls: [{ index: 0, function: { arguments: '{}' } }] };
      const input = [chunk({ role: 'assistant' }), chunk(call), { ...chunk({}), choices: [] }];
      const out = input.map(p);
      expect(out).toEqual(input);
    });

    it('prefixes each choice index once', () => {
      const p = createStreamPrefixer('> ');
      const out = [
        chunk({ content: 'a' }, 0),
        chunk({ content: 'b' }, 1),
        chunk({ content: 'c' }, 0),
        chunk({ content: 'd' }, 1),
      ].map(p);
      expect(contents(out)).toEqual(['> a', '> b', 'c', 'd']);
    });

    it('keeps state per stream', () => {
      const first = createStreamPrefixer('> ');
      first(chunk({ content: 'a' }));
      expect(createStreamPrefixer('> ')(chunk({ content: 'x' })).choices[0]?.delta.content).toBe('> x');
    });

    it('never mutates a chunk', () => {
      const c = deepFreeze(chunk({ content: 'a' }));
      expect(createStreamPrefixer('> ')(c).choices[0]?.delta.content).toBe('> a');
      expect(c.choices[0]?.delta.content).toBe('a');
    });
  });
});
