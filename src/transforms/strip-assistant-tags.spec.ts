import type { ChatCompletionRequest } from '../common/openai.types';
import { chatRequest, deepFreeze, textPart } from './__fixtures__/requests';
import { stripAssistantTags, stripTags } from './strip-assistant-tags';

describe('strip_assistant_tags', () => {
  describe('stripTags', () => {
    it.each<[string, string, string]>([
      ['a block at the start', '<think>plan</think>Answer', 'Answer'],
      ['a block across lines', '<think>\nline 1\nline 2\n</think>\n\nAnswer', 'Answer'],
      ['several blocks', 'A <think>x</think> B <think>y</think> C', 'A B C'],
      ['adjacent blocks', 'A <think>x</think> <think>y</think> B', 'A B'],
      ['a paragraph gap kept as one blank line', 'A\n\n<think>x</think>\n\nB', 'A\n\nB'],
      ['a block at the end', 'Answer\n<think>after</think>\n', 'Answer'],
      ['every listed tag', '<think>t</think>Call <tool_call>{"a":1}</tool_call> done', 'Call done'],
      ['tags with attributes and any case', '<THINK mode="deep">t</Think >ok', 'ok'],
      ['an unclosed opening tag at the start', '  <think>cut off while thinking\nstill', ''],
      ['an unclosed tag after closed blocks', '<think>a</think>\n<think>b', ''],
      ['an unclosed tag in the middle stays', 'use a <think> tag', 'use a <think> tag'],
      ['unlisted tags stay', '<answer>42</answer>', '<answer>42</answer>'],
      ['text without tags stays untouched', '  spaced  ', '  spaced  '],
    ])('removes %s', (_name, input, expected) => {
      expect(stripTags(input, ['think', 'tool_call'])).toBe(expected);
    });

    it('does not backtrack on hostile input', () => {
      // not a speed target: a quadratic scan of this input takes minutes, a linear one milliseconds,
      // so a bound this loose only fails on runaway backtracking, however loaded the machine
      const hostile = '<think>'.repeat(50_000) + '</think>' + ' '.repeat(50_000) + '<think '.repeat(50_000);
      const t0 = Date.now();
      const out = stripTags(hostile, ['think']);
      expect(out.length).toBe('<think '.repeat(50_000).trim().length);
      expect(Date.now() - t0).toBeLessThan(15_000);
    });
  });

  const history: ChatCompletionRequest['messages'] = [
    { role: 'user', content: '<think>mine</think> question' },
    { role: 'assistant', content: '<think>\nreasoning\n</think>\nvisible' },
    { role: 'assistant', content: [textPart('<think>r</think>part'), { type: 'refusal', refusal: 'no' }] },
    { role: 'system', content: '<think>sys</think>' },
  ];

  it('changes assistant messages only, string and parts content', () => {
    const out = stripAssistantTags(chatRequest(history), ['think']);
    expect(out.messages).toEqual([
      history[0],
      { role: 'assistant', content: 'visible' },
      { role: 'assistant', content: [textPart('part'), { type: 'refusal', refusal: 'no' }] },
      history[3],
    ]);
  });

  it('never mutates its input, and returns it when nothing matched', () => {
    const req = deepFreeze(chatRequest(history));
    const before = structuredClone(req);
    stripAssistantTags(req, ['think']);
    expect(req).toEqual(before);
    const clean = chatRequest([{ role: 'assistant', content: 'plain' }]);
    expect(stripAssistantTags(clean, ['think'])).toBe(clean);
  });
});
