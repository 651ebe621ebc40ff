/**
 * Bench upstream: a fast OpenAI-compatible server with fixed replies (no parsing beyond what a
 * real server needs to tell stream from non-stream). Usage: upstream.ts <port>
 */
import { createServer } from 'node:http';

const port = Number(process.argv[2] ?? 0);
const reply = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'bench-model',
  choices: [
    {
      index: 0,
      message: {
        role: 'assistant',
        content: 'The quick brown fox jumps over the lazy dog. '.repeat(8),
        refusal: null,
      },
      finish_reason: 'stop',
      logprobs: null,
    },
  ],
  usage: { prompt_tokens: 20, completion_tokens: 80, total_tokens: 100 },
  system_fingerprint: 'fp_bench',
});

function chunk(delta: object, finish: string | null, usage: boolean): string {
  return `data: ${JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'bench-model',
    system_fingerprint: 'fp_bench',
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
    ...(usage ? { usage: null } : {}),
  })}\n\n`;
}

function streamEvents(usage: boolean): string[] {
  const events = [chunk({ role: 'assistant', content: '' }, null, usage)];
  for (let i = 0; i < 8; i++) events.push(chunk({ content: 'The quick brown fox jumps. ' }, null, usage));
  events.push(chunk({}, 'stop', usage));
  if (usage) {
    events.push(
      `data: ${JSON.stringify({
        id: 'chatcmpl-bench',
        object: 'chat.completion.chunk',
        created: 1_700_000_000,
        model: 'bench-model',
        choices: [],
        usage: { prompt_tokens: 20, completion_tokens: 48, total_tokens: 68 },
      })}\n\n`,
    );
  }
  events.push('data: [DONE]\n\n');
  return events;
}
const withUsage = streamEvents(true);
const withoutUsage = streamEvents(false);

const server = createServer((req, res) => {
  const parts: Buffer[] = [];
  req.on('data', (c: Buffer) => parts.push(c));
  req.on('end', () => {
    const body = Buffer.concat(parts).toString('utf8');
    if (body.includes('"stream":true')) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const events = body.includes('"include_usage":true') ? withUsage : withoutUsage;
      // Two writes: the first event, then the rest (as a model server flushes tokens).
      res.write(events[0]);
      res.end(events.slice(1).join(''));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(reply) });
    res.end(reply);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(`READY ${typeof a === 'object' && a ? a.port : port}\n`);
});
