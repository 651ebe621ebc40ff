/** SSE encoding of OpenAI-style events. */
export const SSE_DONE = 'data: [DONE]\n\n';

export function encodeSSE(data: unknown, event?: string): string {
  const payload = `data: ${JSON.stringify(data)}\n\n`;
  return event ? `event: ${event}\n${payload}` : payload;
}
