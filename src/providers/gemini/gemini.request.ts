/**
 * OpenAI chat request → Gemini `generateContent` body. Pure functions: no I/O.
 * Messages become `contents` (user / model turns), system and developer messages become
 * `systemInstruction`, tools become `functionDeclarations`, sampling parameters become
 * `generationConfig`, and thought signatures kept in `thinking_blocks` go back onto the parts
 * Gemini attached them to.
 */
import { GatewayError } from '../../common/errors';
import type {
  ChatCompletionRequest,
  ChatContentPart,
  ChatMessage,
  ReasoningFields,
} from '../../common/openai.types';
import type {
  GeminiContent,
  GeminiFunctionDeclaration,
  GeminiGenerateContentRequest,
  GeminiGenerationConfig,
  GeminiPart,
  GeminiThinkingConfig,
  GeminiToolConfig,
} from './gemini.types';

type HistoryMessage = ChatMessage & ReasoningFields;

/** The model path segment: `gemini-2.5-flash` and `models/gemini-2.5-flash` both give `models/gemini-2.5-flash`. */
export function modelPath(model: string): string {
  if (model.startsWith('models/') || model.startsWith('tunedModels/')) return model;
  return `models/${model}`;
}

export function toGeminiRequest(req: ChatCompletionRequest): GeminiGenerateContentRequest {
  const { contents, system } = toContents(req.messages);
  const body: GeminiGenerateContentRequest = { contents };
  if (system.length > 0) body.systemInstruction = { parts: system };
  const declarations = toFunctionDeclarations(req.tools);
  if (declarations.length > 0) body.tools = [{ functionDeclarations: declarations }];
  const toolConfig = toToolConfig(req.tool_choice);
  if (toolConfig) body.toolConfig = toolConfig;
  const generationConfig = toGenerationConfig(req);
  if (Object.keys(generationConfig).length > 0) body.generationConfig = generationConfig;
  return body;
}

// ---------------------------------------------------------------------------------------------
// messages → contents

