import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from '../common/openai.types';
import { GatewayError } from '../common/errors';
import {
  applyRequestTransforms,
  createStreamPrefixer,
  dropEmptyMessages,
  ImageToTextService,
  maxTokensCap,
  mergeConsecutiveUser,
  mergeStop,
  mergeTransforms,
  nonEmptyContent,
  prefixCompletion,
  stripAssistantTags,
  applyDefaults,
  applyOverrides,
  dropParams,
} from './index';

function req(
  messages: ChatCompletionRequest['messages'],
  extra: Partial<ChatCompletionRequest> = {},
): ChatCompletionRequest {
  return { model: 'm', messages, ...extra };
}

const frozen = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe('merge_consecutive_user', () => {
  const r = req([
    { role: 'system', content: 's' },
    { role: 'user', content: 'a' },
    { role: 'user', content: 'b' },
    { role: 'assistant', content: 'x' },
    { role: 'user', content: 'c' },
  ]);
  it('keeps only the last of consecutive user messages', () => {
    expect(mergeConsecutiveUser(r, 'keep_last').messages.map((m) => m.content)).toEqual(['s', 'b', 'x', 'c']);
  });
  it('joins their text with a blank line, and keeps images in order', () => {
    expect(mergeConsecutiveUser(r, 'join').messages[1]?.content).toBe('a\n\nb');
    const img = { type: 'image_url' as const, image_url: { url: 'http://i/1.png' } };
    const withImage = req([
      { role: 'user', content: [{ type: 'text', text: 'a' }, img] },
      { role: 'user', content: 'b' },
    ]);
    expect(mergeConsecutiveUser(withImage, 'join').messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'a' }, img, { type: 'text', text: 'b' }] },
    ]);
  });
  it('never mutates its input', () => {
    const copy = frozen(r);
    mergeConsecutiveUser(r, 'join');
    expect(r).toEqual(copy);
  });
});

describe('drop_empty_messages', () => {
  it('drops empty and whitespace messages but keeps tool-call and tool messages', () => {
    const r = req([
      { role: 'user', content: '  ' },
      { role: 'user', content: [{ type: 'text', text: '' }] },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 't', content: '' },
      { role: 'user', content: 'real' },
    ]);
    expect(dropEmptyMessages(r).messages.map((m) => m.role)).toEqual(['assistant', 'tool', 'user']);
  });
});

describe('strip_assistant_tags', () => {
  it('removes tag blocks across lines from assistant history only', () => {
    const r = req([
      { role: 'user', content: '<think>keep</think> q' },
      {
        role: 'assistant',
        content: '<think>\nline1\nline2\n</think>\nAnswer <tool_call>{"x":1}</tool_call> done',
      },
      { role: 'assistant', content: '<think>never closed' },
    ]);
    const out = stripAssistantTags(r, ['think', 'tool_call']).messages.map((m) => m.content);
    expect(out).toEqual(['<think>keep</think> q', 'Answer  done', '']);
  });
});

describe('non_empty_content', () => {
  it('fills empty content in any role, leaving tool-call messages with null content', () => {
    const r = req([
      { role: 'system', content: '' },
      { role: 'user', content: ' ' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 't', content: '' },
    ]);
    expect(nonEmptyContent(r, '.').messages.map((m) => m.content)).toEqual(['.', '.', null, '.']);
  });
});

describe('max_tokens_cap, stop, defaults, overrides, drop_params', () => {
  it('lowers both token limits above the cap; absent stays absent', () => {
    expect(maxTokensCap(req([], { max_tokens: 9000, max_completion_tokens: 10 }), 100)).toMatchObject({
      max_tokens: 100,
      max_completion_tokens: 10,
    });
    expect('max_tokens' in maxTokensCap(req([]), 100)).toBe(false);
  });
  it('merges stop lists: string counts as one item, deduplicated, order kept, capped', () => {
    expect(mergeStop(req([], { stop: 'a' }), ['b', 'a', 'c']).stop).toEqual(['a', 'b', 'c']);
    expect(mergeStop(req([], { stop: ['x', 'y'] }), ['z', 'w'], 3).stop).toEqual(['x', 'y', 'z']);
  });
  it('sets defaults when absent, overrides always, drops listed params', () => {
    const r = req([], { temperature: 0.2 });
    expect(applyDefaults(r, { temperature: 1, top_p: 0.5 })).toMatchObject({ temperature: 0.2, top_p: 0.5 });
    expect(applyOverrides(r, { temperature: 1 })).toMatchObject({ temperature: 1 });
    expect('temperature' in dropParams(r, ['temperature', 'model'])).toBe(false);
    expect(dropParams(r, ['model']).model).toBe('m');
  });
  it('runs the pipeline and lets target keys replace route keys', () => {
    const t = mergeTransforms({ max_tokens_cap: 10, stop: ['r'] }, { max_tokens_cap: 5 });
    expect(t).toEqual({ max_tokens_cap: 5, stop: ['r'] });
    const r = req([{ role: 'user', content: 'hi' }], { max_tokens: 50 });
    const out = applyRequestTransforms(r, t, { maxStop: 4 });
    expect(out).toMatchObject({ max_tokens: 5, stop: ['r'] });
    expect(r.max_tokens).toBe(50);
    expect(applyRequestTransforms(r, {})).toBe(r);
  });
});

