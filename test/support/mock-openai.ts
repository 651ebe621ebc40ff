/**
 * A faithful OpenAI-compatible upstream for tests (node:http), written from OpenAI's public API
 * reference: chat completions (stream and not, tools, include_usage), legacy completions,
 * embeddings (float and base64), models. Behaviour per request can be queued by tests.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { MockUpstream, RecordedRequest } from './mock-upstream';

export type Behavior =
  /** Answer with this status and OpenAI error body (a default body is made when omitted). */
  | { status: number; body?: unknown; headers?: Record<string, string> }
  /** Wait this long before the first byte. */
  | { delayMs: number }
  /** Stream: wait this long between chunks. */
  | { chunkDelayMs: number }
  /** Stream: destroy the socket after this many chunks. */
  | { resetAfterChunks: number }
  /** Answer with this content instead of the echo. */
  | { reply: string };

export interface MockOpenAI extends MockUpstream {
  enqueue(...behaviors: Behavior[]): void;
  /** Responses whose client went away before the end. */
  closedEarly: number;
  /** Requests received (every endpoint). */
  count: number;
}

interface ChatMessage {
  role: string;
  content?: unknown;
  tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>;
}

interface ChatBody {
  model?: string;
  messages?: ChatMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  tools?: Array<{ type: string; function: { name: string } }>;
  tool_choice?: unknown;
  n?: number;
}

const ERROR_TYPES: Record<number, [string, string]> = {
  400: ['invalid_request_error', 'invalid_value'],
  401: ['invalid_request_error', 'invalid_api_key'],
  404: ['invalid_request_error', 'model_not_found'],
  408: ['timeout', 'timeout'],
  429: ['requests', 'rate_limit_exceeded'],
  500: ['server_error', 'server_error'],
  503: ['server_error', 'service_unavailable'],
};

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((p: { type?: string; text?: string }) =>
        p && p.type === 'text' && typeof p.text === 'string' ? p.text : '',
      )
      .filter(Boolean)
      .join(' ');
  }
  return '';
}

function tokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function startMockOpenAI(opts: { apiKey?: string } = {}): Promise<MockOpenAI> {
  const requests: RecordedRequest[] = [];
  const queue: Behavior[] = [];
  const sockets = new Set<Socket>();
  let seq = 0;

  const state = {
    closedEarly: 0,
    count: 0,
  };

  const send = (
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': `req_${++seq}`, ...headers });
    res.end(text);
  };

  const sendError = (
    res: ServerResponse,
    status: number,
    body?: unknown,
    headers: Record<string, string> = {},
  ): void => {
    const [type, code] = ERROR_TYPES[status] ?? ['server_error', 'error'];
    send(res, status, body ?? { error: { message: `mock error ${status}`, type, param: null, code } }, {
      ...(status === 429 ? { 'retry-after': '1' } : {}),
      ...headers,
    });
  };

  const chatReply = (
    body: ChatBody,
    fixed: string | null,
  ): { content: string | null; toolCall: { id: string; name: string; arguments: string } | null } => {
    const messages = body.messages ?? [];
    const last = messages[messages.length - 1];
    const tool = body.tools?.[0];
    if (fixed !== null) return { content: fixed, toolCall: null };
    if (tool && last?.role === 'user' && body.tool_choice !== 'none') {
      const text = textOf(last.content);
      const city = /in ([A-Z][a-z]+)/.exec(text)?.[1] ?? 'Paris';
      return {
        content: null,
        toolCall: {
          id: `call_${++seq}abc`,
          name: tool.function.name,
          arguments: JSON.stringify({ city, query: text }),
        },
      };
    }
    if (last?.role === 'tool') return { content: `The tool said: ${textOf(last.content)}`, toolCall: null };
    const lastUser = [...messages].reverse().find((m) => m.role === 'user');
    return { content: `Echo: ${textOf(lastUser?.content)}`, toolCall: null };
  };

  const usageFor = (body: ChatBody, completion: string): object => {
    const prompt = tokens((body.messages ?? []).map((m) => textOf(m.content)).join(' '));
    const out = tokens(completion);
    return {
      prompt_tokens: prompt,
      completion_tokens: out,
      total_tokens: prompt + out,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 0,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    };
  };

  async function chat(res: ServerResponse, body: ChatBody, behaviors: Behavior[]): Promise<void> {
    const fixed = behaviors.find((b): b is { reply: string } => 'reply' in b)?.reply ?? null;
    const r = chatReply(body, fixed);
    const id = `chatcmpl-${++seq}`;
    const created = Math.floor(Date.now() / 1000);
    const model = body.model ?? 'unknown';
    const completionText = r.content ?? r.toolCall?.arguments ?? '';
    if (!body.stream) {
      send(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        system_fingerprint: 'fp_mock',
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: r.content,
              refusal: null,
              annotations: [],
              ...(r.toolCall
                ? {
                    tool_calls: [
                      {
                        id: r.toolCall.id,
                        type: 'function',
                        function: { name: r.toolCall.name, arguments: r.toolCall.arguments },
                      },
                    ],
                  }
                : {}),
            },
            logprobs: null,
            finish_reason: r.toolCall ? 'tool_calls' : 'stop',
          },
        ],
        usage: usageFor(body, completionText),
        service_tier: 'default',
      });
      return;
    }
    const includeUsage = body.stream_options?.include_usage === true;
    const base = {
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      system_fingerprint: 'fp_mock',
      service_tier: 'default',
    };
    const events: string[] = [];
    const chunk = (delta: object, finish: string | null): string =>
      `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...(includeUsage ? { usage: null } : {}) })}\n\n`;
    events.push(chunk({ role: 'assistant', content: r.toolCall ? null : '', refusal: null }, null));
    if (r.toolCall) {
      const args = r.toolCall.arguments;
      events.push(
        chunk(
          {
            tool_calls: [
              {
                index: 0,
                id: r.toolCall.id,
                type: 'function',
                function: { name: r.toolCall.name, arguments: '' },
              },
            ],
          },
          null,
        ),
      );
      for (let i = 0; i < args.length; i += 7)
        events.push(
          chunk({ tool_calls: [{ index: 0, function: { arguments: args.slice(i, i + 7) } }] }, null),
        );
    } else {
      for (const piece of (r.content ?? '').match(/\S+\s*|\s+/g) ?? [])
        events.push(chunk({ content: piece }, null));
    }
    events.push(chunk({}, r.toolCall ? 'tool_calls' : 'stop'));
    if (includeUsage)
      events.push(
        `data: ${JSON.stringify({ ...base, choices: [], usage: usageFor(body, completionText) })}\n\n`,
      );
    events.push('data: [DONE]\n\n');
    await writeStream(res, events, behaviors);
  }

  async function writeStream(res: ServerResponse, events: string[], behaviors: Behavior[]): Promise<void> {
    const gap = behaviors.find((b): b is { chunkDelayMs: number } => 'chunkDelayMs' in b)?.chunkDelayMs ?? 0;
    const resetAfter = behaviors.find(
      (b): b is { resetAfterChunks: number } => 'resetAfterChunks' in b,
    )?.resetAfterChunks;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-request-id': `req_${++seq}`,
    });
    let n = 0;
    for (const e of events) {
      if (res.destroyed) return;
      if (resetAfter !== undefined && n >= resetAfter) {
        res.socket?.destroy();
        return;
      }
      res.write(e);
      n++;
      if (gap > 0) await sleep(gap);
    }
    res.end();
  }

  async function completions(
    res: ServerResponse,
    body: {
      model?: string;
      prompt?: unknown;
      stream?: boolean;
      stream_options?: { include_usage?: boolean };
    },
    behaviors: Behavior[],
  ): Promise<void> {
    const prompt = Array.isArray(body.prompt)
      ? body.prompt.join(' ')
      : typeof body.prompt === 'string'
        ? body.prompt
        : '';
    const text = ` and so on: ${prompt}`;
    const id = `cmpl-${++seq}`;
    const created = Math.floor(Date.now() / 1000);
    const usage = {
      prompt_tokens: tokens(prompt),
      completion_tokens: tokens(text),
      total_tokens: tokens(prompt) + tokens(text),
    };
    if (!body.stream) {
      send(res, 200, {
        id,
        object: 'text_completion',
        created,
        model: body.model,
        choices: [{ index: 0, text, logprobs: null, finish_reason: 'stop' }],
        usage,
      });
      return;
    }
    const includeUsage = body.stream_options?.include_usage === true;
    const events = (text.match(/\S+\s*|\s+/g) ?? []).map(
      (t) =>
        `data: ${JSON.stringify({ id, object: 'text_completion', created, model: body.model, choices: [{ index: 0, text: t, logprobs: null, finish_reason: null }], ...(includeUsage ? { usage: null } : {}) })}\n\n`,
    );
    events.push(
      `data: ${JSON.stringify({ id, object: 'text_completion', created, model: body.model, choices: [{ index: 0, text: '', logprobs: null, finish_reason: 'stop' }], ...(includeUsage ? { usage: null } : {}) })}\n\n`,
    );
    if (includeUsage)
      events.push(
        `data: ${JSON.stringify({ id, object: 'text_completion', created, model: body.model, choices: [], usage })}\n\n`,
      );
    events.push('data: [DONE]\n\n');
    await writeStream(res, events, behaviors);
  }

  function embeddings(
    res: ServerResponse,
    body: { model?: string; input?: unknown; encoding_format?: string; dimensions?: number },
  ): void {
    const inputs = Array.isArray(body.input) ? body.input : [body.input];
    const dims = typeof body.dimensions === 'number' ? body.dimensions : 16;
    let total = 0;
    const data = inputs.map((input, index) => {
      const text = typeof input === 'string' ? input : JSON.stringify(input);
      total += tokens(text);
      const v = Array.from({ length: dims }, (_, i) => Math.sin(text.length * (i + 1)));
      const embedding =
        body.encoding_format === 'base64' ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v;
      return { object: 'embedding', index, embedding };
    });
    send(res, 200, {
      object: 'list',
      data,
      model: body.model,
      usage: { prompt_tokens: total, total_tokens: total },
    });
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      void (async () => {
        state.count++;
        const raw = Buffer.concat(parts).toString('utf8');
        let body: unknown = null;
        try {
          body = raw ? (JSON.parse(raw) as unknown) : null;
        } catch {
          body = raw;
        }
        const path = req.url ?? '/';
        requests.push({ method: req.method ?? 'GET', path, headers: req.headers, body });
        res.on('close', () => {
          if (!res.writableFinished) state.closedEarly++;
        });
        if (opts.apiKey && req.headers.authorization !== `Bearer ${opts.apiKey}`) {
          sendError(res, 401, {
            error: {
              message: 'Incorrect API key provided.',
              type: 'invalid_request_error',
              param: null,
              code: 'invalid_api_key',
            },
          });
          return;
        }
        const behavior = queue.shift();
        const behaviors = behavior ? [behavior] : [];
        if (behavior && 'status' in behavior) {
          sendError(res, behavior.status, behavior.body, behavior.headers);
          return;
        }
        if (behavior && 'delayMs' in behavior) {
          await sleep(behavior.delayMs);
          if (res.destroyed) return;
        }
        const url = new URL(path, 'http://mock');
        if (req.method === 'POST' && url.pathname === '/v1/chat/completions') {
          const b = body as ChatBody;
          if (!b || !Array.isArray(b.messages))
            return sendError(res, 400, {
              error: {
                message: "Missing required parameter: 'messages'.",
                type: 'invalid_request_error',
                param: 'messages',
                code: 'missing_required_parameter',
              },
            });
          return chat(res, b, behaviors);
        }
        if (req.method === 'POST' && url.pathname === '/v1/completions')
          return completions(res, body as never, behaviors);
        if (req.method === 'POST' && url.pathname === '/v1/embeddings') return embeddings(res, body as never);
        if (req.method === 'GET' && url.pathname === '/v1/models') {
          return send(res, 200, {
            object: 'list',
            data: ['gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small'].map((id) => ({
              id,
              object: 'model',
              created: 1_700_000_000,
              owned_by: 'system',
            })),
          });
        }
        const m = /^\/v1\/models\/(.+)$/.exec(url.pathname);
        if (req.method === 'GET' && m)
          return send(res, 200, {
            id: decodeURIComponent(m[1] ?? ''),
            object: 'model',
            created: 1_700_000_000,
            owned_by: 'system',
          });
        sendError(res, 404, {
          error: {
            message: `Unknown route ${req.method} ${url.pathname}`,
            type: 'invalid_request_error',
            param: null,
            code: 'unknown_url',
          },
        });
      })();
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const mock: MockOpenAI = {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    enqueue: (...b: Behavior[]) => queue.push(...b),
    get closedEarly() {
      return state.closedEarly;
    },
    get count() {
      return state.count;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
  return mock;
}
