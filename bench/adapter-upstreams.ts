/**
 * Bench upstreams for the adapter bench: one fast server answering every platform's chat call with
 * fixed, precomputed bytes of the same answer (the same text in 8 stream pieces, the same usage),
 * so that differences measured through the gateway are the gateway's conversion, not the upstream.
 * Paths: OpenAI `/v1/chat/completions`; Azure `/openai/deployments/{d}/chat/completions`;
 * Anthropic `/v1/messages`; Gemini `/v1beta/models/{m}:generateContent` and
 * `:streamGenerateContent`; Coze `/v3/chat` (a chat created already completed, as a fast bot
 * would) and `/v3/chat/message/list`. Usage: adapter-upstreams.ts <port>; `STREAM_BODIES` are the
 * stream answers, for measuring the stream conversion in-process.
 */
import { createServer, type ServerResponse } from 'node:http';

const PIECE = 'The quick brown fox jumps. ';
const PIECES = 8;
const TEXT = PIECE.repeat(PIECES);
const sse = (events: unknown[]): string => events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('');
const named = (events: Array<[string, unknown]>, sep = ' '): string =>
  events.map(([name, data]) => `event:${sep}${name}\ndata:${sep}${JSON.stringify(data)}\n\n`).join('');

// ---- OpenAI (and Azure): the same bytes as bench/upstream.ts
const openaiHead = {
  id: 'chatcmpl-bench',
  object: 'chat.completion.chunk',
  created: 1_700_000_000,
  model: 'bench-model',
};
const openaiUsage = { prompt_tokens: 20, completion_tokens: 48, total_tokens: 68 };
const openaiJson = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'bench-model',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: TEXT, refusal: null },
      finish_reason: 'stop',
      logprobs: null,
    },
  ],
  usage: openaiUsage,
});
const openaiStream =
  sse([
    {
      ...openaiHead,
      choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
      usage: null,
    },
    ...Array.from({ length: PIECES }, () => ({
      ...openaiHead,
      choices: [{ index: 0, delta: { content: PIECE }, finish_reason: null }],
      usage: null,
    })),
    { ...openaiHead, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: null },
    { ...openaiHead, choices: [], usage: openaiUsage },
  ]) + 'data: [DONE]\n\n';

// ---- Anthropic Messages
const anthropicUsage = {
  input_tokens: 20,
  output_tokens: 48,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0,
};
const anthropicJson = JSON.stringify({
  id: 'msg_bench',
  type: 'message',
  role: 'assistant',
  model: 'claude-bench',
  content: [{ type: 'text', text: TEXT }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: anthropicUsage,
});
const anthropicStream = named([
  [
    'message_start',
    {
      type: 'message_start',
      message: {
        id: 'msg_bench',
        type: 'message',
        role: 'assistant',
        model: 'claude-bench',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...anthropicUsage, output_tokens: 1 },
      },
    },
  ],
  [
    'content_block_start',
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
  ],
  ...Array.from({ length: PIECES }, (): [string, unknown] => [
    'content_block_delta',
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: PIECE } },
  ]),
  ['content_block_stop', { type: 'content_block_stop', index: 0 }],
  [
    'message_delta',
    {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: 48 },
    },
  ],
  ['message_stop', { type: 'message_stop' }],
]);

// ---- Gemini
const geminiUsage = { promptTokenCount: 20, candidatesTokenCount: 48, totalTokenCount: 68 };
const geminiJson = JSON.stringify({
  candidates: [{ content: { role: 'model', parts: [{ text: TEXT }] }, finishReason: 'STOP', index: 0 }],
  usageMetadata: geminiUsage,
  modelVersion: 'gemini-bench',
  responseId: 'bench',
});
const geminiStream = sse(
  Array.from({ length: PIECES }, (_, i) => ({
    candidates: [
      {
        content: { role: 'model', parts: [{ text: PIECE }] },
        index: 0,
        ...(i === PIECES - 1 ? { finishReason: 'STOP' } : {}),
      },
    ],
    usageMetadata: i === PIECES - 1 ? geminiUsage : { promptTokenCount: 20, totalTokenCount: 20 },
    modelVersion: 'gemini-bench',
    responseId: 'bench',
  })),
);

// ---- Coze v3
const chat = {
  id: '7400000000000000001',
  conversation_id: '7400000000000000002',
  bot_id: 'bench-bot',
  created_at: 1_700_000_000,
  last_error: { code: 0, msg: '' },
};
const cozeUsage = { token_count: 68, output_count: 48, input_count: 20 };
const cozeCreated = JSON.stringify({
  code: 0,
  msg: '',
  data: { ...chat, status: 'completed', usage: cozeUsage },
});
const cozeMessage = {
  id: '7400000000000000003',
  conversation_id: chat.conversation_id,
  bot_id: chat.bot_id,
  chat_id: chat.id,
  role: 'assistant',
  type: 'answer',
  content_type: 'text',
};
const cozeList = JSON.stringify({ code: 0, msg: '', data: [{ ...cozeMessage, content: TEXT }] });
const cozeStream =
  named(
    [
      ['conversation.chat.created', { ...chat, status: 'created' }],
      ['conversation.chat.in_progress', { ...chat, status: 'in_progress' }],
      ...Array.from({ length: PIECES }, (): [string, unknown] => [
        'conversation.message.delta',
        { ...cozeMessage, content: PIECE },
      ]),
      ['conversation.message.completed', { ...cozeMessage, content: TEXT }],
      ['conversation.chat.completed', { ...chat, status: 'completed', usage: cozeUsage }],
    ],
    '',
  ) + 'event:done\ndata:"[DONE]"\n\n';

function send(res: ServerResponse, type: string, body: string): void {
  res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function stream(res: ServerResponse, body: string): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  // Two writes: the first event, then the rest (as a model server flushes tokens).
  const cut = body.indexOf('\n\n') + 2;
  res.write(body.slice(0, cut));
  res.end(body.slice(cut));
}

/** The stream bodies, for the in-process parse measurement of bench/adapters.ts. */
export const STREAM_BODIES = {
  openai: openaiStream,
  anthropic: anthropicStream,
  gemini: geminiStream,
  coze: cozeStream,
} as const;

function serve(): void {
  const port = Number(process.argv[2] ?? 0);
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const url = req.url ?? '/';
      const streaming = Buffer.concat(parts).includes('"stream":true');
      if (url.startsWith('/v1/chat/completions') || url.startsWith('/openai/')) {
        return streaming ? stream(res, openaiStream) : send(res, 'application/json', openaiJson);
      }
      if (url.startsWith('/v1/messages')) {
        return streaming ? stream(res, anthropicStream) : send(res, 'application/json', anthropicJson);
      }
      if (url.includes(':streamGenerateContent')) return stream(res, geminiStream);
      if (url.includes(':generateContent')) return send(res, 'application/json', geminiJson);
      if (url.startsWith('/v3/chat/message/list')) return send(res, 'application/json', cozeList);
      if (url.startsWith('/v3/chat')) {
        return streaming ? stream(res, cozeStream) : send(res, 'application/json', cozeCreated);
      }
      if (url === '/health') return send(res, 'application/json', '{}');
      res.writeHead(404).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(port, '127.0.0.1', () => {
    const a = server.address();
    process.stdout.write(`READY ${typeof a === 'object' && a ? a.port : port}\n`);
  });
}

if (require.main === module) serve();
