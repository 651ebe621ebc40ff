/**
 * A Coze v3 chat API mock on node:http, faithful enough for the official `@coze/api` SDK:
 * `POST /v3/chat` (stream and non-stream), `GET|POST /v3/chat/retrieve`,
 * `GET /v3/chat/message/list`, `POST /v3/chat/cancel`.
 *
 * Behaviour:
 * - every reply but a stream is the `{code, msg, data}` envelope; a missing or wrong bearer
 *   token gets HTTP 401 with code 4100;
 * - the body is checked like the real API: `bot_id`, `user_id`, `additional_messages` with
 *   roles user/assistant and content_type text/object_string (an object_string must be a JSON
 *   array of typed items, an image or file item naming an http(s) `file_url` or a `file_id`); a
 *   bad body gets HTTP 200 with code 4000;
 * - the answer echoes the last user message's text (an image part adds `[image <url>]`);
 *   usage counts words: input over every message, output over the answer;
 * - streams send, each as `event:<name>` and `data:<json>` lines: `conversation.chat.created`,
 *   `conversation.chat.in_progress`, `conversation.message.delta` (the answer in pieces),
 *   `conversation.message.completed` (the answer, a `verbose` finish packet, a `follow_up`),
 *   `conversation.chat.completed` (with usage), `done`;
 * - a non-stream chat is created `in_progress` and completes `completeAfterMs` later;
 * - errors by bot id: `bot-no-permission` (HTTP 200, code 4101), `bot-rate-limit` (HTTP 200,
 *   code 4013), `bot-http-429` (HTTP 429, code 4029), `bot-chat-failed` (the chat fails with
 *   `last_error` code 5000), `bot-stream-error` (an `error` event after the first delta),
 *   `bot-never-done` (the chat stays in progress), `bot-reasoning` (reasoning deltas first),
 *   `bot-two-answers` (two answer messages); `failNext(status)` fails the next chat creation.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MockUpstream, RecordedRequest } from './mock-upstream';

export const MOCK_COZE_TOKEN = 'pat_test-coze-token';

type Json = Record<string, unknown>;

export interface MockCozeChat {
  id: string;
  conversation_id: string;
  bot_id: string;
  user_id: string;
  created_at: number;
  /** Epoch ms at which the chat ends (Infinity: never). */
  endsAt: number;
  outcome: 'completed' | 'failed';
  canceled: boolean;
  answers: string[];
  reasoning: string;
  usage: { token_count: number; output_count: number; input_count: number };
}

export interface MockCoze extends MockUpstream {
  readonly token: string;
  /** Chats created, by chat id. */
  readonly chats: Map<string, MockCozeChat>;
  /** The next `POST /v3/chat` fails with this HTTP status and Coze code (default per status). */
  failNext(httpStatus: number, code?: number): void;
}

/** Coze codes the mock pairs with an injected HTTP status. */
const INJECTED: Record<number, { code: number; msg: string }> = {
  400: { code: 4000, msg: 'invalid request parameter' },
  401: { code: 4100, msg: 'authentication is invalid' },
  429: { code: 4029, msg: 'too many requests' },
  500: { code: 5000, msg: 'internal server error' },
  502: { code: 5000, msg: 'bad gateway' },
  503: { code: 5000, msg: 'service unavailable' },
};

export const FAILED_CHAT_ERROR = { code: 5000, msg: 'the bot failed to answer' };

class CozeApiError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function words(text: string): number {
  return text.split(/\s+/).filter((w) => w.length > 0).length;
}