function toContents(messages: HistoryMessage[]): { contents: GeminiContent[]; system: GeminiPart[] } {
  const system: GeminiPart[] = [];
  const contents: GeminiContent[] = [];
  const toolNames = new Map<string, string>();

  const push = (role: 'user' | 'model', parts: GeminiPart[]): void => {
    if (parts.length === 0) return;
    const last = contents[contents.length - 1];
    if (last && last.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };

  messages.forEach((msg, i) => {
    switch (msg.role) {
      case 'system':
      case 'developer':
        system.push(...textParts(msg.content, `messages[${i}].content`));
        break;
      case 'user':
        push('user', userParts(msg.content, `messages[${i}].content`));
        break;
      case 'assistant': {
        for (const call of msg.tool_calls ?? []) {
          if (call.type === 'function') toolNames.set(call.id, call.function.name);
        }
        push('model', assistantParts(msg, i));
        break;
      }
      case 'tool': {
        const name = toolNames.get(msg.tool_call_id);
        if (name === undefined) {
          throw GatewayError.badRequest(
            `messages[${i}].tool_call_id "${msg.tool_call_id}" does not match any earlier assistant tool call`,
            `messages[${i}].tool_call_id`,
          );
        }
        push('user', [{ functionResponse: { name, response: toolResponse(plainText(msg.content)) } }]);
        break;
      }
      case 'function':
        push('user', [{ functionResponse: { name: msg.name, response: toolResponse(msg.content ?? '') } }]);
        break;
      default: {
        const role = (msg as { role?: unknown }).role;
        throw GatewayError.badRequest(
          `messages[${i}].role "${String(role)}" is not supported`,
          `messages[${i}].role`,
        );
      }
    }
  });
  return { contents, system };
}

function assistantParts(msg: Extract<HistoryMessage, { role: 'assistant' }>, i: number): GeminiPart[] {
  const parts: GeminiPart[] = [];
  if (typeof msg.content === 'string') {
    if (msg.content.length > 0) parts.push({ text: msg.content });
  } else if (Array.isArray(msg.content)) {
    for (const p of msg.content) {
      if (p.type === 'text' && p.text.length > 0) parts.push({ text: p.text });
      else if (p.type === 'refusal' && p.refusal.length > 0) parts.push({ text: p.refusal });
    }
  }
  const calls: GeminiPart[] = [];
  (msg.tool_calls ?? []).forEach((call, j) => {
    if (call.type !== 'function') {
      throw GatewayError.badRequest(
        `only function tool calls are supported`,
        `messages[${i}].tool_calls[${j}]`,
      );
    }
    calls.push({
      functionCall: { name: call.function.name, args: parseArgs(call.function.arguments, i, j) },
    });
  });
  parts.push(...calls);
  attachSignatures(parts, calls, signaturesOf(msg.thinking_blocks));
  return parts;
}

function signaturesOf(blocks: ReasoningFields['thinking_blocks']): string[] {
  const out: string[] = [];
  for (const b of blocks ?? []) {
    if (b.type === 'thinking' && typeof b.signature === 'string' && b.signature.length > 0)
      out.push(b.signature);
  }
  return out;
}

/**
 * Gemini puts a turn's signature on its first functionCall part (one per call step), or on the
 * last part of a turn without calls; the signatures come back in the order they were received.
 */
function attachSignatures(parts: GeminiPart[], calls: GeminiPart[], signatures: string[]): void {
  if (signatures.length === 0) return;
  if (calls.length > 0) {
    signatures.slice(0, calls.length).forEach((sig, k) => {
      (calls[k] as GeminiPart).thoughtSignature = sig;
    });
    return;
  }
  const last = parts[parts.length - 1];
  const sig = signatures[0] as string;
  if (last && last.text !== undefined) last.thoughtSignature = sig;
  else parts.push({ text: '', thoughtSignature: sig });
}

function parseArgs(raw: string, i: number, j: number): Record<string, unknown> {
  if (raw.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw GatewayError.badRequest(
      `messages[${i}].tool_calls[${j}].function.arguments is not valid JSON`,
      `messages[${i}].tool_calls[${j}].function.arguments`,
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw GatewayError.badRequest(
      `messages[${i}].tool_calls[${j}].function.arguments must be a JSON object`,
      `messages[${i}].tool_calls[${j}].function.arguments`,
    );
  }
  return parsed as Record<string, unknown>;
}

/** A tool result is a JSON object when it parses as one, else it is wrapped as `{result}`. */
function toolResponse(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
    return { result: parsed };
  } catch {
    return { result: text };
  }
}

function plainText(content: string | Array<{ type: 'text'; text: string }>): string {
  return typeof content === 'string' ? content : content.map((p) => p.text).join('');
}

function textParts(content: string | Array<{ type: 'text'; text: string }>, path: string): GeminiPart[] {
  if (typeof content === 'string') return content.length > 0 ? [{ text: content }] : [];
  if (!Array.isArray(content))
    throw GatewayError.badRequest(`${path} must be a string or a list of parts`, path);
  return content.filter((p) => p.text.length > 0).map((p) => ({ text: p.text }));
}

function userParts(content: string | ChatContentPart[], path: string): GeminiPart[] {
  if (typeof content === 'string') return content.length > 0 ? [{ text: content }] : [];
  if (!Array.isArray(content))
    throw GatewayError.badRequest(`${path} must be a string or a list of parts`, path);
  const parts: GeminiPart[] = [];
  content.forEach((p, k) => {
    const at = `${path}[${k}]`;
    switch (p.type) {
      case 'text':
        if (p.text.length > 0) parts.push({ text: p.text });
        break;
      case 'image_url':
        parts.push(mediaPart(p.image_url.url, `${at}.image_url.url`, 'image/jpeg'));
        break;
      case 'input_audio':
        parts.push({ inlineData: { mimeType: `audio/${p.input_audio.format}`, data: p.input_audio.data } });
        break;
      case 'file': {
        const data = p.file.file_data;
        if (typeof data !== 'string')
          throw GatewayError.badRequest(`${at}.file needs file_data (a data URL)`, at);
        parts.push(mediaPart(data, `${at}.file.file_data`, 'application/pdf'));
        break;
      }
      default:
        throw GatewayError.badRequest(`${at}.type "${(p as { type?: string }).type}" is not supported`, at);
    }
  });
  return parts;
}

const DATA_URL = /^data:([^;,]+)?((?:;[^;,]+)*?);base64,(.*)$/s;

const EXTENSION_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
  mp3: 'audio/mp3',
  wav: 'audio/wav',
  mp4: 'video/mp4',
};

