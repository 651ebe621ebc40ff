/**
 * Runs a /v1 call: access → route → transforms → adapter (or byte pass-through) → client,
 * then hands the CallRecord to the recorder. Plain class: the Nest module wires it.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError, UpstreamError, type OpenAIErrorBody } from '../common/errors';
import type {
  ChatCompletionChunk,
  ChatCompletionRequest,
  CompletionRequest,
  EmbeddingRequest,
} from '../common/openai.types';
import { upstreamErrorFrom } from '../common/upstream-response';
import type { ConfigService } from '../config/config.service';
import type { AccessControl, AccessGrant } from '../auth/access.interface';
import type { CallContext, ProviderAdapter } from '../providers/adapter.interface';
import type { PlannedTarget } from '../routing/planner';
import {
  applyRequestTransforms,
  createStreamPrefixer,
  hasImages,
  prefixCompletion,
  type ImageToTextService,
} from '../transforms';
import { AttemptLoop, ClientGoneError } from './attempt-loop';
import type { CallRecord, CallRecorder } from './call-record';
import { CallState } from './call-state';
import type { ClientSink } from './client-sink';
import {
  chunkDelivery,
  collect,
  jsonDelivery,
  OVERHEAD_HEADER,
  rawJsonDelivery,
  rawSseDelivery,
  TRACE_ID_HEADER,
  type Delivery,
} from './deliveries';
import {
  checkEndpointBody,
  metadataFrom,
  requireModel,
  requireObject,
  sessionIdFrom,
  type Endpoint,
} from './request-checks';
import { withIncludeUsage } from './raw-body';
import { usageOfCall } from './usage';

export interface IncomingCall {
  endpoint: Endpoint;
  body: unknown;
  /** The body's bytes as they arrived (socket calls only). */
  bytes?: Buffer;
  headers: IncomingHttpHeaders;
  /** performance.now() when the request arrived. */
  t0: number;
  sink: ClientSink;
  /** Calls the gateway makes itself skip client authentication. */
  internal?: {
    sessionId: string | null;
    replayOf: string | null;
    metadata: Record<string, unknown> | null;
    /** Id of the trace whose session this call joins (an image description's parent). */
    sessionOf?: string | null;
  };
}

export interface GatewayDeps {
  config: Pick<ConfigService, 'current'>;
  loop: AttemptLoop;
  access: AccessControl;
  recorder: CallRecorder;
  images: ImageToTextService;
  metrics?: {
    observe(rec: CallRecord): void;
    tokensOf(u: CallRecord['usage']): void;
    streamStarted(): void;
    streamEnded(): void;
  };
  /** Runs a chat call made by the gateway itself (image descriptions); returns the text. */
  describeImage?: (model: string, prompt: string, imageUrl: string, parent: CallState) => Promise<string>;
  onError?: (err: unknown) => void;
  /**
   * Removes known credentials from text that came back from an upstream (an error message may echo
   * the provider key): applied to error bodies, messages and attempts, on the error path only.
   */
  scrub?: (text: string) => string;
}

interface PreparedChat {
  req: ChatCompletionRequest;
  passthrough: boolean;
  prefix: string | undefined;
}

export class GatewayService {
  constructor(private readonly deps: GatewayDeps) {}

  async handle(call: IncomingCall): Promise<CallState> {
    const state = new CallState(call.endpoint, call.t0);
    try {
      const body = requireObject(call.body);
      state.request = body;
      if (call.bytes) state.requestBytes = call.bytes;
      state.model = requireModel(body);
      checkEndpointBody(call.endpoint, body);
      state.stream = body.stream === true;
      const opts = body.stream_options as { include_usage?: unknown } | undefined | null;
      state.wantUsage = state.stream && opts?.include_usage === true;
      let grant: AccessGrant;
      if (call.internal) {
        state.sessionId = call.internal.sessionId;
        state.replayOf = call.internal.replayOf;
        state.metadata = call.internal.metadata;
        state.sessionOf = call.internal.sessionOf ?? null;
        grant = { keyId: null, forwardToken: null };
      } else {
        state.sessionId = sessionIdFrom(call.headers);
        state.metadata = metadataFrom(call.headers);
        grant = await this.deps.access.admit({
          headers: call.headers,
          model: state.model,
          endpoint: call.endpoint,
        });
      }
      state.keyId = grant.keyId;
      call.sink.onClose(() => state.cancel());
      const delivery = await this.route(state, body, grant);
      if (state.stream && this.deps.metrics) {
        this.deps.metrics.streamStarted();
        try {
          await delivery(call.sink);
        } finally {
          this.deps.metrics.streamEnded();
        }
      } else {
        await delivery(call.sink);
      }
    } catch (err) {
      this.fail(state, call.sink, err);
    }
    this.finish(state);
    return state;
  }