/** The text of one `additional_messages` item (object_string items joined). */
function messageText(m: Json, index: number): string {
  const content = m.content;
  if (typeof content !== 'string')
    throw new CozeApiError(200, 4000, `additional_messages[${index}].content must be a string`);
  if (m.content_type === 'text' || m.content_type === undefined) return content;
  if (m.content_type !== 'object_string') {
    throw new CozeApiError(200, 4000, `additional_messages[${index}].content_type is invalid`);
  }
  let items: unknown;
  try {
    items = JSON.parse(content);
  } catch {
    throw new CozeApiError(200, 4000, `additional_messages[${index}].content is not a valid object_string`);
  }
  if (!Array.isArray(items) || items.length === 0) {
    throw new CozeApiError(200, 4000, `additional_messages[${index}].content must be a non-empty array`);
  }
  const parts: string[] = [];
  for (const item of items as Json[]) {
    if (item.type === 'text' && typeof item.text === 'string') parts.push(item.text);
    else if (
      (item.type === 'image' || item.type === 'file') &&
      ((typeof item.file_url === 'string' && /^https?:\/\//.test(item.file_url)) ||
        typeof item.file_id === 'string')
    ) {
      parts.push(`[${item.type as string} ${String(item.file_url ?? item.file_id)}]`);
    } else
      throw new CozeApiError(200, 4000, `additional_messages[${index}] has an invalid object_string item`);
  }
  return parts.join(' ');
}

class MockCozeServer implements MockCoze {
  baseUrl = '';
  readonly requests: RecordedRequest[] = [];
  readonly chats = new Map<string, MockCozeChat>();
  private readonly server = createServer((req, res) => {
    this.handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) this.send(res, 500, { code: 5000, msg: String(err) });
      else res.destroy();
    });
  });
  private seq = 7_400_000_000_000_000_000n;
  private readonly failures: Array<{ httpStatus: number; code: number; msg: string }> = [];

  failNext(httpStatus: number, code?: number): void {
    const known = INJECTED[httpStatus] ?? { code: 5000, msg: `injected error ${httpStatus}` };
    this.failures.push({ httpStatus, code: code ?? known.code, msg: known.msg });
  }

  constructor(
    readonly token: string,
    private readonly completeAfterMs: number,
  ) {}

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.baseUrl = `http://127.0.0.1:${port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private nextId(): string {
    this.seq += 1n;
    return this.seq.toString();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown = null;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
    }
    const path = req.url ?? '/';
    this.requests.push({ method: req.method ?? 'GET', path, headers: req.headers, body });
    const url = new URL(path, 'http://mock');
    try {
      if (req.headers.authorization !== `Bearer ${this.token}`) {
        throw new CozeApiError(401, 4100, 'authentication is invalid');
      }
      if (req.method === 'POST' && url.pathname === '/v3/chat') return this.createChat(body, res);
      if ((req.method === 'GET' || req.method === 'POST') && url.pathname === '/v3/chat/retrieve') {
        return this.send(res, 200, { code: 0, msg: '', data: this.chatView(this.findChat(url)) });
      }
      if (req.method === 'GET' && url.pathname === '/v3/chat/message/list') {
        return this.send(res, 200, { code: 0, msg: '', data: this.messages(this.findChat(url)) });
      }
      if (req.method === 'POST' && url.pathname === '/v3/chat/cancel') {
        const b = (body ?? {}) as Json;
        const chat = this.chats.get(String(b.chat_id));
        if (!chat || chat.conversation_id !== b.conversation_id)
          throw new CozeApiError(200, 4200, 'chat not found');
        chat.canceled = true;
        return this.send(res, 200, { code: 0, msg: '', data: this.chatView(chat) });
      }
      throw new CozeApiError(404, 4200, `no such API: ${req.method ?? ''} ${url.pathname}`);
    } catch (err) {
      if (!(err instanceof CozeApiError)) throw err;
      this.send(res, err.httpStatus, { code: err.code, msg: err.message, detail: { logid: 'mock-log-id' } });
    }
  }

  private send(res: ServerResponse, status: number, payload: unknown): void {
    const text = JSON.stringify(payload);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  }

  private findChat(url: URL): MockCozeChat {
    const chatId = url.searchParams.get('chat_id');
    const conversationId = url.searchParams.get('conversation_id');
    if (!chatId || !conversationId)
      throw new CozeApiError(200, 4000, 'conversation_id and chat_id are required');
    const chat = this.chats.get(chatId);
    if (!chat || chat.conversation_id !== conversationId) throw new CozeApiError(200, 4200, 'chat not found');
    return chat;
  }

  private validate(body: unknown): { botId: string; userId: string; stream: boolean; messages: Json[] } {
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw new CozeApiError(200, 4000, 'invalid request body');
    const b = body as Json;
    if (typeof b.bot_id !== 'string' || b.bot_id.length === 0)
      throw new CozeApiError(200, 4000, 'bot_id is required');
    if (typeof b.user_id !== 'string' || b.user_id.length === 0)
      throw new CozeApiError(200, 4000, 'user_id is required');
    const messages = b.additional_messages;
    if (!Array.isArray(messages)) throw new CozeApiError(200, 4000, 'additional_messages must be an array');
    messages.forEach((m: unknown, i) => {
      const msg = (m ?? {}) as Json;
      if (msg.role !== 'user' && msg.role !== 'assistant') {
        throw new CozeApiError(200, 4000, `additional_messages[${i}].role must be user or assistant`);
      }
    });
    if (b.stream === false && b.auto_save_history === false) {
      throw new CozeApiError(200, 4000, 'auto_save_history must be true when stream is false');
    }
    return { botId: b.bot_id, userId: b.user_id, stream: b.stream === true, messages: messages as Json[] };
  }

  private createChat(body: unknown, res: ServerResponse): void {
    const failure = this.failures.shift();
    if (failure) throw new CozeApiError(failure.httpStatus, failure.code, failure.msg);
    const { botId, userId, stream, messages } = this.validate(body);
    if (botId === 'bot-no-permission')
      throw new CozeApiError(200, 4101, 'the token has no permission for this bot');
    if (botId === 'bot-rate-limit') throw new CozeApiError(200, 4013, 'request rate exceeded');
    if (botId === 'bot-http-429') throw new CozeApiError(429, 4029, 'too many requests');
    const texts = messages.map((m, i) => messageText(m, i));
    const lastUser = [...messages.keys()].reverse().find((i) => messages[i]?.role === 'user');
    const echo = lastUser === undefined ? '' : (texts[lastUser] ?? '');
    const answers = botId === 'bot-two-answers' ? [`first: ${echo}`, `second: ${echo}`] : [echo];
    const reasoning = botId === 'bot-reasoning' ? `thinking about: ${echo}` : '';
    const input = texts.reduce((n, t) => n + words(t), 0);
    const output = answers.reduce((n, a) => n + words(a), 0) + words(reasoning);
    const now = Date.now();
    const chat: MockCozeChat = {
      id: this.nextId(),
      conversation_id: this.nextId(),
      bot_id: botId,
      user_id: userId,
      created_at: Math.floor(now / 1000),
      endsAt: botId === 'bot-never-done' ? Infinity : now + this.completeAfterMs,
      outcome: botId === 'bot-chat-failed' ? 'failed' : 'completed',
      canceled: false,
      answers,
      reasoning,
      usage: { token_count: input + output, output_count: output, input_count: input },
    };
    this.chats.set(chat.id, chat);
    if (stream) {
      this.stream(chat, res);
      return;
    }
    this.send(res, 200, { code: 0, msg: '', data: this.chatView(chat, 'in_progress') });
  }

  private status(chat: MockCozeChat): string {
    if (chat.canceled) return 'canceled';
    if (Date.now() < chat.endsAt) return 'in_progress';
    return chat.outcome;
  }

  private chatView(chat: MockCozeChat, forced?: string): Json {
    const status = forced ?? this.status(chat);
    const view: Json = {
      id: chat.id,
      conversation_id: chat.conversation_id,
      bot_id: chat.bot_id,
      created_at: chat.created_at,
      last_error: { code: 0, msg: '' },
      status,
    };
    if (status === 'completed') {
      view.completed_at = Math.floor(Date.now() / 1000);
      view.usage = chat.usage;
    }
    if (status === 'failed') {
      view.failed_at = Math.floor(Date.now() / 1000);
      view.last_error = FAILED_CHAT_ERROR;
      view.usage = { token_count: 0, output_count: 0, input_count: 0 };
    }
    return view;
  }

  private message(chat: MockCozeChat, id: string, type: string, content: string, extra: Json = {}): Json {
    return {
      id,
      conversation_id: chat.conversation_id,
      bot_id: chat.bot_id,
      chat_id: chat.id,
      meta_data: {},
      role: 'assistant',
      type,
      content,
      content_type: 'text',
      section_id: chat.conversation_id,
      reasoning_content: '',
      ...extra,
    };
  }

  /** The messages of a finished chat, as message/list gives them. */
  private messages(chat: MockCozeChat): Json[] {
    if (this.status(chat) !== 'completed') return [];
    const created = chat.created_at;
    const out = chat.answers.map((a, i) =>
      this.message(chat, `${chat.id}-a${i}`, 'answer', a, {
        created_at: created,
        updated_at: created,
        reasoning_content: i === 0 ? chat.reasoning : '',
      }),
    );
    out.push(
      this.message(chat, `${chat.id}-v`, 'verbose', VERBOSE_FINISH, {
        created_at: created,
        updated_at: created,
      }),
    );
    out.push(
      this.message(chat, `${chat.id}-f`, 'follow_up', 'Anything else?', {
        created_at: created,
        updated_at: created,
      }),
    );
    return out;
  }

  private stream(chat: MockCozeChat, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const write = (event: string, data: unknown): void => {
      res.write(`event:${event}\ndata:${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
    };
    write('conversation.chat.created', this.chatView(chat, 'created'));
    write('conversation.chat.in_progress', this.chatView(chat, 'in_progress'));
    if (chat.outcome === 'failed') {
      write('conversation.chat.failed', this.chatView(chat, 'failed'));
      write('done', '"[DONE]"');
      res.end();
      return;
    }
    if (chat.reasoning) {
      for (const piece of pieces(chat.reasoning)) {
        write(
          'conversation.message.delta',
          this.message(chat, `${chat.id}-a0`, 'answer', '', { reasoning_content: piece }),
        );
      }
    }
    chat.answers.forEach((answer, i) => {
      const id = `${chat.id}-a${i}`;
      for (const piece of pieces(answer)) {
        write('conversation.message.delta', this.message(chat, id, 'answer', piece));
        if (chat.bot_id === 'bot-stream-error') {
          write('error', { code: 5000, msg: 'internal error while streaming' });
          res.end();
          return;
        }
      }
      write(
        'conversation.message.completed',
        this.message(chat, id, 'answer', answer, { reasoning_content: i === 0 ? chat.reasoning : '' }),
      );
    });
    if (res.writableEnded) return;
    write('conversation.message.completed', this.message(chat, `${chat.id}-v`, 'verbose', VERBOSE_FINISH));
    write(
      'conversation.message.completed',
      this.message(chat, `${chat.id}-f`, 'follow_up', 'Anything else?'),
    );
    chat.endsAt = Date.now();
    write('conversation.chat.completed', this.chatView(chat, 'completed'));
    write('done', '"[DONE]"');
    res.end();
  }
}

const VERBOSE_FINISH = JSON.stringify({
  msg_type: 'generate_answer_finish',
  data: '{"finish_reason":0,"FinData":""}',
  from_module: null,
  from_unit: null,
});

/** Splits text into pieces of up to two words, keeping the spaces, as token deltas would. */
function pieces(text: string): string[] {
  const tokens = text.match(/\S+\s*|\s+/g) ?? [];
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i += 2) out.push(tokens.slice(i, i + 2).join(''));
  return out.length > 0 ? out : [''];
}

export async function startMockCoze(
  options: { token?: string; completeAfterMs?: number } = {},
): Promise<MockCoze> {
  const server = new MockCozeServer(options.token ?? MOCK_COZE_TOKEN, options.completeAfterMs ?? 30);
  await server.listen();
  return server;
}