/** A data URL becomes `inlineData`; an http(s) URL becomes `fileData` with a MIME type guessed from its extension. */
export function mediaPart(url: string, path: string, fallbackType: string): GeminiPart {
  if (url.startsWith('data:')) {
    const m = DATA_URL.exec(url);
    if (!m) throw GatewayError.badRequest(`${path} is not a base64 data URL`, path);
    return { inlineData: { mimeType: m[1] ?? fallbackType, data: m[3] ?? '' } };
  }
  if (/^https?:\/\//i.test(url) || url.startsWith('gs://')) {
    return { fileData: { fileUri: url, mimeType: guessMimeType(url, fallbackType) } };
  }
  throw GatewayError.badRequest(`${path} must be a data URL or an http(s) URL`, path);
}

export function guessMimeType(url: string, fallback: string): string {
  let pathname = url;
  try {
    pathname = new URL(url).pathname;
  } catch {
    /* not a parseable URL: use the text as it is */
  }
  const ext = /\.([a-z0-9]+)$/i.exec(pathname)?.[1]?.toLowerCase();
  return (ext && EXTENSION_TYPES[ext]) ?? fallback;
}

// ---------------------------------------------------------------------------------------------
// tools

function toFunctionDeclarations(tools: ChatCompletionRequest['tools']): GeminiFunctionDeclaration[] {
  return (tools ?? []).map((tool, i) => {
    if (tool.type !== 'function') {
      throw GatewayError.badRequest(`tools[${i}].type "${tool.type}" is not supported`, `tools[${i}].type`);
    }
    const decl: GeminiFunctionDeclaration = { name: tool.function.name };
    if (tool.function.description) decl.description = tool.function.description;
    const params = tool.function.parameters ? cleanSchema(tool.function.parameters) : undefined;
    if (params && !isEmptyObjectSchema(params)) decl.parameters = params;
    return decl;
  });
}

function isEmptyObjectSchema(schema: Record<string, unknown>): boolean {
  const props = schema.properties;
  return (
    schema.type === 'object' &&
    (props === undefined || (typeof props === 'object' && props !== null && Object.keys(props).length === 0))
  );
}

/** Keys of Gemini's `Schema` object; anything else (`additionalProperties`, `$schema`, `$ref`…) is rejected upstream. */
const SCHEMA_KEYS = new Set([
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
]);

/** A JSON schema reduced to what Gemini's `Schema` accepts. */
export function cleanSchema(schema: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'const') {
      if (!('enum' in schema)) out.enum = [value];
      continue;
    }
    if (!SCHEMA_KEYS.has(key)) continue;
    if (key === 'type' && Array.isArray(value)) {
      const types = value.filter((t): t is string => typeof t === 'string' && t !== 'null');
      if (types.length > 0) out.type = types[0];
      if (value.includes('null')) out.nullable = true;
    } else if (key === 'properties' && isRecord(value)) {
      const props: Record<string, unknown> = {};
      for (const [name, sub] of Object.entries(value)) props[name] = isRecord(sub) ? cleanSchema(sub) : sub;
      out.properties = props;
    } else if (key === 'items' && isRecord(value)) {
      out.items = cleanSchema(value);
    } else if (key === 'anyOf' && Array.isArray(value)) {
      out.anyOf = (value as unknown[]).map((sub: unknown) => (isRecord(sub) ? cleanSchema(sub) : sub));
    } else {
      out[key] = value;
    }
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function toToolConfig(choice: ChatCompletionRequest['tool_choice']): GeminiToolConfig | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  if (choice.type === 'function') {
    return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.function.name] } };
  }
  if (choice.type === 'allowed_tools') {
    const names = choice.allowed_tools.tools
      .map((t) => (t.type === 'function' && isRecord(t.function) ? t.function.name : undefined))
      .filter((n): n is string => typeof n === 'string');
    const mode = choice.allowed_tools.mode === 'required' ? 'ANY' : 'AUTO';
    return { functionCallingConfig: names.length > 0 ? { mode, allowedFunctionNames: names } : { mode } };
  }
  throw GatewayError.badRequest(`tool_choice of type "${choice.type}" is not supported`, 'tool_choice');
}

