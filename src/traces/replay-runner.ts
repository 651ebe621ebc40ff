/** What the traces API needs from the gateway to replay a request (provided under REPLAY_RUNNER). */
export interface ReplayRunner {
  run(request: unknown, opts: { replayOf: string; sessionId: string | null }): Promise<{ recordId: string; response: unknown }>;
}
