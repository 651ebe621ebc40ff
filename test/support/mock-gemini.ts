/**
 * A Gemini API (generativelanguage v1beta) mock on node:http, faithful enough for the official
 * `@google/genai` SDK: generateContent, streamGenerateContent (`alt=sse` and JSON array),
 * embedContent, batchEmbedContents, models.list / models.get.
 *
 * Behaviour:
 * - checks `x-goog-api-key` (or `?key=`): missing → 403 PERMISSION_DENIED, wrong → 400 INVALID_ARGUMENT;
 * - validates the body like the real API: unknown fields (e.g. `additionalProperties` in a
 *   function's parameters schema) → 400 "Unknown name", empty contents, bad roles, empty parts,
 *   functionResponse parts that do not answer the preceding functionCall turn;
 * - replies with the last user text (plus a note per image part); when tools are given and the
 *   last turn is the user's, calls a function instead (args filled from its schema);
 *   after a functionResponse it answers `Result: <json>`;
 * - with `thinkingConfig.includeThoughts` it emits a thought part and a `thoughtSignature` (on the
 *   first functionCall part, else on the answer), and later requires every signature it sees to be
 *   one it issued, and every functionCall it signed to come back with its signature;
 * - errors: a queue (`failNext`) or a model name containing `error-400|429|500|503`;
 *   a model name containing `safety` ends with finishReason SAFETY, `blocked` blocks the prompt,
 *   `midstream-error` breaks a stream off after its first event with an error object;
 * - `maxOutputTokens` counts words (→ MAX_TOKENS), `stopSequences` cut the answer,
 *   `candidateCount` repeats the candidate, `responseMimeType: application/json` wraps the echo;
 * - implicit caching (2.5 models and later): a `systemInstruction` of at least 1024 tokens seen
 *   before for the same model is reported as `cachedContentTokenCount` (a token is a word here).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MockUpstream, RecordedRequest } from './mock-upstream';

export const MOCK_GEMINI_KEY = 'test-gemini-key';

export interface MockGemini extends MockUpstream {
  readonly apiKey: string;
  /** Signatures handed out, in order. */
  readonly issuedSignatures: string[];
  /** The next request answers with this error status (400, 429, 500, 503, …). */
  failNext(status: number, message?: string): void;
}

export const MOCK_GEMINI_MODELS = [
  { id: 'gemini-2.5-flash', methods: ['generateContent', 'countTokens'] },
  { id: 'gemini-2.5-pro', methods: ['generateContent', 'countTokens'] },
  { id: 'gemini-3-pro-preview', methods: ['generateContent', 'countTokens'] },
  { id: 'gemini-embedding-001', methods: ['embedContent'] },
];

type Json = Record<string, unknown>;

/** The smallest prompt implicit caching applies to (Gemini 2.5 Flash). */
const IMPLICIT_CACHE_MIN_TOKENS = 1024;

class ApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly status: string = statusName(code),
    readonly details: unknown[] = [],
  ) {
    super(message);
  }
}

function statusName(code: number): string {
  switch (code) {
    case 400:
      return 'INVALID_ARGUMENT';
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'PERMISSION_DENIED';
    case 404:
      return 'NOT_FOUND';
    case 429:
      return 'RESOURCE_EXHAUSTED';
    case 503:
      return 'UNAVAILABLE';
    case 504:
      return 'DEADLINE_EXCEEDED';
    default:
      return code >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION';
  }
}

function injectedError(code: number, message?: string): ApiError {
  if (code === 429) {
    return new ApiError(
      429,
      message ?? 'Resource has been exhausted (e.g. check quota).',
      'RESOURCE_EXHAUSTED',
      [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '7s' }],
    );
  }
  if (code === 503) return new ApiError(503, message ?? 'The model is overloaded. Please try again later.');
  if (code === 500) return new ApiError(500, message ?? 'An internal error has occurred. Please retry.');
  return new ApiError(code, message ?? 'Request contains an invalid argument.');
}

// ---------------------------------------------------------------------------------------------
// request validation (field names as the REST reference lists them)

