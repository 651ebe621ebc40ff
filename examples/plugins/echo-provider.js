// An example plugin: registers adapter type `echo`, which answers with the last user message's
// text in upper case, streamed or not, with token usage. To use it, list the file under
// `plugins:` in config/gateway.yaml (paths are relative to that file) and add a provider
// `{ type: echo }`. Plain CommonJS: it needs no build step and imports nothing of the gateway.
'use strict';

const CAPABILITIES = Object.freeze({
  chat: true,
  streaming: 'simulated',
  completions: false,
  embeddings: false,
  tools: false,
  vision: false,
  listModels: false,
  passthrough: false,
});

function textOf(content) {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((part) => part && part.type === 'text')
    .map((part) => part.text)
    .join('\n');
}

function lastUserText(messages) {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i].role === 'user') return textOf(messages[i].content);
  }
  return '';
}

// A rough count (one token per word), enough for a demo adapter.
function countTokens(text) {
  return text.split(/\s+/).filter(Boolean).length;
}

function usageOf(req, reply) {
  const prompt = req.messages.reduce((n, m) => n + countTokens(textOf(m.content)), 0);
  const completion = countTokens(reply);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function checkAborted(ctx) {
  if (ctx.signal && ctx.signal.aborted) throw ctx.signal.reason || new Error('aborted');
}

class EchoAdapter {
  constructor(settings) {
    this.type = 'echo';
    this.capabilities = CAPABILITIES;
    this.settings = settings;
  }

  reply(req, ctx) {
    checkAborted(ctx);
    if (ctx.onUpstreamRequest) ctx.onUpstreamRequest({ model: req.model, messages: req.messages });
    const text = lastUserText(req.messages).toUpperCase();
    return {
      id: `chatcmpl-echo-${ctx.requestId}`,
      created: Math.floor(Date.now() / 1000),
      model: req.model,
      text,
      usage: usageOf(req, text),
    };
  }

  async chat(req, ctx) {
    const r = this.reply(req, ctx);
    return {
      id: r.id,
      object: 'chat.completion',
      created: r.created,
      model: r.model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: r.text, refusal: null },
          finish_reason: 'stop',
          logprobs: null,
        },
      ],
      usage: r.usage,
    };
  }

  async streamChat(req, ctx) {
    const r = this.reply(req, ctx);
    const base = { id: r.id, object: 'chat.completion.chunk', created: r.created, model: r.model };
    const chunk = (delta, finish) => ({
      ...base,
      choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
    });
    return (async function* () {
      yield chunk({ role: 'assistant', content: '' }, null);
      for (const piece of r.text.match(/\S+\s*|\s+/g) || []) {
        checkAborted(ctx);
        yield chunk({ content: piece }, null);
      }
      yield chunk({}, 'stop');
      yield { ...base, choices: [], usage: r.usage };
    })();
  }
}

module.exports.register = function register(registry) {
  registry.register({ type: 'echo', create: (settings) => new EchoAdapter(settings) });
};
