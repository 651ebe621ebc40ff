import type { ChatCompletionRequest } from '../common/openai.types';
import { chatRequest, deepFreeze, imagePart, textPart, toolCall } from './__fixtures__/requests';
import { dropEmptyMessages } from './drop-empty-messages';

type Message = ChatCompletionRequest['messages'][number];

describe('drop_empty_messages', () => {
  it.each<[string, Message, boolean]>([
    ['an empty string', { role: 'user', content: '' }, false],
    ['whitespace only', { role: 'user', content: ' \n\t ' }, false],
    ['blank text parts only', { role: 'user', content: [textPart(''), textPart('  ')] }, false],
    ['an empty parts list', { role: 'user', content: [] }, false],
    ['an empty system message', { role: 'system', content: '' }, false],
    ['an assistant message with null content', { role: 'assistant', content: null }, false],
    ['text', { role: 'user', content: ' hi ' }, true],
    [
      'an image with blank text',
      { role: 'user', content: [textPart(' '), imagePart('http://i/1.png')] },
      true,
    ],
    [
      'an assistant message with tool calls and null content',
      { role: 'assistant', content: null, tool_calls: [toolCall()] },
      true,
    ],
    [
      'an assistant message with tool calls and empty content',
      { role: 'assistant', content: '', tool_calls: [toolCall()] },
      true,
    ],
    ['a tool result with empty content', { role: 'tool', tool_call_id: 'call_1', content: '' }, true],
  ])('%s is kept: %s', (_name, message, kept) => {
    const out = dropEmptyMessages(chatRequest([message, { role: 'user', content: 'last' }]));
    expect(out.messages).toEqual(
      kept ? [message, { role: 'user', content: 'last' }] : [{ role: 'user', content: 'last' }],
    );
  });

  it('never mutates its input, and returns it when nothing is dropped', () => {
    const req = deepFreeze(
      chatRequest([
        { role: 'user', content: ' ' },
        { role: 'user', content: 'q' },
      ]),
    );
    const before = structuredClone(req);
    expect(dropEmptyMessages(req).messages).toHaveLength(1);
    expect(req).toEqual(before);
    const full = chatRequest([{ role: 'user', content: 'q' }]);
    expect(dropEmptyMessages(full)).toBe(full);
  });
});