  private route(state: CallState, body: Record<string, unknown>, grant: AccessGrant): Promise<Delivery> {
    const loaded = this.deps.config.current;
    switch (state.endpoint as Endpoint) {
      case '/v1/chat/completions':
        return this.deps.loop.run(state, loaded, grant.forwardToken, {
          prepare: (target, adapter) =>
            this.prepareChat(state, body as ChatCompletionRequest, target, adapter),
          send: (prepared, target, adapter, ctx) => this.sendChat(state, prepared, target, adapter, ctx),
        });
      case '/v1/completions':
        return this.deps.loop.run(state, loaded, grant.forwardToken, {
          prepare: () => undefined,
          send: (_p, target, adapter, ctx) => this.sendCompletions(state, body, target, adapter, ctx),
        });
      case '/v1/embeddings':
        return this.deps.loop.run(state, loaded, grant.forwardToken, {
          prepare: () => undefined,
          send: (_p, target, adapter, ctx) => this.sendEmbeddings(state, body, target, adapter, ctx),
        });
    }
  }

  /** Synchronous unless images must be described first (no promise for the common call). */
  private prepareChat(
    state: CallState,
    body: ChatCompletionRequest,
    target: PlannedTarget,
    adapter: ProviderAdapter,
  ): PreparedChat | Promise<PreparedChat> {
    const t = target.transforms;
    let req: ChatCompletionRequest =
      body.model === target.upstreamModel ? body : { ...body, model: target.upstreamModel };
    const prefix = t?.response_prefix;
    const passthrough =
      adapter.capabilities.passthrough && typeof adapter.passthrough === 'function' && !prefix;
    if (t) {
      req = applyRequestTransforms(
        req,
        t,
        adapter.capabilities.maxStop ? { maxStop: adapter.capabilities.maxStop } : {},
      );
      const i2t = t.image_to_text;
      const describe = this.deps.describeImage;
      if (i2t && !adapter.capabilities.vision && describe && hasImages(req)) {
        return this.deps.images
          .describeImages(req, i2t, (url: string, prompt: string) => describe(i2t.model, prompt, url, state))
          .then((described) => ({ req: described, passthrough, prefix }));
      }
    }
    return { req, passthrough, prefix };
  }

  /** Not async itself: a pass-through call's promise is the pass-through's own. */
  private sendChat(
    state: CallState,
    prepared: PreparedChat,
    target: PlannedTarget,
    adapter: ProviderAdapter,
    ctx: CallContext,
  ): Promise<Delivery> {
    if (prepared.passthrough && adapter.passthrough) {
      return this.passthrough(state, '/chat/completions', prepared.req, target, adapter, ctx);
    }
    return this.sendAdapted(state, prepared, adapter, ctx);
  }

  private async sendAdapted(
    state: CallState,
    prepared: PreparedChat,
    adapter: ProviderAdapter,
    ctx: CallContext,
  ): Promise<Delivery> {
    const { req, prefix } = prepared;
    if (!state.stream) {
      const completion = await adapter.chat({ ...req, stream: false }, ctx);
      return jsonDelivery(state, prefix ? prefixCompletion(completion, prefix) : completion);
    }
    const iterable = await adapter.streamChat(req, ctx);
    const it = iterable[Symbol.asyncIterator]();
    const first = await it.next();
    const map: ((c: ChatCompletionChunk) => ChatCompletionChunk) | null = prefix
      ? createStreamPrefixer(prefix)
      : null;
    return chunkDelivery(state, first, it, map);
  }

