/**
 * The parts of the Coze v3 chat API that the adapter uses (`POST /v3/chat`,
 * `GET /v3/chat/retrieve`, `GET /v3/chat/message/list`, and the chat stream events).
 */

/** A message sent in `additional_messages`. */
export interface CozeEnterMessage {
  role: 'user' | 'assistant';
  /** Plain text, or for `object_string` a JSON string of `CozeObjectStringItem`s. */
  content: string;
  content_type: 'text' | 'object_string';
  type?: 'question' | 'answer';
}

export type CozeObjectStringItem =
  { type: 'text'; text: string } | { type: 'image'; file_url: string } | { type: 'image'; file_id: string };

export interface CozeChatRequest {
  bot_id: string;
  user_id: string;
  stream: boolean;
  auto_save_history: boolean;
  additional_messages: CozeEnterMessage[];
}

export type CozeChatStatus =
  'created' | 'in_progress' | 'completed' | 'failed' | 'requires_action' | 'canceled' | 'unknown';

export interface CozeUsage {
  token_count?: number;
  output_count?: number;
  input_count?: number;
}

export interface CozeLastError {
  code?: number;
  msg?: string;
}

/** A chat object: the data of `POST /v3/chat` (non-stream), `retrieve`, and the `conversation.chat.*` events. */
export interface CozeChat {
  id: string;
  conversation_id: string;
  bot_id?: string;
  status?: CozeChatStatus;
  created_at?: number;
  completed_at?: number;
  failed_at?: number;
  last_error?: CozeLastError | null;
  usage?: CozeUsage | null;
}

export type CozeMessageType =
  | 'question'
  | 'answer'
  | 'function_call'
  | 'tool_output'
  | 'tool_response'
  | 'follow_up'
  | 'verbose'
  | 'knowledge';

/** A message: the items of `message/list` and the data of `conversation.message.*` events. */
export interface CozeMessage {
  id?: string;
  conversation_id?: string;
  chat_id?: string;
  bot_id?: string;
  role?: 'user' | 'assistant';
  /** A `CozeMessageType`, or a type added later. */
  type?: string;
  content?: string;
  content_type?: string;
  reasoning_content?: string;
  created_at?: number;
}

/** Every non-stream reply is wrapped: `code` 0 is success, anything else an error with `msg`. */
export interface CozeEnvelope<T> {
  code?: number;
  msg?: string;
  data?: T;
  detail?: { logid?: string };
}
