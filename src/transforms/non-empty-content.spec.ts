import type { ChatCompletionRequest } from '../common/openai.types';
import { chatRequest, deepFreeze, imagePart, textPart, toolCall } from './__fixtures__/requests';
import { nonEmptyContent } from './non-empty-content';

type Message = ChatCompletionRequest['messages'][number];

describe('non_empty_content', () => {
  it.each<[string, Message, unknown]>([
    ['an empty system message', { role: 'system', content: '' }, '.'],
    ['a whitespace user message', { role: 'user', content: '  \n' }, '.'],
    ['an empty parts list', { role: 'user', content: [] }, '.'],
    ['blank text parts', { role: 'user', content: [textPart(' ')] }, '.'],
    ['an assistant message with null content', { role: 'assistant', content: null }, '.'],
    ['an empty tool result', { role: 'tool', tool_call_id: 'call_1', content: '' }, '.'],
    [
      'an assistant tool call with empty content',
      { role: 'assistant', content: '', tool_calls: [toolCall()] },
      '.',
    ],
    [
      'an assistant tool call with null content',
      { role: 'assistant', content: null, tool_calls: [toolCall()] },
      null,
    ],
    ['text', { role: 'user', content: 'q' }, 'q'],
    ['an image', { role: 'user', content: [imagePart('http://i/1.png')] }, [imagePart('http://i/1.png')]],
  ])('%s', (_name, message, expected) => {
    expect(nonEmptyContent(chatRequest([message]), '.').messages[0]?.content).toEqual(expected);
  });

  it('never mutates its input, and returns it when nothing is empty', () => {
    const req = deepFreeze(chatRequest([{ role: 'system', content: '' }]));
    expect(nonEmptyContent(req, '.').messages[0]?.content).toBe('.');
    expect(req.messages[0]?.content).toBe('');
    const full = chatRequest([{ role: 'user', content: 'q' }]);
    expect(nonEmptyContent(full, '.')).toBe(full);
  });
});
