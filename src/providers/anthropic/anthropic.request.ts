/**
 * OpenAI chat request → Anthropic Messages API body. Pure functions: no I/O.
 *
 * - system and developer messages become `system`;
 * - user/assistant turns alternate: consecutive messages of one role (tool results count as the
 *   user's) are merged into one message's content blocks;
 * - an assistant message's `thinking_blocks` come back first in that message, with their
 *   signatures; `reasoning_content` alone cannot be signed and is dropped.
 */
import { GatewayError } from '../../common/errors';
import type {
  ChatCompletionRequest,
  ChatContentPart,
  ChatMessage,
  ReasoningFields,
  ThinkingBlock,
} from '../../common/openai.types';
import type {
  AnthropicContentBlock,
  AnthropicDocumentBlock,
  AnthropicImageBlock,
  AnthropicMessage,
  AnthropicRedactedThinkingBlock,
  AnthropicRequest,
  AnthropicTextBlock,
  AnthropicThinkingBlock,
  AnthropicThinkingConfig,
  AnthropicTool,
  AnthropicToolChoice,
  CacheControl,
} from './anthropic.types';

export const DEFAULT_MAX_TOKENS = 4096;

/** The smallest thinking budget the API accepts. */
export const MIN_THINKING_BUDGET = 1024;

/** `reasoning_effort` → thinking budget in tokens (`none` turns thinking off). */
const EFFORT_BUDGETS: Readonly<Record<string, number>> = {
  minimal: 1024,
  low: 1024,
  medium: 2048,
  high: 4096,
  xhigh: 8192,
  max: 16384,
};

export interface AnthropicRequestOptions {
  /** `max_tokens` when the client sends none (the provider's `default_max_tokens`). */
  defaultMaxTokens?: number | undefined;
}

export function toAnthropicRequest(
  req: ChatCompletionRequest,
  options: AnthropicRequestOptions = {},
): AnthropicRequest {
  if (typeof req.model !== 'string' || req.model.length === 0) {
    throw GatewayError.badRequest('model is required', 'model');
  }
  if (typeof req.n === 'number' && req.n > 1) {
    throw GatewayError.badRequest('n > 1 is not supported by this provider', 'n');
  }
  const { system, messages } = convertMessages(req.messages);
  const limits = maxTokensAndThinking(req, options.defaultMaxTokens ?? DEFAULT_MAX_TOKENS);
  const body: AnthropicRequest = { model: req.model, max_tokens: limits.maxTokens, messages };
  if (system !== undefined) body.system = system;
  if (limits.thinking) body.thinking = limits.thinking;

  const stop = stopSequences(req.stop);
  if (stop.length > 0) body.stop_sequences = stop;
  if (typeof req.temperature === 'number') body.temperature = req.temperature;
  if (typeof req.top_p === 'number') body.top_p = req.top_p;
  if (typeof req.top_k === 'number') body.top_k = req.top_k;
  if (typeof req.user === 'string' && req.user.length > 0) body.metadata = { user_id: req.user };

  const tools = convertTools(req.tools);
  if (tools.length > 0) {
    body.tools = tools;
    const choice = convertToolChoice(req.tool_choice, req.parallel_tool_calls);
    if (choice) body.tool_choice = choice;
  }
  if (req.stream === true) body.stream = true;
  return body;
}

// ---------------------------------------------------------------------------------------------
// max_tokens and thinking

function maxTokensAndThinking(
  req: ChatCompletionRequest,
  defaultMaxTokens: number,
): { maxTokens: number; thinking?: AnthropicThinkingConfig } {
  const requested =
    positiveInt(req.max_completion_tokens, 'max_completion_tokens') ??
    positiveInt(req.max_tokens, 'max_tokens');
  let maxTokens = requested ?? defaultMaxTokens;
  if (isAdaptive(req.thinking)) return { maxTokens, thinking: { type: 'adaptive' } };
  let budget = thinkingBudget(req);
  if (budget === undefined) return { maxTokens };
  if (budget >= maxTokens) {
    if (requested === undefined) {
      // The default leaves room for the answer after the thinking.
      maxTokens = budget + defaultMaxTokens;
    } else {
      budget = maxTokens - 1;
      if (budget < MIN_THINKING_BUDGET) {
        throw GatewayError.badRequest(
          `max_tokens must be above ${MIN_THINKING_BUDGET} when reasoning is enabled`,
          'max_tokens',
        );
      }
    }
  }
  return { maxTokens, thinking: { type: 'enabled', budget_tokens: budget } };
}

function isAdaptive(thinking: unknown): boolean {
  return !!thinking && typeof thinking === 'object' && (thinking as { type?: unknown }).type === 'adaptive';
}