const REQUEST_KEYS = [
  'contents',
  'systemInstruction',
  'tools',
  'toolConfig',
  'generationConfig',
  'safetySettings',
  'cachedContent',
  'model',
];
const CONTENT_KEYS = ['role', 'parts'];
const PART_KEYS = [
  'text',
  'thought',
  'thoughtSignature',
  'inlineData',
  'fileData',
  'functionCall',
  'functionResponse',
  'executableCode',
  'codeExecutionResult',
  'videoMetadata',
  'partMetadata',
];
const PART_DATA_KEYS = [
  'text',
  'inlineData',
  'fileData',
  'functionCall',
  'functionResponse',
  'executableCode',
  'codeExecutionResult',
];
const GENERATION_KEYS = [
  'stopSequences',
  'responseMimeType',
  'responseSchema',
  'responseJsonSchema',
  'responseModalities',
  'candidateCount',
  'maxOutputTokens',
  'temperature',
  'topP',
  'topK',
  'seed',
  'presencePenalty',
  'frequencyPenalty',
  'responseLogprobs',
  'logprobs',
  'thinkingConfig',
  'mediaResolution',
  'speechConfig',
];
const THINKING_KEYS = ['includeThoughts', 'thinkingBudget', 'thinkingLevel'];
const TOOL_KEYS = [
  'functionDeclarations',
  'googleSearch',
  'codeExecution',
  'urlContext',
  'googleSearchRetrieval',
];
const DECLARATION_KEYS = [
  'name',
  'description',
  'parameters',
  'parametersJsonSchema',
  'response',
  'behavior',
];
/**
 * The fields of Gemini's `Schema` object as the REST reference lists them. The adapter keeps its
 * own copy (gemini.request.ts `cleanSchema`) on purpose: were the mock to import it, a field the
 * adapter wrongly keeps would pass here too, and the mock would stop checking anything.
 */
const SCHEMA_KEYS = [
  'type',
  'format',
  'title',
  'description',
  'nullable',
  'enum',
  'maxItems',
  'minItems',
  'properties',
  'required',
  'minProperties',
  'maxProperties',
  'minLength',
  'maxLength',
  'pattern',
  'example',
  'anyOf',
  'propertyOrdering',
  'default',
  'items',
  'minimum',
  'maximum',
];

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function onlyKeys(obj: Json, allowed: readonly string[], at: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      throw new ApiError(
        400,
        `Invalid JSON payload received. Unknown name "${key}" at '${at}': Cannot find field.`,
      );
    }
  }
}

function checkSchema(schema: unknown, at: string): void {
  if (!isObject(schema)) throw new ApiError(400, `Invalid value at '${at}': a schema must be an object`);
  onlyKeys(schema, SCHEMA_KEYS, at);
  if (schema.type === 'object' || schema.type === 'OBJECT') {
    if (isObject(schema.properties) && Object.keys(schema.properties).length === 0) {
      throw new ApiError(
        400,
        `* GenerateContentRequest.${at}.properties: should be non-empty for OBJECT type`,
      );
    }
  }
  if (isObject(schema.properties)) {
    for (const [name, sub] of Object.entries(schema.properties))
      checkSchema(sub, `${at}.properties[${name}]`);
  }
  if (schema.items !== undefined) checkSchema(schema.items, `${at}.items`);
  if (Array.isArray(schema.anyOf)) schema.anyOf.forEach((s, i) => checkSchema(s, `${at}.any_of[${i}]`));
}

function checkContent(content: unknown, at: string): void {
  if (!isObject(content)) throw new ApiError(400, `Invalid value at '${at}': must be an object`);
  onlyKeys(content, CONTENT_KEYS, at);
  if (content.role !== undefined && content.role !== 'user' && content.role !== 'model') {
    throw new ApiError(400, `Please use a valid role: user, model.`);
  }
  if (!Array.isArray(content.parts) || content.parts.length === 0) {
    throw new ApiError(400, `* GenerateContentRequest.${at}.parts: contents.parts must not be empty.`);
  }
  content.parts.forEach((part, j) => {
    const pat = `${at}.parts[${j}]`;
    if (!isObject(part)) throw new ApiError(400, `Invalid value at '${pat}'`);
    onlyKeys(part, PART_KEYS, pat);
    const data = PART_DATA_KEYS.filter((k) => part[k] !== undefined);
    if (data.length !== 1) {
      throw new ApiError(
        400,
        `Invalid value at '${pat}': a part must hold exactly one of ${PART_DATA_KEYS.join(', ')}`,
      );
    }
    if (part.text !== undefined && typeof part.text !== 'string')
      throw new ApiError(400, `Invalid value at '${pat}.text'`);
    if (part.inlineData !== undefined) {
      const d = part.inlineData;
      if (!isObject(d) || typeof d.mimeType !== 'string' || typeof d.data !== 'string') {
        throw new ApiError(400, `Invalid value at '${pat}.inline_data'`);
      }
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(d.data)) {
        throw new ApiError(
          400,
          `Invalid value at '${pat}.inline_data.data' (TYPE_BYTES), Base64 decoding failed`,
        );
      }
    }
    if (
      part.fileData !== undefined &&
      (!isObject(part.fileData) || typeof part.fileData.fileUri !== 'string')
    ) {
      throw new ApiError(400, `Invalid value at '${pat}.file_data'`);
    }
    if (part.functionCall !== undefined) {
      const fc = part.functionCall;
      if (!isObject(fc) || typeof fc.name !== 'string' || (fc.args !== undefined && !isObject(fc.args))) {
        throw new ApiError(400, `Invalid value at '${pat}.function_call'`);
      }
    }
    if (part.functionResponse !== undefined) {
      const fr = part.functionResponse;
      if (!isObject(fr) || typeof fr.name !== 'string' || !isObject(fr.response)) {
        throw new ApiError(400, `Invalid value at '${pat}.function_response'`);
      }
    }
  });
}

