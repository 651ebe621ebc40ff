/**
 * OpenAI chat request → Coze `POST /v3/chat` body. Coze has no system role (system and
 * developer messages are dropped) and no tool messages; the bot's own prompt and plugins apply.
 * What Coze cannot take is refused with a 400 rather than dropped: `tools` (a bot calls its own
 * plugins) and images given as data URLs (Coze reads images by URL or by an uploaded file id).
 */
import { GatewayError } from '../../common/errors';
import type { ChatCompletionRequest, ChatMessage } from '../../common/openai.types';
import type { CozeChatRequest, CozeEnterMessage, CozeObjectStringItem } from './coze.types';

/** What the gateway's `coze/` route prefix may leave on the model: the adapter strips it too. */
const BOT_PREFIX = 'coze/';

/** The bot id: the request's model, without a `coze/` prefix. */
export function botIdFrom(model: unknown): string {
  const raw = typeof model === 'string' ? model.trim() : '';
  const id = raw.startsWith(BOT_PREFIX) ? raw.slice(BOT_PREFIX.length) : raw;
  if (id.length === 0) throw GatewayError.badRequest('model must name a Coze bot id', 'model');
  return id;
}

/** The request's `user`, else the gateway client key id, else `gateway`. */
export function userIdFor(req: ChatCompletionRequest, keyId: string | undefined): string {
  if (typeof req.user === 'string' && req.user.length > 0) return req.user;
  if (keyId) return keyId;
  return 'gateway';
}

export interface CozeRequestOptions {
  botId: string;
  userId: string;
  stream: boolean;
}

export function toCozeRequest(req: ChatCompletionRequest, opts: CozeRequestOptions): CozeChatRequest {
  if (Array.isArray(req.tools) && req.tools.length > 0) {
    throw GatewayError.badRequest(
      'Coze bots call their own plugins: `tools` is not supported by this provider',
      'tools',
      'unsupported_parameter',
    );
  }
  const additional_messages = toAdditionalMessages(req.messages);
  if (!additional_messages.some((m) => m.role === 'user')) {
    throw GatewayError.badRequest('Coze needs at least one user message', 'messages');
  }
  return {
    bot_id: opts.botId,
    user_id: opts.userId,
    stream: opts.stream,
    // Coze keeps the answer retrievable through message/list only when history is saved.
    auto_save_history: true,
    additional_messages,
  };
}

export function toAdditionalMessages(messages: readonly ChatMessage[]): CozeEnterMessage[] {
  const out: CozeEnterMessage[] = [];
  messages.forEach((m, i) => {
    switch (m.role) {
      case 'system':
      case 'developer':
        return;
      case 'user':
        out.push(userMessage(m.content, i));
        return;
      case 'assistant': {
        // An assistant turn that only called tools has no text Coze could take.
        const text = assistantText(m.content);
        if (text.length > 0)
          out.push({ role: 'assistant', content: text, content_type: 'text', type: 'answer' });
        return;
      }
      case 'tool':
      case 'function':
        return;
    }
  });
  return out;
}

type UserContent = Extract<ChatMessage, { role: 'user' }>['content'];
type AssistantContent = Extract<ChatMessage, { role: 'assistant' }>['content'];

function userMessage(content: UserContent, index: number): CozeEnterMessage {
  if (typeof content === 'string') return { role: 'user', content, content_type: 'text' };
  const items: CozeObjectStringItem[] = [];
  for (const part of content) {
    switch (part.type) {
      case 'text':
        items.push({ type: 'text', text: part.text });
        break;
      case 'image_url':
        if (!/^https?:\/\//i.test(part.image_url.url)) {
          throw GatewayError.badRequest(
            `Coze reads images by http(s) URL only (messages[${index}] has a data URL image)`,
            `messages[${index}].content`,
            'unsupported_value',
          );
        }
        items.push({ type: 'image', file_url: part.image_url.url });
        break;
      case 'input_audio':
      case 'file':
        throw GatewayError.badRequest(
          `Coze accepts text and image parts only (messages[${index}] has a ${part.type} part)`,
          `messages[${index}].content`,
        );
    }
  }
  if (items.every((p) => p.type === 'text')) {
    const text = items.map((p) => (p.type === 'text' ? p.text : '')).join('\n');
    return { role: 'user', content: text, content_type: 'text' };
  }
  return { role: 'user', content: JSON.stringify(items), content_type: 'object_string' };
}

function assistantText(content: AssistantContent): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  return content.map((p) => (p.type === 'text' ? p.text : '')).join('');
}
