/** CallRecord factories for trace tests. */
import { randomUUID } from 'node:crypto';
import type { CallRecord } from '../../src/gateway/call-record';

type Message = { role: string; content: unknown; tool_calls?: unknown };

let clock = Date.parse('2026-01-01T00:00:00Z');

/** A distinct, increasing start time per call. */
export function nextTime(stepMs = 1000): number {
  clock += stepMs;
  return clock;
}

export function chatReply(content: string, usage = true): unknown {
  return {
    id: 'chatcmpl-x',
    object: 'chat.completion',
    created: 1,
    model: 'up-model',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    ...(usage ? { usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } } : {}),
  };
}

export function callRecord(
  messages: Message[],
  reply: string | null,
  over: Partial<CallRecord> = {},
): CallRecord {
  return {
    id: randomUUID(),
    startedAt: nextTime(),
    endpoint: '/v1/chat/completions',
    model: 'gpt-x',
    provider: 'up',
    upstreamModel: 'up-model',
    stream: false,
    keyId: null,
    sessionId: null,
    metadata: null,
    request: { model: 'gpt-x', messages },
    requestBytes: null,
    upstreamRequest: { model: 'up-model', messages },
    response: reply === null ? { kind: 'none' } : { kind: 'json', body: chatReply(reply) },
    status: 'success',
    httpStatus: 200,
    error: null,
    latencyMs: 120,
    ttftMs: null,
    overheadMs: 1.5,
    attempts: [{ provider: 'up', model: 'up-model', status: 200, error: null, latency_ms: 118 }],
    usage: null,
    replayOf: null,
    sessionOf: null,
    ...over,
  };
}

/** An OpenAI SSE stream as raw upstream bytes, split at awkward places. */
export function sseBytes(parts: string[], usage = true): Buffer[] {
  const events = parts.map((p, i) =>
    JSON.stringify({
      id: 'chatcmpl-s',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'up-model',
      choices: [
        {
          index: 0,
          delta: i === 0 ? { role: 'assistant', content: p } : { content: p },
          finish_reason: null,
        },
      ],
    }),
  );
  events.push(
    JSON.stringify({
      id: 'chatcmpl-s',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'up-model',
      choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
    }),
  );
  if (usage) {
    events.push(
      JSON.stringify({
        id: 'chatcmpl-s',
        object: 'chat.completion.chunk',
        created: 1,
        model: 'up-model',
        choices: [],
        usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
      }),
    );
  }
  const text = events.map((e) => `data: ${e}\n\n`).join('') + 'data: [DONE]\n\n';
  const buf = Buffer.from(text);
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += 37) out.push(buf.subarray(i, i + 37));
  return out;
}