interface Part {
  text?: string;
  thought?: boolean;
  thoughtSignature?: string;
  inlineData?: { mimeType: string; data: string };
  fileData?: { mimeType?: string; fileUri: string };
  functionCall?: { name: string; args?: Json };
  functionResponse?: { name: string; response: Json };
}
interface Content {
  role?: 'user' | 'model';
  parts: Part[];
}
interface GenerateRequest {
  contents: Content[];
  systemInstruction?: Content;
  tools?: Array<{ functionDeclarations?: Array<{ name: string; parameters?: Json }> }>;
  toolConfig?: { functionCallingConfig?: { mode?: string; allowedFunctionNames?: string[] } };
  generationConfig?: {
    stopSequences?: string[];
    responseMimeType?: string;
    candidateCount?: number;
    maxOutputTokens?: number;
    thinkingConfig?: { includeThoughts?: boolean };
  };
}

function validateGenerate(body: unknown): GenerateRequest {
  if (!isObject(body)) throw new ApiError(400, 'Invalid JSON payload received.');
  onlyKeys(body, REQUEST_KEYS, '');
  if (!Array.isArray(body.contents) || body.contents.length === 0) {
    throw new ApiError(400, '* GenerateContentRequest.contents: contents is not specified\n');
  }
  body.contents.forEach((c, i) => checkContent(c, `contents[${i}]`));
  if (body.systemInstruction !== undefined) checkContent(body.systemInstruction, 'system_instruction');
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) throw new ApiError(400, `Invalid value at 'tools'`);
    body.tools.forEach((tool, i) => {
      if (!isObject(tool)) throw new ApiError(400, `Invalid value at 'tools[${i}]'`);
      onlyKeys(tool, TOOL_KEYS, `tools[${i}]`);
      const decls = tool.functionDeclarations;
      if (decls === undefined) return;
      if (!Array.isArray(decls))
        throw new ApiError(400, `Invalid value at 'tools[${i}].function_declarations'`);
      decls.forEach((d, j) => {
        const at = `tools[${i}].function_declarations[${j}]`;
        if (!isObject(d) || typeof d.name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/.test(d.name)) {
          throw new ApiError(400, `* GenerateContentRequest.${at}.name: Invalid function name.`);
        }
        onlyKeys(d, DECLARATION_KEYS, at);
        if (d.parameters !== undefined) checkSchema(d.parameters, `${at}.parameters`);
      });
    });
  }
  if (body.generationConfig !== undefined) {
    if (!isObject(body.generationConfig)) throw new ApiError(400, `Invalid value at 'generation_config'`);
    onlyKeys(body.generationConfig, GENERATION_KEYS, 'generation_config');
    const stops = body.generationConfig.stopSequences;
    if (Array.isArray(stops) && stops.length > 5) {
      throw new ApiError(
        400,
        '* GenerateContentRequest.generation_config.stop_sequences: at most 5 stop sequences',
      );
    }
    const thinking = body.generationConfig.thinkingConfig;
    if (thinking !== undefined) {
      if (!isObject(thinking))
        throw new ApiError(400, `Invalid value at 'generation_config.thinking_config'`);
      onlyKeys(thinking, THINKING_KEYS, 'generation_config.thinking_config');
      if (thinking.thinkingBudget !== undefined && thinking.thinkingLevel !== undefined) {
        throw new ApiError(400, 'You can only set one of thinking budget and thinking level.');
      }
    }
  }
  const req = body as unknown as GenerateRequest;
  checkFunctionTurns(req.contents);
  return req;
}

