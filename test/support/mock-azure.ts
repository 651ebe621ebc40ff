/**
 * An Azure OpenAI mock on node:http, written from Azure OpenAI's public REST reference and its
 * content-filtering and v1-API guides, faithful enough for the official `AzureOpenAI` client of
 * the `openai` package (deployments style) and the plain `OpenAI` client (v1 style).
 *
 * Azure speaks OpenAI's wire format, so the answers themselves come from an in-process OpenAI mock
 * (mock-openai.ts) this one sits in front of; what is Azure's own is done here:
 * - paths: `POST /openai/deployments/{deployment}/{chat/completions|completions|embeddings}`
 *   with a required, known `api-version` query (missing or unknown → 404 "Resource not found"),
 *   `GET /openai/models?api-version=…`; the v1 style `POST /openai/v1/{…}` names the deployment
 *   in the body's `model`, `GET /openai/v1/models`, and takes no api-version;
 * - auth: the `api-key` header (v1 also takes `Authorization: Bearer <key>`); missing or wrong →
 *   401 with Azure's `{"error":{"code":"401","message":…}}`;
 * - deployments: a deployment name maps to a model; an unknown one → 404 DeploymentNotFound; the
 *   answer's `model` is the deployment's model, as Azure reports it; `GET …/models` lists the
 *   models the resource can use (Azure's shape: `created_at`, `status`, `capabilities`), not the
 *   deployments;
 * - content filtering: every answer carries `prompt_filter_results` and per-choice
 *   `content_filter_results` (a stream opens with a choice-less annotation event); a prompt holding
 *   `PROMPT_FILTER_TRIGGER` is refused with 400 `content_filter` and an `innererror` naming
 *   ResponsibleAIPolicyViolation and the filtered category; a prompt holding
 *   `OUTPUT_FILTER_TRIGGER` has its output cut with `finish_reason: content_filter` (non-stream:
 *   no content; stream: the pieces before the cut, then the filtered finish);
 * - errors: `failNext(status)` answers the next request with Azure's body for that status
 *   (429 with `retry-after` and `retry-after-ms`); `resetNextStream()` cuts the next stream's
 *   connection after its first events.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startMockOpenAI, type MockOpenAI } from './mock-openai';
import type { MockUpstream, RecordedRequest } from './mock-upstream';

export const MOCK_AZURE_KEY = 'test-azure-key-0123456789';
/** A prompt holding this is refused by the input filter (400 content_filter). */
export const PROMPT_FILTER_TRIGGER = 'forbidden-prompt-topic';
/** A prompt holding this has its answer cut by the output filter (finish_reason content_filter). */
export const OUTPUT_FILTER_TRIGGER = 'forbidden-output-topic';
/** GA and preview data-plane versions the mock accepts on the deployments path. */
export const AZURE_API_VERSIONS = ['2024-06-01', '2024-10-21', '2024-12-01-preview', '2025-04-01-preview'];
export const MOCK_AZURE_DEPLOYMENTS: Record<string, string> = {
  'gpt-4o-prod': 'gpt-4o-2024-08-06',
  'gpt-4o-mini': 'gpt-4o-mini-2024-07-18',
  'o4-mini': 'o4-mini-2025-04-16',
  'embed-small': 'text-embedding-3-small',
};

export interface MockAzure extends MockUpstream {
  /** The resource endpoint (`https://<resource>.openai.azure.com` in real life). */
  readonly endpoint: string;
  /** The next request answers with Azure's error body for this status. */
  failNext(status: number): void;
  /** The next stream is cut (connection reset) after its first few events. */
  resetNextStream(): void;
}

type Json = Record<string, unknown>;

const CATEGORIES = ['hate', 'self_harm', 'sexual', 'violence'] as const;

function safeResults(): Json {
  const out: Json = {};
  for (const c of CATEGORIES) out[c] = { filtered: false, severity: 'safe' };
  return out;
}

function violenceResults(): Json {
  return { ...safeResults(), violence: { filtered: true, severity: 'high' } };
}

function promptFilterResults(): Json[] {
  return [
    {
      prompt_index: 0,
      content_filter_results: { ...safeResults(), jailbreak: { filtered: false, detected: false } },
    },
  ];
}

