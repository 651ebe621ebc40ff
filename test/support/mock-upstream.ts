/** What every mock upstream in test/support exposes, so suites can drive them alike. */
export interface RecordedRequest {
  method: string;
  /** Path with query string, as received. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body, or the raw text when it was not JSON, or null when empty. */
  body: unknown;
}

export interface MockUpstream {
  /** The base URL to put in the gateway's provider `base_url` (for openai it includes /v1). */
  baseUrl: string;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  close(): Promise<void>;
}