  /**
   * Sends an OpenAI-format body and forwards the reply's bytes untouched. Streams always ask the
   * upstream for usage; the usage chunk is held back from a client that did not ask.
   */
  private async passthrough(
    state: CallState,
    path: '/chat/completions' | '/completions',
    req: { stream_options?: object | null },
    target: PlannedTarget,
    adapter: ProviderAdapter,
    ctx: CallContext,
  ): Promise<Delivery> {
    if (!adapter.passthrough) throw new Error(`adapter ${adapter.type} has no pass-through`);
    const addUsage = state.stream && !state.wantUsage;
    const bytes = this.bodyBytes(state, req, addUsage);
    let body: Buffer | string;
    if (bytes) {
      // The trace keeps the bytes sent (parsed later by the trace worker).
      state.upstreamRequest = bytes === state.requestBytes ? req : bytes;
      body = bytes;
    } else {
      const upstreamBody = addUsage
        ? { ...req, stream_options: { ...(req.stream_options ?? {}), include_usage: true } }
        : req;
      state.upstreamRequest = upstreamBody;
      body = JSON.stringify(upstreamBody);
    }
    const res = await adapter.passthrough({ path, body, model: target.upstreamModel }, ctx);
    if (res.status >= 300) throw await upstreamErrorFrom(res, target.provider.id);
    if (!state.stream) return rawJsonDelivery(state, await collect(res.body));
    const it = (res.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    return rawSseDelivery(state, await it.next(), it);
  }

  /**
   * The client's own bytes when the body goes upstream unchanged (no transform, same model), with
   * `include_usage` added in place when the gateway asks for it; null when it must be serialized.
   */
  private bodyBytes(state: CallState, req: object, addUsage: boolean): Buffer | null {
    const raw = state.requestBytes;
    if (!raw || req !== state.request) return null;
    if (!addUsage) return raw;
    return 'stream_options' in req ? null : withIncludeUsage(raw);
  }

  private async sendCompletions(
    state: CallState,
    body: Record<string, unknown>,
    target: PlannedTarget,
    adapter: ProviderAdapter,
    ctx: CallContext,
  ): Promise<Delivery> {
    const req = (body.model === target.upstreamModel
      ? body
      : { ...body, model: target.upstreamModel }) as unknown as CompletionRequest;
    if (adapter.capabilities.passthrough && adapter.passthrough) {
      return this.passthrough(state, '/completions', req, target, adapter, ctx);
    }
    if (!adapter.completions) {
      throw GatewayError.badRequest(
        `Provider \`${target.provider.id}\` does not support /v1/completions.`,
        'model',
      );
    }
    if (state.stream) {
      throw GatewayError.badRequest(
        `Provider \`${target.provider.id}\` does not support streaming on /v1/completions.`,
        'stream',
      );
    }
    return jsonDelivery(state, await adapter.completions(req, ctx));
  }

  private async sendEmbeddings(
    state: CallState,
    body: Record<string, unknown>,
    target: PlannedTarget,
    adapter: ProviderAdapter,
    ctx: CallContext,
  ): Promise<Delivery> {
    const req = (body.model === target.upstreamModel
      ? body
      : { ...body, model: target.upstreamModel }) as unknown as EmbeddingRequest;
    if (adapter.capabilities.passthrough && adapter.passthrough) {
      state.upstreamRequest = req;
      const res = await adapter.passthrough(
        {
          path: '/embeddings',
          body: this.bodyBytes(state, req, false) ?? JSON.stringify(req),
          model: target.upstreamModel,
        },
        ctx,
      );
      if (res.status >= 300) throw await upstreamErrorFrom(res, target.provider.id);
      return rawJsonDelivery(state, await collect(res.body));
    }
    if (!adapter.embeddings) {
      throw GatewayError.badRequest(
        `Provider \`${target.provider.id}\` does not support /v1/embeddings.`,
        'model',
      );
    }
    return jsonDelivery(state, await adapter.embeddings(req, ctx));
  }

  /** Answers an error in OpenAI's shape; mid-stream, as a final SSE error event. */
  private fail(state: CallState, sink: ClientSink, err: unknown): void {
    if (err instanceof ClientGoneError || state.cancelled) {
      state.cancelled = true;
      state.error = 'client disconnected';
      return;
    }
    const answer = errorResponse(err);
    const { status, headers } = answer;
    const body = this.scrubbed(answer.body);
    if (!(err instanceof GatewayError) && !(err instanceof UpstreamError)) this.deps.onError?.(err);
    state.status = 'error';
    state.httpStatus = sink.headersSent ? 200 : status;
    state.error = body.error.message;
    if (state.response.kind === 'none') state.response = { kind: 'json', body };
    if (sink.headersSent) {
      sink.end(`data: ${JSON.stringify(body)}\n\n`);
      return;
    }
    sink.writeHead(status, {
      'content-type': 'application/json',
      [OVERHEAD_HEADER]: state.markOverhead(),
      [TRACE_ID_HEADER]: state.id,
      ...headers,
    });
    sink.end(JSON.stringify(body));
  }

  /** An error body without the credentials an upstream may have echoed into it. */
  private scrubbed(body: OpenAIErrorBody): OpenAIErrorBody {
    const scrub = this.deps.scrub;
    if (!scrub) return body;
    const text = JSON.stringify(body);
    const clean = scrub(text);
    return clean === text ? body : (JSON.parse(clean) as OpenAIErrorBody);
  }

  private finish(state: CallState): void {
    const scrub = this.deps.scrub;
    if (scrub && (state.status === 'error' || state.attempts.some((a) => a.error !== null))) {
      if (state.error !== null) state.error = scrub(state.error);
      for (const a of state.attempts) if (a.error !== null) a.error = scrub(a.error);
    }
    try {
      if (state.status !== 'error') {
        const usage = usageOfCall(state);
        state.usage = usage;
        if (usage && state.keyId !== null) this.deps.access.settle(state.keyId, usage);
      }
      const rec = state.toRecord();
      this.deps.metrics?.observe(rec);
      if (rec.usage) this.deps.metrics?.tokensOf(rec.usage);
      this.deps.recorder.record(rec);
    } catch (err) {
      this.deps.onError?.(err);
    }
  }
}

export function errorResponse(err: unknown): {
  status: number;
  body: OpenAIErrorBody;
  headers: Record<string, string>;
} {
  if (err instanceof GatewayError) return { status: err.status, body: err.toBody(), headers: err.headers };
  if (err instanceof UpstreamError) {
    const status = err.status ?? 502;
    const body = err.body ?? {
      error: { message: err.message, type: 'api_error', param: null, code: 'upstream_error' },
    };
    return { status, body, headers: err.headers };
  }
  return {
    status: 500,
    body: {
      error: { message: 'Internal gateway error.', type: 'api_error', param: null, code: 'internal_error' },
    },
    headers: {},
  };
}
