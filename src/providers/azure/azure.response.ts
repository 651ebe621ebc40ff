/**
 * Azure OpenAI replies → OpenAI format. The bodies are OpenAI's, with Azure's additions:
 * - errors carry `code` as a string (often the status itself, `"429"`) and no `type`;
 * - a prompt refused by the content filter is HTTP 400 `code: content_filter`, `param: prompt`,
 *   with `innererror: {code: ResponsibleAIPolicyViolation, content_filter_result: {<category>:
 *   {filtered, severity}}}`; it becomes an OpenAI invalid_request_error naming the categories;
 * - an output cut by the filter is already OpenAI's `finish_reason: content_filter`.
 */
import { toOpenAIErrorBody, typeForStatus } from '../../common/errors';
import type { ChatCompletionChunk, Model } from '../../common/openai.types';
import type { MappedUpstreamError } from '../../common/upstream-response';

interface FilterVerdict {
  filtered?: unknown;
  severity?: unknown;
  detected?: unknown;
}

/** The categories the filter flagged: `violence (high)`, `jailbreak`. */
export function filteredCategories(result: unknown): string[] {
  if (!result || typeof result !== 'object') return [];
  const out: string[] = [];
  for (const [name, verdict] of Object.entries(result as Record<string, FilterVerdict | null>)) {
    if (!verdict || typeof verdict !== 'object' || verdict.filtered !== true) continue;
    out.push(typeof verdict.severity === 'string' ? `${name} (${verdict.severity})` : name);
  }
  return out;
}

export function mapAzureError(status: number, raw: unknown, text: string): MappedUpstreamError {
  const fallback = text.trim().slice(0, 500) || `upstream azure answered HTTP ${status}`;
  const body = toOpenAIErrorBody(status, raw, fallback);
  const e = (raw as { error?: { code?: unknown; type?: unknown; innererror?: unknown } } | null)?.error;
  // Azure's `type` is null and its `code` is often the status number: OpenAI's type for the status.
  if (typeof e?.type !== 'string') body.error.type = typeForStatus(status);
  if (body.error.code === String(status)) body.error.code = null;
  if (e?.code === 'content_filter') {
    const inner = e.innererror as { content_filter_result?: unknown } | undefined;
    const flagged = filteredCategories(inner?.content_filter_result);
    body.error.type = 'invalid_request_error';
    body.error.param = body.error.param ?? 'prompt';
    if (flagged.length > 0) body.error.message = `${body.error.message} (filtered: ${flagged.join(', ')})`;
  }
  return { body };
}

/**
 * Azure opens a stream with an annotation event that has no choices, an empty id and the prompt's
 * filter results; it is no OpenAI chunk, so the parsed path leaves it out (usage chunks stay).
 */
export function isAnnotationOnly(chunk: ChatCompletionChunk): boolean {
  return (
    Array.isArray(chunk.choices) &&
    chunk.choices.length === 0 &&
    !chunk.usage &&
    chunk.id === '' &&
    'prompt_filter_results' in chunk
  );
}

/** One entry of Azure's model list (`GET /openai/models`): models the resource can use. */
export interface AzureModel {
  id?: unknown;
  created_at?: unknown;
  created?: unknown;
  status?: unknown;
  capabilities?: { inference?: unknown } | null;
}

/** Azure's model list → OpenAI models: `created_at` becomes `created`; models without inference are left out. */
export function toModels(list: unknown): Model[] {
  if (!Array.isArray(list)) return [];
  const out: Model[] = [];
  for (const m of list as AzureModel[]) {
    if (!m || typeof m.id !== 'string') continue;
    if (m.capabilities && m.capabilities.inference === false) continue;
    const created =
      typeof m.created_at === 'number' ? m.created_at : typeof m.created === 'number' ? m.created : 0;
    out.push({ id: m.id, object: 'model', created, owned_by: 'azure' });
  }
  return out;
}
