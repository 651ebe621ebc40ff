// An example plugin: registers adapter type `echo`, which answers with the last user message
// in upper case (stream and non-stream). List it under `plugins:` and use `type: echo`.
'use strict';

function lastUserText(req) {
  const user = [...req.messages].reverse().find((m) => m.role === 'user');
  if (!user) return '';
  if (typeof user.content === 'string') return user.content;
  return (user.content || [])
    .filter((p) => p.type === 'text')
    .map((p) => p.text)
    .join(' ');
}

function usage(req, text) {
  const prompt = req.messages.length;
  const completion = text.split(/\s+/).filter(Boolean).length;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

class EchoAdapter {
  constructor(settings) {
    this.type = 'echo';
    this.settings = settings;
    this.capabilities = {
      chat: true,
      streaming: 'native',
      completions: false,
      embeddings: false,
      tools: false,
      vision: false,
      listModels: false,
      passthrough: false,
    };
  }

  async chat(req, ctx) {
    if (ctx.onUpstreamRequest) ctx.onUpstreamRequest(req);
    const text = lastUserText(req).toUpperCase();
    return {
      id: `echo-${ctx.requestId}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: req.model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: text, refusal: null },
          finish_reason: 'stop',
          logprobs: null,
        },
      ],
      usage: usage(req, text),
    };
  }

  async streamChat(req, ctx) {
    const done = await this.chat(req, ctx);
    const text = done.choices[0].message.content;
    const base = { id: done.id, object: 'chat.completion.chunk', created: done.created, model: done.model };
    return (async function* () {
      yield {
        ...base,
        choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
      };
      for (const word of text.match(/\S+\s*/g) || []) {
        yield { ...base, choices: [{ index: 0, delta: { content: word }, finish_reason: null }] };
      }
      yield { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] };
      yield { ...base, choices: [], usage: done.usage };
    })();
  }
}

module.exports.register = function register(registry) {
  registry.register({ type: 'echo', create: (settings) => new EchoAdapter(settings) });
};
