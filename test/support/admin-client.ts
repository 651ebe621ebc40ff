/** Small HTTP helpers for suites that drive a gateway process: admin calls and SDK errors. */
import OpenAI from 'openai';

export interface AdminResponse<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** One /admin or /api call with the master key (or `auth`: a header value, or null for none). */
export async function adminCall<T = unknown>(
  baseUrl: string,
  masterKey: string,
  method: string,
  path: string,
  body?: unknown,
  auth: string | null = `Bearer ${masterKey}`,
): Promise<AdminResponse<T>> {
  const res = await fetch(baseUrl + path, {
    method,
    headers: {
      ...(auth !== null ? { authorization: auth } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

export interface CreatedKey {
  id: string;
  key: string;
}

export async function createKey(
  baseUrl: string,
  masterKey: string,
  body: Record<string, unknown>,
): Promise<CreatedKey> {
  const res = await adminCall<CreatedKey>(baseUrl, masterKey, 'POST', '/admin/keys', body);
  if (res.status !== 201) throw new Error(`key creation answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** The SDK's error of a call that must fail. */
export async function apiError(p: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await p;
  } catch (err) {
    if (err instanceof OpenAI.APIError) return err;
    throw err;
  }
  throw new Error('expected the SDK call to fail');
}

/** 200, or the SDK error's status (0 for a connection failure). */
export async function statusOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (err) {
    if (err instanceof OpenAI.APIError) return err.status ?? 0;
    throw err;
  }
}

/** Polls `probe` every `everyMs` until it returns true or `timeoutMs` passes; returns the last result. */
export async function eventually(
  probe: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 50,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
