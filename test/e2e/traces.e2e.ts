/** Every /v1 call traced: recorded, threaded into sessions, searchable, replayable (SPEC §5). */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { startGateway, type Harness } from '../support/gateway-harness';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai';

const MASTER = 'test-master-key-0123456789abcdef';
const UPSTREAM_KEY = 'sk-upstream-very-secret-4242';

describe('traces', () => {
  let up: MockOpenAI;
  let gw: Harness;
  let client: OpenAI;

  const api = async (path: string, init: RequestInit = {}): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${gw.url}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${MASTER}`,
        'content-type': 'application/json',
        ...(init.headers ?? {}),
      },
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };

  const waitForRecord = async (id: string): Promise<any> => {
    const end = Date.now() + 2000;
    for (;;) {
      const r = await api(`/api/records/${id}`);
      if (r.status === 200) return r.body;
      if (Date.now() > end) throw new Error(`trace ${id} not readable within 2 s`);
      await new Promise((res) => setTimeout(res, 50));
    }
  };

  beforeAll(async () => {
    up = await startMockOpenAI();
    const dir = mkdtempSync(join(tmpdir(), 'gw-traces-'));
    gw = await startGateway(
      `
traces: { jsonl: "${join(dir, 'trace.jsonl')}" }
providers:
  up: { type: openai, base_url: "${up.baseUrl}", api_key: ${UPSTREAM_KEY} }
routes:
  - match: { exact: gpt-t }
    targets: [ { provider: up, model: upstream-t } ]
  - match: { exact: same-name }
    targets: [ { provider: up } ]
`,
      { dir },
    );
    client = new OpenAI({ baseURL: gw.baseURL, apiKey: 'caller', maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
  });

  it('records a non-stream call in full within 2 s', async () => {
    const raw = await client.chat.completions
      .create(
        { model: 'gpt-t', messages: [{ role: 'user', content: 'record me' }] },
        { headers: { 'X-Trace-Metadata': JSON.stringify({ team: 'a' }) } },
      )
      .withResponse();
    const id = raw.response.headers.get('x-gateway-trace-id')!;
    const t = await waitForRecord(id);
    expect(t).toMatchObject({
      id,
      endpoint: '/v1/chat/completions',
      model: 'gpt-t',
      provider: 'up',
      upstream_model: 'upstream-t',
      stream: false,
      status: 'success',
      http_status: 200,
      turn: 1,
      metadata: { team: 'a' },
      flags: { multimodal: false, tools: false },
    });
    expect(t.request).toEqual({ model: 'gpt-t', messages: [{ role: 'user', content: 'record me' }] });
    expect(t.upstream_request.model).toBe('upstream-t');
    expect(t.response.choices[0].message.content).toBe('Echo: record me');
    expect(t.usage.source).toBe('provider');
    expect(t.usage.total_tokens).toBeGreaterThan(0);
    expect(t.attempts).toEqual([
      expect.objectContaining({ provider: 'up', model: 'upstream-t', status: 200, error: null }),
    ]);
    expect(new Date(t.created_at).toISOString()).toBe(t.created_at);
  });

  it('reassembles a stream with tool calls, and records usage the client did not ask for', async () => {
    const tools: OpenAI.Chat.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } },
    ];
    const stream = await client.chat.completions
      .create({
        model: 'gpt-t',
        stream: true,
        tools,
        messages: [{ role: 'user', content: 'weather in Oslo' }],
      })
      .withResponse();
    for await (const _ of stream.data) void _;
    const t = await waitForRecord(stream.response.headers.get('x-gateway-trace-id')!);
    const call = t.response.choices[0].message.tool_calls[0];
    expect(call.function.name).toBe('lookup');
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Oslo', query: 'weather in Oslo' });
    expect(t.response.choices[0].finish_reason).toBe('tool_calls');
    expect(t.usage.source).toBe('provider');
    expect(t.upstream_request.stream_options).toEqual({ include_usage: true });
    expect(t.request.stream_options).toBeUndefined();
    expect(t.flags.tools).toBe(true);
    expect(t.ttft_ms).toBeGreaterThan(0);
  });

  it('records the upstream request of a stream as sent: the client body plus the usage request', async () => {
    // Same model upstream and no transform: the client's own bytes go upstream, edited in place.
    const stream = await client.chat.completions
      .create({ model: 'same-name', stream: true, messages: [{ role: 'user', content: 'bytes as sent' }] })
      .withResponse();
    let text = '';
    for await (const c of stream.data) text += c.choices[0]?.delta?.content ?? '';
    const t = await waitForRecord(stream.response.headers.get('x-gateway-trace-id')!);
    expect(t.request).toEqual({
      model: 'same-name',
      stream: true,
      messages: [{ role: 'user', content: 'bytes as sent' }],
    });
    expect(t.upstream_request).toEqual({ ...t.request, stream_options: { include_usage: true } });
    expect(t.response.choices[0].message.content).toBe(text);
    expect(t.usage.source).toBe('provider');
  });

  it('threads a conversation into turns of one session, and honours X-Session-Id', async () => {
    const first = await client.chat.completions
      .create({ model: 'gpt-t', messages: [{ role: 'user', content: 'Plan a trip to Rome' }] })
      .withResponse();
    const t1 = await waitForRecord(first.response.headers.get('x-gateway-trace-id')!);
    const second = await client.chat.completions
      .create({
        model: 'gpt-t',
        messages: [
          { role: 'user', content: 'Plan a trip to Rome' },
          { role: 'assistant', content: first.data.choices[0]!.message.content },
          { role: 'user', content: 'and Naples?' },
        ],
      })
      .withResponse();
    const t2 = await waitForRecord(second.response.headers.get('x-gateway-trace-id')!);
    expect(t2.session_id).toBe(t1.session_id);
    expect(t2.turn).toBe(2);
    const sessions = await api('/api/sessions?limit=50');
    const s = sessions.body.data.find((x: { id: string }) => x.id === t1.session_id);
    expect(s).toMatchObject({ name: 'Plan a trip to Rome', turns: 2, models: ['gpt-t'] });
    const records = await api(`/api/sessions/${t1.session_id}/records`);
    expect(records.body.data.map((r: { turn: number }) => r.turn)).toEqual([1, 2]);

    const ids: string[] = [];
    for (const q of ['a', 'b']) {
      const r = await client.chat.completions
        .create(
          { model: 'gpt-t', messages: [{ role: 'user', content: q }] },
          { headers: { 'X-Session-Id': 'my-session' } },
        )
        .withResponse();
      ids.push(r.response.headers.get('x-gateway-trace-id')!);
    }
    const turns = await Promise.all(ids.map(async (id) => (await waitForRecord(id)).turn));
    expect(turns).toEqual([1, 2]);
  });

  it('lists newest first with cursor paging and filters, searches text, deletes', async () => {
    const page1 = await api('/api/records?limit=2');
    expect(page1.body.data).toHaveLength(2);
    expect(page1.body.next_cursor).toEqual(expect.any(String));
    expect(page1.body.data[0].request).toBeUndefined();
    const page2 = await api(`/api/records?limit=2&cursor=${page1.body.next_cursor}`);
    expect(page2.body.data[0].id).not.toBe(page1.body.data[1].id);
    expect(Date.parse(page2.body.data[0].created_at)).toBeLessThanOrEqual(
      Date.parse(page1.body.data[1].created_at),
    );
    const search = await api('/api/records?q=Naples');
    expect(search.body.data).toHaveLength(1);
    const byProvider = await api('/api/records?provider=up&limit=500');
    expect(byProvider.body.data.length).toBeGreaterThan(3);
    expect((await api('/api/records?provider=nope')).body.data).toEqual([]);
    const none = await api('/api/records?model=nope');
    expect(none.body).toEqual({ data: [], next_cursor: null });
    const id = search.body.data[0].id;
    expect((await api(`/api/records/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await api(`/api/records/${id}`)).status).toBe(404);
  });

  it('replays a record, original or edited, into a new trace with replay_of', async () => {
    const r = await client.chat.completions
      .create({ model: 'gpt-t', messages: [{ role: 'user', content: 'original' }] })
      .withResponse();
    const id = r.response.headers.get('x-gateway-trace-id')!;
    await waitForRecord(id);
    const same = await api(`/api/records/${id}/replay`, { method: 'POST', body: '{}' });
    expect(same.status).toBe(200);
    expect(same.body.response.choices[0].message.content).toBe('Echo: original');
    const edited = await api(`/api/records/${id}/replay`, {
      method: 'POST',
      body: JSON.stringify({ request: { model: 'gpt-t', messages: [{ role: 'user', content: 'edited' }] } }),
    });
    expect(edited.body.response.choices[0].message.content).toBe('Echo: edited');
    const t = await waitForRecord(edited.body.record_id);
    expect(t.replay_of).toBe(id);
  });

  it('keeps a cancelled stream with its partial output', async () => {
    up.enqueue({ chunkDelayMs: 80 });
    const controller = new AbortController();
    const stream = await client.chat.completions
      .create(
        {
          model: 'gpt-t',
          stream: true,
          messages: [{ role: 'user', content: 'one two three four five six seven' }],
        },
        { signal: controller.signal },
      )
      .withResponse();
    let n = 0;
    for await (const _ of stream.data) if (++n === 3) controller.abort();
    const t = await waitForRecord(stream.response.headers.get('x-gateway-trace-id')!);
    expect(t.status).toBe('cancelled');
    expect(t.http_status).toBe(499);
    expect(t.response.choices[0].message.content.length).toBeGreaterThan(0);
  });

  it('ingests a trace from application code, and refuses a bad one in OpenAI error shape', async () => {
    const ok = await api('/api/traces', {
      method: 'POST',
      body: JSON.stringify({
        session_id: 'app-1',
        turn_number: 3,
        request: { model: 'app-model', messages: [{ role: 'user', content: 'ingested Capybara' }] },
        response: {
          choices: [{ index: 0, message: { role: 'assistant', content: 'yes' }, finish_reason: 'stop' }],
        },
        status: 'success',
        metadata: { app: 'x' },
        latency_ms: 42,
      }),
    });
    expect(ok.status).toBe(201);
    const t = await waitForRecord(ok.body.id);
    expect(t).toMatchObject({
      session_id: 'app-1',
      turn: 3,
      model: 'app-model',
      latency_ms: 42,
      metadata: { app: 'x' },
    });
    const search = await api('/api/records?q=capybara');
    expect(search.body.data.map((r: { id: string }) => r.id)).toEqual([ok.body.id]);
    const bad = await api('/api/traces', {
      method: 'POST',
      body: JSON.stringify({ request: {}, status: 'done' }),
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ param: 'status', type: 'invalid_request_error' });
    const anon = await fetch(`${gw.url}/api/traces`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(anon.status).toBe(401);
  });

  it('exports traces as JSON lines with bodies, and answers stats', async () => {
    const res = await fetch(`${gw.url}/api/records/export?format=jsonl&model=gpt-t`, {
      headers: { authorization: `Bearer ${MASTER}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(3);
    expect(lines.every((l: { model: string; request: unknown }) => l.model === 'gpt-t' && l.request)).toBe(
      true,
    );
    const stats = await api('/api/stats?bucket=1h');
    expect(stats.status).toBe(200);
    const gpt = stats.body.by_model.find((m: { model: string }) => m.model === 'gpt-t');
    expect(gpt.requests).toBe(lines.length);
    expect(gpt.latency_p95_ms).toBeGreaterThanOrEqual(gpt.latency_p50_ms);
    expect(stats.body.buckets.length).toBeGreaterThan(0);
    expect((await api('/api/stats?bucket=fortnight')).status).toBe(400);
  });

  it('refuses the API without the master key', async () => {
    const res = await fetch(`${gw.url}/api/records`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { type: expect.any(String) } });
  });

  it('never stores a credential: the SQLite file and the JSONL hold no key', async () => {
    const jsonl = readFileSync(join(gw.dir, 'trace.jsonl'), 'utf8');
    expect(jsonl.trim().split('\n').length).toBeGreaterThan(3);
    for (const file of ['gateway.db', 'gateway.db-wal']) {
      let bytes = '';
      try {
        bytes = readFileSync(join(gw.dir, file)).toString('latin1');
      } catch {
        continue;
      }
      for (const secret of [UPSTREAM_KEY, MASTER]) expect(bytes.includes(secret)).toBe(false);
    }
    for (const secret of [UPSTREAM_KEY, MASTER, 'Bearer caller']) expect(jsonl.includes(secret)).toBe(false);
  });
});
