/**
 * Calls the gateway makes itself — replays and image descriptions — run through the same
 * path as client calls (routing, transforms, tracing), into a collector instead of a socket.
 */
import { performance } from 'node:perf_hooks';
import { GatewayError, toOpenAIErrorBody } from '../common/errors';
import type { ChatCompletion } from '../common/openai.types';
import { chatChunksFromSse, reassembleChatStream } from '../common/reassemble';
import { CollectSink } from './client-sink';
import type { GatewayService } from './gateway.service';
import type { Endpoint } from './request-checks';

export interface InternalResult {
  recordId: string;
  status: number;
  response: unknown;
}

export interface InternalCallOptions {
  endpoint?: Endpoint;
  sessionId: string | null;
  replayOf: string | null;
  metadata?: Record<string, unknown> | null;
  /** Id of the trace whose session this call joins; its record is handed on after that trace's. */
  sessionOf?: string | null;
}

export class InternalCaller {
  constructor(private readonly gateway: GatewayService) {}

  async call(body: unknown, opts: InternalCallOptions): Promise<InternalResult> {
    const sink = new CollectSink();
    const state = await this.gateway.handle({
      endpoint: opts.endpoint ?? '/v1/chat/completions',
      body,
      headers: {},
      t0: performance.now(),
      sink,
      internal: {
        sessionId: opts.sessionId,
        replayOf: opts.replayOf,
        metadata: opts.metadata ?? null,
        sessionOf: opts.sessionOf ?? null,
      },
    });
    const text = sink.text();
    let response: unknown;
    if ((sink.headers['content-type'] ?? '').startsWith('text/event-stream')) {
      response = reassembleChatStream(chatChunksFromSse(sink.chunks));
    } else {
      try {
        response = text ? (JSON.parse(text) as unknown) : null;
      } catch {
        response = text;
      }
    }
    return { recordId: state.id, status: sink.status, response };
  }

  /** Replay runner for the traces API: `{record_id, response}`. */
  async run(
    request: unknown,
    opts: { replayOf: string; sessionId: string | null },
  ): Promise<{ recordId: string; response: unknown }> {
    const r = await this.call(request, { sessionId: opts.sessionId, replayOf: opts.replayOf });
    return { recordId: r.recordId, response: r.response };
  }

  /**
   * Describes one image with a vision model, as a call of its own in the parent's session
   * (`sessionOf`). Fails with a GatewayError whose status fits the failure (see
   * `descriptionFailureStatus`) and whose message is the vision call's reason.
   */
  async describeImage(
    model: string,
    prompt: string,
    imageUrl: string,
    sessionId: string | null,
    parentId: string,
  ): Promise<string> {
    const body = {
      model,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: prompt },
            { type: 'image_url', image_url: { url: imageUrl } },
          ],
        },
      ],
    };
    const r = await this.call(body, {
      sessionId,
      replayOf: null,
      metadata: { image_description_for: parentId },
      sessionOf: parentId,
    });
    if (r.status >= 400) {
      const err = toOpenAIErrorBody(r.status, r.response, `the vision call answered ${r.status}`);
      throw new GatewayError(descriptionFailureStatus(r.status), err.error.message);
    }
    const content = (r.response as ChatCompletion).choices?.[0]?.message?.content;
    if (typeof content !== 'string' || content.trim() === '') {
      throw new GatewayError(502, 'the vision model gave no text');
    }
    return content;
  }
}

/**
 * The status a failed description gives the parent call: the upstream-failure statuses stay
 * (503 overloaded or rate-limited, 504 timed out); an image the vision model refused (400, 413,
 * 415, 422) is the caller's fault; anything else (no route, the gateway's own key refused, ...)
 * is a 502.
 */
export function descriptionFailureStatus(visionStatus: number): number {
  if (visionStatus === 503 || visionStatus === 504) return visionStatus;
  if ([400, 413, 415, 422].includes(visionStatus)) return 400;
  return 502;
}