/** A user turn of functionResponse parts must answer a model turn with as many functionCall parts. */
function checkFunctionTurns(contents: Content[]): void {
  contents.forEach((c, i) => {
    const responses = c.parts.filter((p) => p.functionResponse).length;
    if (responses === 0) return;
    const prev = contents[i - 1];
    const calls = prev && prev.role === 'model' ? prev.parts.filter((p) => p.functionCall).length : 0;
    if (calls !== responses) {
      throw new ApiError(
        400,
        'Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.',
      );
    }
  });
}

// ---------------------------------------------------------------------------------------------
// the mock's answers

function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w.length > 0);
}

function countWords(contents: Content[]): number {
  let n = 0;
  for (const c of contents) {
    for (const p of c.parts) {
      if (p.text) n += words(p.text).length;
      if (p.functionCall) n += 1 + words(JSON.stringify(p.functionCall.args ?? {})).length;
      if (p.functionResponse) n += 1 + words(JSON.stringify(p.functionResponse.response)).length;
      if (p.inlineData || p.fileData) n += 258;
    }
  }
  return n;
}

function partNote(p: Part): string | undefined {
  if (p.inlineData)
    return `[image ${p.inlineData.mimeType}, ${Buffer.from(p.inlineData.data, 'base64').length} bytes]`;
  if (p.fileData) return `[file ${p.fileData.mimeType ?? 'unknown'} ${p.fileData.fileUri}]`;
  return undefined;
}

function argsFor(schema: Json | undefined, text: string): Json {
  const args: Json = {};
  const props = isObject(schema?.properties) ? schema.properties : {};
  for (const [name, sub] of Object.entries(props)) {
    const type = isObject(sub) && typeof sub.type === 'string' ? sub.type.toLowerCase() : 'string';
    if (type === 'string') args[name] = text;
    else if (type === 'number' || type === 'integer') args[name] = 42;
    else if (type === 'boolean') args[name] = true;
  }
  return args;
}

interface Planned {
  thought?: string;
  text?: string;
  call?: { name: string; args: Json };
  finishReason: string;
  signature?: string;
}