/** Thinking budget from an Anthropic-style `thinking` param, else from `reasoning_effort`. */
function thinkingBudget(req: ChatCompletionRequest): number | undefined {
  const thinking = req.thinking;
  if (thinking !== undefined && thinking !== null) {
    if (typeof thinking !== 'object') throw GatewayError.badRequest('thinking must be an object', 'thinking');
    const t = thinking as { type?: unknown; budget_tokens?: unknown };
    if (t.type === 'disabled') return undefined;
    if (t.type !== 'enabled') {
      throw GatewayError.badRequest(
        'thinking.type must be "enabled", "adaptive" or "disabled"',
        'thinking.type',
      );
    }
    const budget = positiveInt(t.budget_tokens, 'thinking.budget_tokens') ?? EFFORT_BUDGETS.medium;
    if (budget === undefined || budget < MIN_THINKING_BUDGET) {
      throw GatewayError.badRequest(
        `thinking.budget_tokens must be at least ${MIN_THINKING_BUDGET}`,
        'thinking.budget_tokens',
      );
    }
    return budget;
  }
  const effort = req.reasoning_effort;
  if (effort === undefined || effort === null || effort === 'none') return undefined;
  const budget = EFFORT_BUDGETS[effort];
  if (budget === undefined) {
    throw GatewayError.badRequest(`unsupported reasoning_effort "${String(effort)}"`, 'reasoning_effort');
  }
  return budget;
}

function positiveInt(value: unknown, param: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw GatewayError.badRequest(`${param} must be a positive integer`, param);
  }
  return value;
}

function stopSequences(stop: ChatCompletionRequest['stop']): string[] {
  if (typeof stop === 'string') return [stop];
  if (Array.isArray(stop)) return stop.filter((s): s is string => typeof s === 'string');
  return [];
}

// ---------------------------------------------------------------------------------------------
// tools

function convertTools(tools: ChatCompletionRequest['tools']): AnthropicTool[] {
  if (!Array.isArray(tools)) return [];
  return tools.map((tool, i) => {
    if (tool.type !== 'function') {
      throw GatewayError.badRequest(`tools[${i}]: only function tools are supported`, `tools[${i}].type`);
    }
    const fn = tool.function;
    const out: AnthropicTool = {
      name: fn.name,
      input_schema: (fn.parameters as Record<string, unknown> | undefined) ?? {
        type: 'object',
        properties: {},
      },
    };
    if (typeof fn.description === 'string' && fn.description.length > 0) out.description = fn.description;
    const cache = cacheControlOf(tool);
    if (cache) out.cache_control = cache;
    return out;
  });
}

function convertToolChoice(
  choice: ChatCompletionRequest['tool_choice'],
  parallel: ChatCompletionRequest['parallel_tool_calls'],
): AnthropicToolChoice | undefined {
  const noParallel = parallel === false ? { disable_parallel_tool_use: true } : {};
  if (choice === undefined || choice === null || choice === 'auto') {
    return parallel === false ? { type: 'auto', ...noParallel } : undefined;
  }
  if (choice === 'none') return { type: 'none' };
  if (choice === 'required') return { type: 'any', ...noParallel };
  if (typeof choice === 'object' && choice.type === 'function') {
    return { type: 'tool', name: choice.function.name, ...noParallel };
  }
  throw GatewayError.badRequest('unsupported tool_choice', 'tool_choice');
}

// ---------------------------------------------------------------------------------------------
// messages

type Message = ChatMessage & ReasoningFields;

interface Turn {
  role: 'user' | 'assistant';
  thinking: Array<AnthropicThinkingBlock | AnthropicRedactedThinkingBlock>;
  blocks: AnthropicContentBlock[];
}

export function convertMessages(messages: readonly Message[]): {
  system: string | AnthropicTextBlock[] | undefined;
  messages: AnthropicMessage[];
} {
  if (!isList(messages) || messages.length === 0) {
    throw GatewayError.badRequest('messages must be a non-empty list', 'messages');
  }
  const system: AnthropicTextBlock[] = [];
  const turns: Turn[] = [];
  const add = (turn: Turn): void => {
    if (turn.blocks.length === 0 && turn.thinking.length === 0) return;
    const last = turns[turns.length - 1];
    if (last && last.role === turn.role) {
      last.thinking.push(...turn.thinking);
      last.blocks.push(...turn.blocks);
    } else {
      turns.push(turn);
    }
  };

  messages.forEach((msg, i) => {
    const at = `messages[${i}]`;
    switch (msg.role) {
      case 'system':
      case 'developer':
        system.push(...textParts(msg.content, at));
        break;
      case 'user':
        add({ role: 'user', thinking: [], blocks: userBlocks(msg.content, at) });
        break;
      case 'assistant':
        add({
          role: 'assistant',
          thinking: thinkingBlocks(msg.thinking_blocks),
          blocks: assistantBlocks(msg, at),
        });
        break;
      case 'tool':
        add({ role: 'user', thinking: [], blocks: [toolResult(msg.tool_call_id, msg.content, at)] });
        break;
      case 'function':
        throw GatewayError.badRequest(`${at}: function messages are not supported; use tool messages`, at);
      default:
        throw GatewayError.badRequest(`${at}: unknown role`, `${at}.role`);
    }
  });

  const out: AnthropicMessage[] = turns.map((t) => ({ role: t.role, content: [...t.thinking, ...t.blocks] }));
  trimFinalAssistant(out);
  if (out.length === 0) throw GatewayError.badRequest('messages have no content to send', 'messages');
  return { system: systemValue(system), messages: out };
}

