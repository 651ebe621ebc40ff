/**
 * What a span needs from a finished call's response: finish reasons, the model and id the
 * upstream answered with, the OpenAI error code. Read from the kept response (parsed JSON, raw
 * bytes or stream chunks) when spans are built, off the request path. Stream bytes are scanned
 * for the few fields needed rather than parsed event by event.
 */
import type { RecordedResponse } from '../../gateway/call-record';

export interface ResponseFacts {
  finishReasons: string[];
  model: string | null;
  id: string | null;
  errorCode: string | null;
}

const NONE: ResponseFacts = { finishReasons: [], model: null, id: null, errorCode: null };

function record(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function factsOfBody(body: unknown, out: ResponseFacts): void {
  const o = record(body);
  if (!o) return;
  out.model ??= str(o.model);
  out.id ??= str(o.id);
  const err = record(o.error);
  if (err) out.errorCode ??= str(err.code) ?? str(err.type);
  if (Array.isArray(o.choices)) {
    for (const c of o.choices) {
      const r = str(record(c)?.finish_reason);
      if (r && !out.finishReasons.includes(r)) out.finishReasons.push(r);
    }
  }
}

const FINISH = /"finish_reason"\s*:\s*"([^"\\]{1,64})"/g;
const MODEL = /"model"\s*:\s*"([^"\\]{1,200})"/;
const ID = /"id"\s*:\s*"([^"\\]{1,200})"/;
const ERROR_CODE = /"error"\s*:\s*\{[^}]*?"code"\s*:\s*"([^"\\]{1,100})"/;

function factsOfSse(chunks: Buffer[], out: ResponseFacts): void {
  // Model and id come in the first event; finish reasons near the end: scan the whole stream once.
  const text = (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)).toString('utf8');
  out.model = MODEL.exec(text)?.[1] ?? null;
  out.id = ID.exec(text)?.[1] ?? null;
  out.errorCode = ERROR_CODE.exec(text)?.[1] ?? null;
  for (const m of text.matchAll(FINISH)) {
    const r = m[1] as string;
    if (!out.finishReasons.includes(r)) out.finishReasons.push(r);
  }
}

/** Facts from response bytes: a JSON body or an SSE stream. */
export function factsFromBytes(kind: 'raw-json' | 'sse', bytes: Buffer): ResponseFacts {
  return responseFacts(kind === 'sse' ? { kind, chunks: [bytes] } : { kind, bytes });
}

export function responseFacts(response: RecordedResponse): ResponseFacts {
  const out: ResponseFacts = { finishReasons: [], model: null, id: null, errorCode: null };
  try {
    switch (response.kind) {
      case 'none':
        return { ...NONE, finishReasons: [] };
      case 'json':
        factsOfBody(response.body, out);
        return out;
      case 'raw-json':
        factsOfBody(JSON.parse(response.bytes.toString('utf8')) as unknown, out);
        return out;
      case 'sse':
        factsOfSse(response.chunks, out);
        return out;
      case 'chunks':
        for (const c of response.chunks) factsOfBody(c, out);
        return out;
    }
  } catch {
    return out;
  }
}