describe('response_prefix', () => {
  const completion = (content: string | null): ChatCompletion => ({
    id: 'c',
    object: 'chat.completion',
    created: 1,
    model: 'm',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content, refusal: null },
        finish_reason: 'stop',
        logprobs: null,
      },
    ],
  });
  it('prefixes non-stream content, and adds nothing to a reply without content', () => {
    expect(prefixCompletion(completion('hi'), '> ').choices[0]?.message.content).toBe('> hi');
    expect(prefixCompletion(completion(null), '> ').choices[0]?.message.content).toBeNull();
  });
  it('prefixes the first content delta, after a role-only chunk and a tool-call chunk', () => {
    const chunk = (delta: object): ChatCompletionChunk => ({
      id: 'c',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'm',
      choices: [{ index: 0, delta, finish_reason: null }],
    });
    const p = createStreamPrefixer('> ');
    const out = [
      chunk({ role: 'assistant', content: '' }),
      chunk({ tool_calls: [{ index: 0, id: 't', function: { name: 'f', arguments: '' } }] }),
      chunk({ content: 'a' }),
      chunk({ content: 'b' }),
    ].map(p);
    expect(out.map((c) => c.choices[0]?.delta.content)).toEqual(['', undefined, '> a', 'b']);
  });
});

describe('image_to_text', () => {
  const image = (url: string) => ({ type: 'image_url' as const, image_url: { url } });
  const r = req([
    {
      role: 'user',
      content: [
        { type: 'text', text: 'look' },
        image('data:image/png;base64,AAAA'),
        image('data:image/jpeg;base64,AAAA'),
      ],
    },
  ]);

  it('replaces images in place, caches by content, and shares a call in flight', async () => {
    let calls = 0;
    const counts = { hit: 0, miss: 0 };
    const svc = new ImageToTextService({ metrics: { hit: () => counts.hit++, miss: () => counts.miss++ } });
    const describe = async () => {
      calls++;
      await new Promise((res) => setTimeout(res, 10));
      return 'a red square';
    };
    const out = await svc.describeImages(r, { model: 'vision' }, describe);
    expect(out.messages[0]?.content).toEqual([
      { type: 'text', text: 'look' },
      { type: 'text', text: '[Image description: a red square]' },
      { type: 'text', text: '[Image description: a red square]' },
    ]);
    expect(calls).toBe(1);
    await svc.describeImages(r, { model: 'vision' }, describe);
    expect(calls).toBe(1);
    expect(counts).toEqual({ miss: 1, hit: 3 });
  });

  it('expires cached descriptions after the TTL', async () => {
    let calls = 0;
    const svc = new ImageToTextService();
    const cfg = { model: 'vision', cache_ttl_s: 1 };
    await svc.describeImages(r, cfg, async () => `d${++calls}`);
    await svc.describeImages(r, cfg, async () => `d${++calls}`);
    expect(calls).toBe(1);
    await new Promise((res) => setTimeout(res, 1100));
    await svc.describeImages(r, cfg, async () => `d${++calls}`);
    expect(calls).toBe(2);
  });

  it('fails with a clear error and does not cache the failure', async () => {
    const svc = new ImageToTextService();
    await expect(
      svc.describeImages(r, { model: 'vision' }, () => Promise.reject(new Error('upstream 500'))),
    ).rejects.toBeInstanceOf(GatewayError);
    await expect(
      svc.describeImages(r, { model: 'vision' }, () => Promise.reject(new Error('upstream 500'))),
    ).rejects.toThrow(/vision.*upstream 500/);
    const ok = await svc.describeImages(r, { model: 'vision' }, async () => 'fine');
    expect(JSON.stringify(ok)).toContain('fine');
  });
});