class MockGeminiServer implements MockGemini {
  baseUrl = '';
  readonly requests: RecordedRequest[] = [];
  readonly issuedSignatures: string[] = [];
  private readonly failures: ApiError[] = [];
  /** functionCall (name + args) → the signature issued with it. */
  private readonly signedCalls = new Map<string, string>();
  private readonly cached = new Set<string>();
  private readonly server = createServer((req, res) => {
    this.handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 500, message: String(err), status: 'INTERNAL' } }));
    });
  });

  constructor(readonly apiKey: string) {}

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.baseUrl = `http://127.0.0.1:${port}`;
  }

  failNext(status: number, message?: string): void {
    this.failures.push(injectedError(status, message));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown = null;
    let badJson = false;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
        badJson = true;
      }
    }
    const path = req.url ?? '/';
    this.requests.push({ method: req.method ?? 'GET', path, headers: req.headers, body });
    try {
      const url = new URL(path, 'http://mock');
      this.authenticate(req, url);
      const failure = this.failures.shift();
      if (failure) throw failure;
      if (badJson) throw new ApiError(400, 'Invalid JSON payload received.');
      await this.route(req.method ?? 'GET', url, body, res);
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(500, String(err));
      if (res.headersSent) {
        res.end();
        return;
      }
      res.writeHead(e.code, { 'content-type': 'application/json; charset=UTF-8' });
      res.end(
        JSON.stringify(
          { error: { code: e.code, message: e.message, status: e.status, details: e.details } },
          null,
          2,
        ),
      );
    }
  }

  private authenticate(req: IncomingMessage, url: URL): void {
    const header = req.headers['x-goog-api-key'];
    const key = typeof header === 'string' ? header : url.searchParams.get('key');
    if (!key) {
      throw new ApiError(
        403,
        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
      );
    }
    if (key !== this.apiKey) throw new ApiError(400, 'API key not valid. Please pass a valid API key.');
  }

  private async route(method: string, url: URL, body: unknown, res: ServerResponse): Promise<void> {
    const m = /^\/v1beta\/(models|tunedModels)(?:\/([^:/]+)(?::([A-Za-z]+))?)?$/.exec(url.pathname);
    if (!m) throw new ApiError(404, `Method not found: ${url.pathname}`);
    const [, , model, action] = m;
    if (method === 'GET' && model === undefined) return this.list(url, res);
    if (method === 'GET' && model !== undefined && action === undefined) return this.getModel(model, res);
    if (method !== 'POST' || model === undefined || action === undefined) {
      throw new ApiError(404, `Method not found: ${method} ${url.pathname}`);
    }
    const injected = /error-(\d{3})/.exec(model);
    if (injected) throw injectedError(Number(injected[1]));
    switch (action) {
      case 'generateContent':
        return this.generate(model, body, res, null);
      case 'streamGenerateContent':
        return this.generate(model, body, res, url.searchParams.get('alt') === 'sse' ? 'sse' : 'json');
      case 'embedContent':
        return this.embed(model, body, res, false);
      case 'batchEmbedContents':
        return this.embed(model, body, res, true);
      default:
        throw new ApiError(404, `Method not found: ${action}`);
    }
  }

  private list(url: URL, res: ServerResponse): void {
    const size = Math.max(1, Number(url.searchParams.get('pageSize') ?? 50) || 50);
    const start = Number(url.searchParams.get('pageToken') ?? 0) || 0;
    const page = MOCK_GEMINI_MODELS.slice(start, start + size);
    const next = start + size < MOCK_GEMINI_MODELS.length ? String(start + size) : undefined;
    sendJson(res, { models: page.map(modelInfo), ...(next ? { nextPageToken: next } : {}) });
  }

  private getModel(model: string, res: ServerResponse): void {
    const found = MOCK_GEMINI_MODELS.find((m) => m.id === model);
    if (!found) throw new ApiError(404, `models/${model} is not found for API version v1beta`);
    sendJson(res, modelInfo(found));
  }

  private checkSignatures(req: GenerateRequest): void {
    for (const c of req.contents) {
      for (const p of c.parts) {
        if (p.thoughtSignature !== undefined && !this.issuedSignatures.includes(p.thoughtSignature)) {
          throw new ApiError(400, 'Corrupted thought signature.');
        }
        if (c.role === 'model' && p.functionCall) {
          const expected = this.signedCalls.get(callKey(p.functionCall.name, p.functionCall.args ?? {}));
          if (expected !== undefined && p.thoughtSignature !== expected) {
            throw new ApiError(
              400,
              `Function call \`${p.functionCall.name}\` is missing a \`thought_signature\`. Pass back the thought signature it was issued with.`,
            );
          }
        }
      }
    }
  }

  private plan(model: string, req: GenerateRequest): Planned {
    if (model.includes('safety')) return { finishReason: 'SAFETY' };
    const last = req.contents[req.contents.length - 1] as Content;
    const lastIsUser = (last.role ?? 'user') === 'user';
    const thinking = req.generationConfig?.thinkingConfig?.includeThoughts === true;
    const userText = last.parts
      .map((p) => p.text)
      .filter((t): t is string => typeof t === 'string')
      .join(' ');
    const planned: Planned = { finishReason: 'STOP' };
    if (thinking) planned.thought = `Thinking about: ${userText.slice(0, 40) || 'the conversation'}`;

    const responses = last.parts.filter((p) => p.functionResponse);
    const decls = (req.tools ?? []).flatMap((t) => t.functionDeclarations ?? []);
    const calling = req.toolConfig?.functionCallingConfig;
    const mode = (calling?.mode ?? 'AUTO').toUpperCase();
    if (lastIsUser && responses.length === 0 && decls.length > 0 && mode !== 'NONE') {
      const allowed = calling?.allowedFunctionNames;
      const decl = (allowed?.length ? decls.find((d) => allowed.includes(d.name)) : decls[0]) ?? decls[0];
      if (decl) {
        planned.call = { name: decl.name, args: argsFor(decl.parameters, userText) };
        return planned;
      }
    }
    let text: string;
    if (responses.length > 0) {
      text = `Result: ${responses.map((p) => JSON.stringify(p.functionResponse?.response)).join(' ')}`;
    } else {
      const notes = last.parts.map(partNote).filter((n): n is string => n !== undefined);
      text = [userText, ...notes].filter((s) => s.length > 0).join(' ');
    }
    for (const stop of req.generationConfig?.stopSequences ?? []) {
      const at = text.indexOf(stop);
      if (at >= 0) text = text.slice(0, at);
    }
    const max = req.generationConfig?.maxOutputTokens;
    if (typeof max === 'number' && words(text).length > max) {
      text = words(text).slice(0, max).join(' ');
      planned.finishReason = 'MAX_TOKENS';
    }
    if (req.generationConfig?.responseMimeType === 'application/json') text = JSON.stringify({ echo: text });
    planned.text = text;
    return planned;
  }

  /** Implicit caching of a long system instruction: its token count once it was seen before. */
  private implicitCache(model: string, system: Content | undefined): number {
    if (!system) return 0;
    const n = countWords([system]);
    if (n < IMPLICIT_CACHE_MIN_TOKENS) return 0;
    const key = createHash('sha256')
      .update(`${model}\u0000${JSON.stringify(system)}`)
      .digest('base64');
    if (this.cached.has(key)) return n;
    this.cached.add(key);
    return 0;
  }

  private sign(planned: Planned): void {
    if (planned.thought === undefined) return;
    const sig = randomBytes(24).toString('base64');
    this.issuedSignatures.push(sig);
    planned.signature = sig;
    if (planned.call) this.signedCalls.set(callKey(planned.call.name, planned.call.args), sig);
  }

  private generate(model: string, body: unknown, res: ServerResponse, stream: 'sse' | 'json' | null): void {
    const req = validateGenerate(body);
    this.checkSignatures(req);
    const blocked = model.includes('blocked');
    const planned = this.plan(model, req);
    this.sign(planned);
    const promptTokens =
      countWords(req.contents) + (req.systemInstruction ? countWords([req.systemInstruction]) : 0);
    const cachedTokens = this.implicitCache(model, req.systemInstruction);
    const thoughtTokens = planned.thought ? words(planned.thought).length : 0;
    const answerTokens = planned.call
      ? 1 + words(JSON.stringify(planned.call.args)).length
      : words(planned.text ?? '').length;
    const usage = (final: boolean): Json => ({
      promptTokenCount: promptTokens,
      ...(final || !blocked ? { candidatesTokenCount: final ? answerTokens : 0 } : {}),
      totalTokenCount: promptTokens + (final ? answerTokens + thoughtTokens : 0),
      ...(thoughtTokens > 0 && final ? { thoughtsTokenCount: thoughtTokens } : {}),
      ...(cachedTokens > 0 ? { cachedContentTokenCount: cachedTokens } : {}),
      promptTokensDetails: [{ modality: 'TEXT', tokenCount: promptTokens }],
    });
    const responseId = randomBytes(9).toString('base64url');
    const envelope = { modelVersion: model, responseId };
    const count = Math.max(1, req.generationConfig?.candidateCount ?? 1);

    if (blocked) {
      const blockedRes = {
        promptFeedback: { blockReason: 'SAFETY', safetyRatings: [] },
        usageMetadata: { promptTokenCount: promptTokens, totalTokenCount: promptTokens },
        ...envelope,
      };
      if (stream === 'sse') return sendSse(res, [blockedRes]);
      if (stream === 'json') return sendJson(res, [blockedRes]);
      return sendJson(res, blockedRes);
    }

    const candidates = (parts: Part[], finish: string | undefined): Json[] =>
      Array.from({ length: count }, (_, index) => ({
        ...(parts.length > 0 || finish === undefined ? { content: { parts, role: 'model' } } : {}),
        ...(finish ? { finishReason: finish } : {}),
        index,
      }));

    if (stream === null) {
      const parts: Part[] = [];
      if (planned.thought) parts.push({ text: planned.thought, thought: true });
      if (planned.call) parts.push({ functionCall: planned.call, ...sig(planned.signature) });
      else if (planned.text !== undefined) parts.push({ text: planned.text, ...sig(planned.signature) });
      return sendJson(res, {
        candidates: candidates(parts, planned.finishReason),
        usageMetadata: usage(true),
        ...envelope,
      });
    }

    // Streamed: the thought first, the answer in pieces of a few words, the finish with the usage.
    const events: Json[] = [];
    if (planned.thought) {
      events.push({
        candidates: candidates([{ text: planned.thought, thought: true }], undefined),
        usageMetadata: usage(false),
        ...envelope,
      });
    }
    if (planned.call) {
      events.push({
        candidates: candidates(
          [{ functionCall: planned.call, ...sig(planned.signature) }],
          planned.finishReason,
        ),
        usageMetadata: usage(true),
        ...envelope,
      });
    } else {
      const pieces = splitText(planned.text ?? '');
      pieces.forEach((piece, k) => {
        const lastPiece = k === pieces.length - 1;
        const parts: Part[] = piece.length > 0 ? [{ text: piece }] : [];
        // As the real API does with thinking, the signature arrives on a part of its own at the end.
        if (lastPiece && planned.signature) parts.push({ text: '', thoughtSignature: planned.signature });
        events.push({
          candidates: candidates(parts, lastPiece ? planned.finishReason : undefined),
          usageMetadata: usage(lastPiece),
          ...envelope,
        });
      });
    }
    if (stream === 'sse' && model.includes('midstream-error')) {
      // The stream breaks off after its first event with an error object, as the API ends a
      // stream that fails once it has begun.
      const failure = {
        error: {
          code: 503,
          message: 'The model is overloaded. Please try again later.',
          status: 'UNAVAILABLE',
        },
      };
      return sendSse(res, [...events.slice(0, 1), failure]);
    }
    if (stream === 'sse') return sendSse(res, events);
    return sendJson(res, events);
  }

  private embed(model: string, body: unknown, res: ServerResponse, batch: boolean): void {
    if (!isObject(body)) throw new ApiError(400, 'Invalid JSON payload received.');
    const one = (r: unknown, at: string): number[] => {
      if (!isObject(r)) throw new ApiError(400, `Invalid value at '${at}'`);
      onlyKeys(r, ['model', 'content', 'taskType', 'title', 'outputDimensionality'], at);
      if (batch && r.model !== `models/${model}`) {
        throw new ApiError(400, `* BatchEmbedContentsRequest.model: unexpected model name format`);
      }
      checkContent(r.content, `${at}.content`);
      const text = ((r.content as Content).parts ?? []).map((p) => p.text ?? '').join(' ');
      const dims = typeof r.outputDimensionality === 'number' ? r.outputDimensionality : 8;
      return embedding(text, dims);
    };
    if (batch) {
      if (!Array.isArray(body.requests) || body.requests.length === 0) {
        throw new ApiError(400, '* BatchEmbedContentsRequest.requests: at least one request is required');
      }
      const requests = body.requests as unknown[];
      return sendJson(res, { embeddings: requests.map((r, i) => ({ values: one(r, `requests[${i}]`) })) });
    }
    return sendJson(res, { embedding: { values: one(body, '') } });
  }
}