function azureError(status: number, apiVersion: string): { body: Json; headers: Record<string, string> } {
  switch (status) {
    case 401:
      return {
        body: {
          error: {
            code: '401',
            message:
              'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
          },
        },
        headers: {},
      };
    case 404:
      return { body: { error: { code: '404', message: 'Resource not found' } }, headers: {} };
    case 429:
      return {
        body: {
          error: {
            code: '429',
            message: `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version ${apiVersion || 'v1'} have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 2 seconds.`,
          },
        },
        headers: { 'retry-after': '2', 'retry-after-ms': '2000' },
      };
    case 500:
      return {
        body: {
          error: {
            message: 'The server had an error while processing your request. Sorry about that!',
            type: 'server_error',
            param: null,
            code: null,
          },
        },
        headers: {},
      };
    case 503:
      return {
        body: {
          error: {
            code: 'ServiceUnavailable',
            message: 'The service is temporarily unable to process your request. Please try again later.',
          },
        },
        headers: {},
      };
    default:
      return { body: { error: { code: String(status), message: `Upstream error ${status}.` } }, headers: {} };
  }
}

function contentFilterError(): Json {
  return {
    error: {
      message:
        "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
      type: null,
      param: 'prompt',
      code: 'content_filter',
      status: 400,
      innererror: { code: 'ResponsibleAIPolicyViolation', content_filter_result: violenceResults() },
    },
  };
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    'apim-request-id': `apim-${Date.now().toString(36)}`,
    ...headers,
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function promptText(body: Json): string {
  const messages = Array.isArray(body.messages) ? (body.messages as Json[]) : [];
  return messages.map((m) => JSON.stringify(m?.content ?? '')).join('\n') + JSON.stringify(body.prompt ?? '');
}

/** Azure's annotations on a non-stream chat answer; the output filter empties a filtered choice. */
function annotateCompletion(answer: Json, filterOutput: boolean): Json {
  const choices = Array.isArray(answer.choices) ? (answer.choices as Json[]) : [];
  return {
    ...answer,
    prompt_filter_results: promptFilterResults(),
    choices: choices.map((c) =>
      filterOutput
        ? {
            ...c,
            message: { role: 'assistant', content: null, refusal: null },
            finish_reason: 'content_filter',
            content_filter_results: violenceResults(),
          }
        : { ...c, content_filter_results: safeResults() },
    ),
  };
}

/** Azure's stream: an annotation event first, per-choice annotations, the output filter's cut. */
function annotateStream(sse: string, filterOutput: boolean): string[] {
  const events = sse.split('\n\n').filter((e) => e.startsWith('data: '));
  const out: string[] = [
    `data: ${JSON.stringify({ choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: promptFilterResults() })}\n\n`,
  ];
  let contentChunks = 0;
  let cut = false;
  for (const e of events) {
    const data = e.slice('data: '.length);
    if (data === '[DONE]') {
      out.push('data: [DONE]\n\n');
      continue;
    }
    const chunk = JSON.parse(data) as Json;
    delete chunk.obfuscation;
    delete chunk.service_tier;
    const choices = (chunk.choices as Json[] | undefined) ?? [];
    if (choices.length === 0) {
      out.push(`data: ${JSON.stringify(chunk)}\n\n`);
      continue;
    }
    if (cut) continue;
    const choice = choices[0] as Json;
    const delta = (choice.delta ?? {}) as Json;
    const hasOutput = typeof delta.content === 'string' && delta.content.length > 0;
    if (filterOutput && hasOutput && ++contentChunks > 1) {
      // The filter flags the buffered text: that piece is withheld and the choice ends here.
      cut = true;
      out.push(
        `data: ${JSON.stringify({ ...chunk, choices: [{ index: choice.index, delta: {}, finish_reason: 'content_filter', logprobs: null, content_filter_results: violenceResults() }] })}\n\n`,
      );
      continue;
    }
    const annotated = hasOutput
      ? { ...choice, content_filter_results: safeResults() }
      : { ...choice, content_filter_results: {} };
    out.push(`data: ${JSON.stringify({ ...chunk, choices: [annotated] })}\n\n`);
  }
  return out;
}

class Mock {
  readonly requests: RecordedRequest[] = [];
  private readonly failures: number[] = [];

  constructor(private readonly inner: MockOpenAI) {}

  private resets = 0;

  failNext(status: number): void {
    this.failures.push(status);
  }

  resetNextStream(): void {
    this.resets++;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    let body: unknown = null;
    try {
      body = raw ? (JSON.parse(raw) as unknown) : null;
    } catch {
      body = raw;
    }
    const url = new URL(req.url ?? '/', 'http://azure');
    this.requests.push({
      method: req.method ?? 'GET',
      path: url.pathname + url.search,
      headers: req.headers,
      body,
    });
    const apiVersion = url.searchParams.get('api-version') ?? '';
    const v1 = url.pathname.startsWith('/openai/v1/');

    if (!v1) {
      if (!url.pathname.startsWith('/openai/') || !AZURE_API_VERSIONS.includes(apiVersion)) {
        return this.fail(res, 404, apiVersion);
      }
    }
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const key = req.headers['api-key'] ?? (v1 ? bearer : undefined);
    if (key !== MOCK_AZURE_KEY) return this.fail(res, 401, apiVersion);
    const failure = this.failures.shift();
    if (failure !== undefined) return this.fail(res, failure, apiVersion);

    if (req.method === 'GET' && (url.pathname === '/openai/models' || url.pathname === '/openai/v1/models')) {
      // The models the resource can use (not its deployments), in Azure's Model shape.
      return sendJson(res, 200, {
        object: 'list',
        data: [...new Set(Object.values(MOCK_AZURE_DEPLOYMENTS))].map((id) => {
          const embeddings = id.startsWith('text-embedding');
          return {
            id,
            object: 'model',
            status: 'succeeded',
            created_at: 1_722_902_400,
            lifecycle_status: 'generally-available',
            capabilities: {
              fine_tune: false,
              inference: true,
              completion: false,
              chat_completion: !embeddings,
              embeddings,
            },
            deprecation: { inference: 1_798_761_600 },
          };
        }),
      });
    }

    let deployment: string | undefined;
    let operation: string | undefined;
    const deployed = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|completions|embeddings)$/.exec(
      url.pathname,
    );
    if (deployed) {
      deployment = decodeURIComponent(deployed[1] ?? '');
      operation = deployed[2];
    } else if (v1) {
      const m = /^\/openai\/v1\/(chat\/completions|completions|embeddings)$/.exec(url.pathname);
      operation = m?.[1];
      const model = body && typeof body === 'object' ? (body as Json).model : undefined;
      deployment = typeof model === 'string' ? model : undefined;
    }
    if (req.method !== 'POST' || !operation) return this.fail(res, 404, apiVersion);
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      return sendJson(res, 400, {
        error: {
          code: 'BadRequest',
          message: 'The request body must be a JSON object.',
          param: null,
          type: null,
        },
      });
    }
    const model = deployment ? MOCK_AZURE_DEPLOYMENTS[deployment] : undefined;
    if (!model) {
      return sendJson(res, 404, {
        error: {
          code: 'DeploymentNotFound',
          message:
            'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.',
        },
      });
    }
    const request = body as Json;
    const prompt = promptText(request);
    if (operation !== 'embeddings' && prompt.includes(PROMPT_FILTER_TRIGGER)) {
      return sendJson(res, 400, contentFilterError());
    }
    const filterOutput = operation === 'chat/completions' && prompt.includes(OUTPUT_FILTER_TRIGGER);
    const upstream = await fetch(`${this.inner.baseUrl}/${operation}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...request, model }),
    });
    const text = await upstream.text();
    if (upstream.status !== 200) {
      return sendJson(res, upstream.status, JSON.parse(text) as unknown);
    }
    if (operation !== 'chat/completions') return sendJson(res, 200, JSON.parse(text) as unknown);
    if (request.stream !== true) {
      return sendJson(res, 200, annotateCompletion(JSON.parse(text) as Json, filterOutput));
    }
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    const cutAfter = this.resets > 0 ? 3 : Infinity;
    if (this.resets > 0) this.resets--;
    let written = 0;
    for (const e of annotateStream(text, filterOutput)) {
      if (res.destroyed) return;
      if (written++ >= cutAfter) {
        res.socket?.destroy();
        return;
      }
      await new Promise<void>((r) => res.write(e, () => r()));
    }
    res.end();
  }

  private fail(res: ServerResponse, status: number, apiVersion: string): void {
    const e = azureError(status, apiVersion);
    sendJson(res, status, e.body, e.headers);
  }
}

export async function startMockAzure(): Promise<MockAzure> {
  const inner = await startMockOpenAI();
  const mock = new Mock(inner);
  const server = createServer((req, res) => {
    mock.handle(req, res).catch((err: unknown) => {
      if (!res.headersSent)
        sendJson(res, 500, { error: { code: 'InternalServerError', message: String(err) } });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    baseUrl: endpoint,
    requests: mock.requests,
    failNext: (status) => mock.failNext(status),
    resetNextStream: () => mock.resetNextStream(),
    close: async () => {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      await inner.close();
    },
  };
}