/** A joined string, unless a part carries `cache_control` (then the blocks are kept). */
function systemValue(parts: AnthropicTextBlock[]): string | AnthropicTextBlock[] | undefined {
  const nonEmpty = parts.filter((p) => p.text.length > 0);
  if (nonEmpty.length === 0) return undefined;
  if (nonEmpty.some((p) => p.cache_control)) return nonEmpty;
  return nonEmpty.map((p) => p.text).join('\n\n');
}

/** The API rejects a final (prefill) assistant message that ends with whitespace. */
function trimFinalAssistant(messages: AnthropicMessage[]): void {
  const last = messages[messages.length - 1];
  if (!last || last.role !== 'assistant' || typeof last.content === 'string') return;
  const block = last.content[last.content.length - 1];
  if (block?.type !== 'text') return;
  block.text = block.text.trimEnd();
  if (block.text.length === 0) last.content.pop();
  if (last.content.length === 0) messages.pop();
}

function textParts(content: unknown, at: string): AnthropicTextBlock[] {
  if (typeof content === 'string') return content.length > 0 ? [{ type: 'text', text: content }] : [];
  if (!Array.isArray(content)) {
    if (content === null || content === undefined) return [];
    throw GatewayError.badRequest(`${at}.content must be a string or a list of parts`, `${at}.content`);
  }
  return content
    .map((part: unknown, j) => {
      const p = part as { type?: unknown; text?: unknown };
      if (p?.type !== 'text' || typeof p.text !== 'string') {
        throw GatewayError.badRequest(
          `${at}.content[${j}]: only text parts are allowed here`,
          `${at}.content`,
        );
      }
      return textBlock(p.text, part);
    })
    .filter((b) => b.text.length > 0);
}

function textBlock(text: string, source: unknown): AnthropicTextBlock {
  const block: AnthropicTextBlock = { type: 'text', text };
  const cache = cacheControlOf(source);
  if (cache) block.cache_control = cache;
  return block;
}

function userBlocks(content: unknown, at: string): AnthropicContentBlock[] {
  if (typeof content === 'string') return content.length > 0 ? [{ type: 'text', text: content }] : [];
  if (!Array.isArray(content)) {
    throw GatewayError.badRequest(`${at}.content must be a string or a list of parts`, `${at}.content`);
  }
  const out: AnthropicContentBlock[] = [];
  (content as ChatContentPart[]).forEach((part, j) => {
    const where = `${at}.content[${j}]`;
    switch (part?.type) {
      case 'text':
        if (part.text.length > 0) out.push(textBlock(part.text, part));
        break;
      case 'image_url':
        out.push(imageBlock(part.image_url?.url, part, where));
        break;
      case 'file':
        out.push(documentBlock(part.file?.file_data, part, where));
        break;
      case 'input_audio':
        throw GatewayError.badRequest(`${where}: audio input is not supported by this provider`, where);
      default:
        throw GatewayError.badRequest(`${where}: unknown content part type`, `${where}.type`);
    }
  });
  return out;
}

const DATA_URL = /^data:([^;,]+)(?:;[^,]*)?;base64,(.*)$/s;

function imageBlock(url: unknown, part: unknown, where: string): AnthropicImageBlock {
  if (typeof url !== 'string' || url.length === 0) {
    throw GatewayError.badRequest(`${where}: image_url.url is required`, `${where}.image_url.url`);
  }
  let block: AnthropicImageBlock;
  const data = DATA_URL.exec(url);
  if (data) {
    block = {
      type: 'image',
      source: { type: 'base64', media_type: data[1] as string, data: data[2] as string },
    };
  } else if (/^https?:\/\//i.test(url)) {
    block = { type: 'image', source: { type: 'url', url } };
  } else {
    throw GatewayError.badRequest(
      `${where}: image_url.url must be a base64 data URL or an http(s) URL`,
      `${where}.image_url.url`,
    );
  }
  const cache = cacheControlOf(part);
  if (cache) block.cache_control = cache;
  return block;
}