function sig(signature: string | undefined): { thoughtSignature?: string } {
  return signature ? { thoughtSignature: signature } : {};
}

function callKey(name: string, args: Json): string {
  return `${name}:${JSON.stringify(args)}`;
}

function splitText(text: string): string[] {
  const tokens = text.split(/(?<=\s)/);
  const pieces: string[] = [];
  for (let i = 0; i < tokens.length; i += 3) pieces.push(tokens.slice(i, i + 3).join(''));
  return pieces.length > 0 ? pieces : [''];
}

/** A deterministic unit-length vector of `dims` values for `text`. */
export function embedding(text: string, dims: number): number[] {
  const values: number[] = [];
  for (let block = 0; values.length < dims; block++) {
    const digest = createHash('sha256').update(`${block}:${text}`).digest();
    for (const b of digest) {
      if (values.length >= dims) break;
      values.push(b / 127.5 - 1);
    }
  }
  const norm = Math.sqrt(values.reduce((s, v) => s + v * v, 0)) || 1;
  return values.map((v) => Math.round((v / norm) * 1e6) / 1e6);
}

function modelInfo(m: { id: string; methods: string[] }): Json {
  return {
    name: `models/${m.id}`,
    version: '001',
    displayName: m.id,
    description: `Mock ${m.id}`,
    inputTokenLimit: 1048576,
    outputTokenLimit: 65536,
    supportedGenerationMethods: m.methods,
  };
}

function sendJson(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
  res.end(JSON.stringify(body, null, 2));
}

function sendSse(res: ServerResponse, events: unknown[]): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const e of events) res.write(`data: ${JSON.stringify(e)}\r\n\r\n`);
  res.end();
}

export async function startMockGemini(options: { apiKey?: string } = {}): Promise<MockGemini> {
  const server = new MockGeminiServer(options.apiKey ?? MOCK_GEMINI_KEY);
  await server.listen();
  return server;
}
