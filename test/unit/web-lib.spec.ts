/** The UI's pure helpers: reply diff and loose reading of OpenAI-format messages. */
import { requestMessages, responseMessage, textOf } from '../../web/src/lib/chat';
import { diffLines, diffWords } from '../../web/src/lib/diff';

describe('web diff', () => {
  it('marks removed and added words and keeps the common ones', () => {
    const d = diffWords('the quick fox', 'the slow fox');
    expect(d.filter((p) => p.op === 'del').map((p) => p.text)).toEqual(['quick']);
    expect(d.filter((p) => p.op === 'add').map((p) => p.text)).toEqual(['slow']);
    expect(d.map((p) => (p.op === 'del' ? '' : p.text)).join('')).toBe('the slow fox');
  });

  it('diffs lines, keeping order', () => {
    expect(diffLines('a\nb\nc', 'a\nc\nd')).toEqual([
      { op: 'same', text: 'a' },
      { op: 'del', text: 'b' },
      { op: 'same', text: 'c' },
      { op: 'add', text: 'd' },
    ]);
  });
});

describe('web chat reading', () => {
  it('reads text, image parts and tool calls', () => {
    const msgs = requestMessages({
      model: 'm',
      messages: [
        { role: 'system', content: 'be brief' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AA' } },
          ],
        },
      ],
    });
    expect(msgs.map((m) => m.role)).toEqual(['system', 'user']);
    expect(msgs[1]!.parts).toEqual([
      { kind: 'text', text: 'look' },
      { kind: 'image', url: 'data:image/png;base64,AA' },
    ]);
    const reply = responseMessage({
      choices: [
        {
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
          },
        },
      ],
    });
    expect(reply?.toolCalls).toEqual([{ id: 'c1', name: 'f', arguments: '{"a":1}' }]);
    expect(textOf(reply)).toBe('');
  });

  it('reads a legacy completion prompt and text', () => {
    expect(textOf(requestMessages({ model: 'm', prompt: 'hi' })[0] ?? null)).toBe('hi');
    expect(textOf(responseMessage({ choices: [{ text: 'there' }] }))).toBe('there');
  });
});