function documentBlock(fileData: unknown, part: unknown, where: string): AnthropicDocumentBlock {
  const data = typeof fileData === 'string' ? DATA_URL.exec(fileData) : null;
  if (!data || data[1] !== 'application/pdf') {
    throw GatewayError.badRequest(`${where}: only PDF files given as base64 data URLs are supported`, where);
  }
  const block: AnthropicDocumentBlock = {
    type: 'document',
    source: { type: 'base64', media_type: 'application/pdf', data: data[2] as string },
  };
  const cache = cacheControlOf(part);
  if (cache) block.cache_control = cache;
  return block;
}

function assistantBlocks(msg: Message & { role: 'assistant' }, at: string): AnthropicContentBlock[] {
  const out: AnthropicContentBlock[] = [];
  const content: unknown = msg.content;
  if (typeof content === 'string') {
    if (content.length > 0) out.push({ type: 'text', text: content });
  } else if (Array.isArray(content)) {
    content.forEach((part: unknown, j) => {
      const p = part as { type?: unknown; text?: unknown; refusal?: unknown };
      const text = p?.type === 'text' ? p.text : p?.type === 'refusal' ? p.refusal : undefined;
      if (typeof text !== 'string') {
        throw GatewayError.badRequest(`${at}.content[${j}]: unknown assistant content part`, `${at}.content`);
      }
      if (text.length > 0) out.push(textBlock(text, part));
    });
  }
  (msg.tool_calls ?? []).forEach((call, j) => {
    const where = `${at}.tool_calls[${j}]`;
    if (call.type !== 'function') {
      throw GatewayError.badRequest(`${where}: only function tool calls are supported`, `${where}.type`);
    }
    out.push({
      type: 'tool_use',
      id: call.id,
      name: call.function.name,
      input: parseArguments(call.function.arguments, where),
    });
  });
  return out;
}

function parseArguments(args: unknown, where: string): Record<string, unknown> {
  if (args === undefined || args === null || (typeof args === 'string' && args.trim() === '')) return {};
  if (typeof args !== 'string') {
    throw GatewayError.badRequest(
      `${where}: function.arguments must be a JSON string`,
      `${where}.function.arguments`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    throw GatewayError.badRequest(
      `${where}: function.arguments is not valid JSON`,
      `${where}.function.arguments`,
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw GatewayError.badRequest(
      `${where}: function.arguments must be a JSON object`,
      `${where}.function.arguments`,
    );
  }
  return parsed as Record<string, unknown>;
}

/** Signed thinking blocks and redacted blocks; anything that cannot be verified is dropped. */
function thinkingBlocks(
  blocks: readonly ThinkingBlock[] | undefined,
): Array<AnthropicThinkingBlock | AnthropicRedactedThinkingBlock> {
  if (!blocks || !isList(blocks)) return [];
  const out: Array<AnthropicThinkingBlock | AnthropicRedactedThinkingBlock> = [];
  for (const b of blocks) {
    if (
      b?.type === 'thinking' &&
      typeof b.thinking === 'string' &&
      typeof b.signature === 'string' &&
      b.signature
    ) {
      out.push({ type: 'thinking', thinking: b.thinking, signature: b.signature });
    } else if (b?.type === 'redacted_thinking' && typeof b.data === 'string' && b.data) {
      out.push({ type: 'redacted_thinking', data: b.data });
    }
  }
  return out;
}

function toolResult(id: unknown, content: unknown, at: string): AnthropicContentBlock {
  if (typeof id !== 'string' || id.length === 0) {
    throw GatewayError.badRequest(`${at}: tool_call_id is required`, `${at}.tool_call_id`);
  }
  if (typeof content === 'string') return { type: 'tool_result', tool_use_id: id, content };
  const parts = textParts(content, at);
  return { type: 'tool_result', tool_use_id: id, content: parts };
}

/** A `cache_control` a client put on a part or tool (Anthropic-style extension), kept as is. */
function cacheControlOf(source: unknown): CacheControl | undefined {
  if (!source || typeof source !== 'object') return undefined;
  const cc = (source as { cache_control?: unknown }).cache_control;
  if (cc && typeof cc === 'object' && (cc as { type?: unknown }).type === 'ephemeral') {
    const ttl = (cc as { ttl?: unknown }).ttl;
    return typeof ttl === 'string' ? { type: 'ephemeral', ttl } : { type: 'ephemeral' };
  }
  return undefined;
}

/** `Array.isArray` without narrowing a typed readonly list to `any[]`. */
function isList(value: unknown): boolean {
  return Array.isArray(value);
}