// ---------------------------------------------------------------------------------------------
// generationConfig

function toGenerationConfig(req: ChatCompletionRequest): GeminiGenerationConfig {
  const cfg: GeminiGenerationConfig = {};
  if (typeof req.temperature === 'number') cfg.temperature = req.temperature;
  if (typeof req.top_p === 'number') cfg.topP = req.top_p;
  if (typeof req.top_k === 'number') cfg.topK = req.top_k;
  const maxTokens = req.max_completion_tokens ?? req.max_tokens;
  if (typeof maxTokens === 'number') cfg.maxOutputTokens = maxTokens;
  if (typeof req.stop === 'string') cfg.stopSequences = [req.stop];
  else if (Array.isArray(req.stop) && req.stop.length > 0) cfg.stopSequences = [...req.stop];
  if (typeof req.n === 'number' && req.n !== 1) cfg.candidateCount = req.n;
  if (typeof req.presence_penalty === 'number') cfg.presencePenalty = req.presence_penalty;
  if (typeof req.frequency_penalty === 'number') cfg.frequencyPenalty = req.frequency_penalty;
  if (typeof req.seed === 'number') cfg.seed = req.seed;
  const format = req.response_format;
  if (format?.type === 'json_object') cfg.responseMimeType = 'application/json';
  else if (format?.type === 'json_schema') {
    cfg.responseMimeType = 'application/json';
    if (format.json_schema.schema) {
      const { $schema: _drop, ...schema } = format.json_schema.schema;
      cfg.responseJsonSchema = schema;
    }
  }
  const thinking = toThinkingConfig(req.reasoning_effort, req.model);
  if (thinking) cfg.thinkingConfig = thinking;
  return cfg;
}

const THINKING_BUDGET: Record<string, number> = { minimal: 512, low: 1024, medium: 8192, high: 24576 };

/**
 * `reasoning_effort` → `thinkingConfig`: Gemini 3 models take a `thinkingLevel` (Pro models only
 * `low` and `high`), earlier thinking models a token `thinkingBudget`. Thought summaries are
 * requested so that they come back as `reasoning_content`; `none` asks for the least thinking the
 * model allows.
 */
export function toThinkingConfig(effort: unknown, model: string): GeminiThinkingConfig | undefined {
  if (typeof effort !== 'string') return undefined;
  const levels = /gemini-3/i.test(model);
  const onlyLowHigh = levels && !/flash/i.test(model);
  if (effort === 'none') {
    if (!levels) return { thinkingBudget: 0 };
    return { thinkingLevel: onlyLowHigh ? 'low' : 'minimal' };
  }
  const level = effort === 'xhigh' || effort === 'max' ? 'high' : effort;
  if (level !== 'minimal' && level !== 'low' && level !== 'medium' && level !== 'high') {
    throw GatewayError.badRequest(`reasoning_effort "${effort}" is not supported`, 'reasoning_effort');
  }
  if (onlyLowHigh)
    return { includeThoughts: true, thinkingLevel: level === 'minimal' || level === 'low' ? 'low' : 'high' };
  if (levels) return { includeThoughts: true, thinkingLevel: level };
  return { includeThoughts: true, thinkingBudget: THINKING_BUDGET[level] as number };
}
