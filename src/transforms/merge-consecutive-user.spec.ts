import type { ChatCompletionRequest } from '../common/openai.types';
import { chatRequest, deepFreeze, imagePart, textPart } from './__fixtures__/requests';
import { mergeConsecutiveUser } from './merge-consecutive-user';

type Messages = ChatCompletionRequest['messages'];

describe('merge_consecutive_user', () => {
  const history: Messages = [
    { role: 'system', content: 's' },
    { role: 'user', content: 'a' },
    { role: 'user', content: 'b' },
    { role: 'user', content: 'c' },
    { role: 'assistant', content: 'x' },
    { role: 'user', content: 'd' },
  ];

  it('keep_last keeps only the last message of each run of user messages', () => {
    const out = mergeConsecutiveUser(chatRequest(history), 'keep_last');
    expect(out.messages.map((m) => m.content)).toEqual(['s', 'c', 'x', 'd']);
  });

  it.each<[string, Messages, Messages]>([
    [
      'joins string contents with a blank line',
      [
        { role: 'user', content: 'a' },
        { role: 'user', content: 'b' },
        { role: 'user', content: 'c' },
      ],
      [{ role: 'user', content: 'a\n\nb\n\nc' }],
    ],
    [
      'skips blank text instead of joining it',
      [
        { role: 'user', content: 'a' },
        { role: 'user', content: '   ' },
        { role: 'user', content: 'c' },
      ],
      [{ role: 'user', content: 'a\n\nc' }],
    ],
    [
      'joins into one parts list keeping the images in order',
      [
        { role: 'user', content: [textPart('a'), imagePart('http://i/1.png')] },
        { role: 'user', content: 'b' },
        { role: 'user', content: [imagePart('http://i/2.png'), textPart('c')] },
      ],
      [
        {
          role: 'user',
          content: [
            textPart('a'),
            imagePart('http://i/1.png'),
            textPart('b'),
            imagePart('http://i/2.png'),
            textPart('c'),
          ],
        },
      ],
    ],
    [
      'joins adjacent text parts across messages with a blank line',
      [
        { role: 'user', content: [imagePart('http://i/1.png'), textPart('a')] },
        { role: 'user', content: 'b' },
      ],
      [{ role: 'user', content: [imagePart('http://i/1.png'), textPart('a\n\nb')] }],
    ],
    [
      'keeps the fields of the last message of the run',
      [
        { role: 'user', content: 'a', name: 'first' },
        { role: 'user', content: 'b', name: 'second' },
      ],
      [{ role: 'user', content: 'a\n\nb', name: 'second' }],
    ],
  ])('join %s', (_name, messages, expected) => {
    expect(mergeConsecutiveUser(chatRequest(messages), 'join').messages).toEqual(expected);
  });

  it('leaves messages of other roles where they are', () => {
    const out = mergeConsecutiveUser(chatRequest(history), 'join');
    expect(out.messages.map((m) => [m.role, m.content])).toEqual([
      ['system', 's'],
      ['user', 'a\n\nb\n\nc'],
      ['assistant', 'x'],
      ['user', 'd'],
    ]);
  });

  it('never mutates its input', () => {
    const req = deepFreeze(
      chatRequest([
        { role: 'user', content: [textPart('a'), imagePart('http://i/1.png')] },
        { role: 'user', content: [textPart('b')] },
      ]),
    );
    const before = structuredClone(req);
    expect(() => mergeConsecutiveUser(req, 'join')).not.toThrow();
    expect(() => mergeConsecutiveUser(req, 'keep_last')).not.toThrow();
    expect(req).toEqual(before);
  });

  it('returns the same request when no user messages are consecutive', () => {
    const req = chatRequest([
      { role: 'user', content: 'a' },
      { role: 'assistant', content: 'b' },
    ]);
    expect(mergeConsecutiveUser(req, 'join')).toBe(req);
  });
});
