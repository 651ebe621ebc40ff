/**
 * The web UI at /ui, driven in Chromium against the real gateway with the mock provider:
 * sign-in, live call list, record detail, session thread, replay with diff, keys, dashboard,
 * and the layout at 1280×800 and 390×844 (screenshots in test-output/screenshots/).
 */
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startGateway, type Harness } from '../support/gateway-harness';
import { ensureUiBuilt, launchChromium, SCREENSHOT_DIR } from '../support/browser';

const MASTER = 'test-master-key-0123456789abcdef';
const CONFIG = `providers:
  mock: { type: mock }
routes:
  - match: { any: true }
    targets: [ { provider: mock } ]
`;

jest.setTimeout(60_000);

let gw: Harness;
let browser: Browser;
let desktop: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

async function chat(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${gw.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${MASTER}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

async function shot(p: Page, name: string): Promise<void> {
  await p.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** Fails when the page is wider than the viewport (content pushed off-screen). */
async function expectNoHorizontalOverflow(p: Page): Promise<void> {
  const width = p.viewportSize()?.width ?? 0;
  const scrollWidth = await p.evaluate<number>('document.documentElement.scrollWidth');
  expect(scrollWidth).toBeLessThanOrEqual(width);
}

async function signIn(p: Page): Promise<void> {
  await p.goto(`${gw.url}/ui/`);
  await p.fill('#master-key', MASTER);
  await p.click('button[type=submit]');
  await p.waitForSelector('.topbar');
}

function track(p: Page): void {
  p.on('pageerror', (e) => pageErrors.push(e.message));
}

beforeAll(async () => {
  ensureUiBuilt();
  gw = await startGateway(CONFIG);
  browser = await launchChromium();
  desktop = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await desktop.newPage();
  track(page);
  // Some history before the UI opens: a two-turn session and a call with tools.
  const first = await chat(
    {
      model: 'thread-model',
      messages: [
        { role: 'system', content: 'You answer briefly.' },
        { role: 'user', content: 'first question about rivers' },
      ],
    },
    { 'x-session-id': 'ui-session-1' },
  );
  const firstBody = (await first.json()) as { choices: Array<{ message: unknown }> };
  await chat(
    {
      model: 'thread-model',
      messages: [
        { role: 'system', content: 'You answer briefly.' },
        { role: 'user', content: 'first question about rivers' },
        firstBody.choices[0]!.message,
        { role: 'user', content: 'second question about lakes' },
      ],
    },
    { 'x-session-id': 'ui-session-1' },
  );
  await chat({
    model: 'tool-model',
    messages: [{ role: 'user', content: 'weather in Oslo' }],
    tools: [
      { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } },
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

describe('web UI at /ui', () => {
  it('redirects / to the UI and serves client routes from index.html', async () => {
    const root = await fetch(`${gw.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/ui/');
    const deep = await fetch(`${gw.url}/ui/records/whatever`);
    expect(deep.status).toBe(200);
    expect(deep.headers.get('content-type')).toContain('text/html');
    expect(await deep.text()).toContain('<div id="root">');
    expect((await fetch(`${gw.url}/ui/assets/missing.js`)).status).toBe(404);
    expect((await fetch(`${gw.url}/ui/..%2f..%2fpackage.json`)).status).toBe(404);
  });

  it('refuses a wrong master key with a clear message, then signs in with the right one', async () => {
    await page.goto(`${gw.url}/ui/`);
    await page.fill('#master-key', 'not-the-master-key');
    await page.click('button[type=submit]');
    const error = await page.waitForSelector('#signin-error');
    expect(await error.textContent()).toMatch(/not the master key/i);
    await shot(page, 'desktop-signin-error');
    await page.fill('#master-key', MASTER);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=call-row]');
    expect(await page.evaluate('sessionStorage.getItem("gateway.masterKey")')).toBe(MASTER);
  });

  it('shows a new call in the list within 2 s, without reload', async () => {
    await page.waitForSelector('[data-testid=call-row]');
    const res = await chat({
      model: 'live-model',
      messages: [{ role: 'user', content: 'live call appears' }],
    });
    expect(res.status).toBe(200);
    await res.text();
    const sent = Date.now();
    await page.waitForSelector('[data-testid=call-row]:has-text("live-model")', { timeout: 2000 });
    const elapsed = Date.now() - sent;
    expect(elapsed).toBeLessThan(2000);
    await shot(page, 'desktop-calls');
    await expectNoHorizontalOverflow(page);
  });

  it('filters the list by status and finds calls by text', async () => {
    await chat({ model: 'live-model' }); // 400: no messages → an error trace
    await page.waitForSelector('[data-testid=call-row]:has-text("error 400")', { timeout: 3000 });
    await page.selectOption('.filters select >> nth=0', 'error');
    await page.waitForFunction('document.querySelectorAll("[data-testid=call-row]").length === 1');
    expect(await page.textContent('[data-testid=call-row]')).toContain('error');
    await page.selectOption('.filters select >> nth=0', '');
    await page.fill('input.search', 'lakes');
    await page.waitForFunction('document.querySelectorAll("[data-testid=call-row]").length === 1');
    expect(page.url()).toContain('q=lakes');
    await page.fill('input.search', '');
    await page.waitForFunction('document.querySelectorAll("[data-testid=call-row]").length > 3');
  });

  it('opens a call: conversation, request, upstream request, response, attempts and usage', async () => {
    await page.click('[data-testid=call-row]:has-text("tool-model")');
    await page.waitForSelector('.record-page');
    expect(await page.textContent('.thread')).toContain('weather in Oslo');
    expect(await page.textContent('.msg-tool-call')).toContain('get_weather');
    await shot(page, 'desktop-record');
    await page.click('.tabs button:has-text("Request")');
    expect(await page.textContent('.json-view')).toContain('"tools"');
    await page.click('.json-view button:has-text("Raw")');
    expect(await page.textContent('.json-raw')).toContain('"model": "tool-model"');
    await page.click('.tabs button:has-text("Upstream request")');
    expect(await page.textContent('.json-view h3')).toContain('Upstream request');
    await page.click('.tabs button:has-text("Response")');
    expect(await page.textContent('.json-view')).not.toContain('get_weather'); // folded below depth 2
    await page.click('.json-view button:has-text("Expand all")');
    expect(await page.textContent('.json-view')).toContain('get_weather');
    await page.click('.tabs button:has-text("Attempts")');
    expect(await page.textContent('table.attempts')).toContain('mock');
    await page.click('.tabs button:has-text("Usage")');
    expect(await page.textContent('table.kv')).toContain('Prompt tokens');
    await shot(page, 'desktop-record-usage');
  });

  it('shows a session as a chat thread, turn by turn, with tokens and latency', async () => {
    await page.goto(`${gw.url}/ui/sessions/ui-session-1`);
    await page.waitForSelector('[data-testid=turn]');
    const turns = await page.$$('[data-testid=turn]');
    expect(turns).toHaveLength(2);
    const second = (await turns[1]!.textContent()) ?? '';
    expect(second).toContain('Turn 2');
    expect(second).toContain('second question about lakes');
    expect(second).not.toContain('first question about rivers'); // only what the turn added
    expect(second).toMatch(/tok/);
    expect(await page.$$('.msg-system')).toHaveLength(1);
    await shot(page, 'desktop-session');
  });

  it('replays an edited request and shows the new response beside the original with a diff', async () => {
    const list = await api<{ data: Array<{ id: string; model: string }> }>(
      '/api/records?model=live-model&status=success',
    );
    const original = list.data[0]!;
    await page.goto(`${gw.url}/ui/records/${original.id}/replay`);
    await page.waitForSelector('#replay-editor');
    await page.fill('#replay-editor', '{ "model": "live-model", ');
    expect(await page.textContent('#editor-status')).toMatch(/Invalid JSON/);
    expect(await page.isDisabled('button:has-text("Send")')).toBe(true);
    await page.fill(
      '#replay-editor',
      JSON.stringify(
        { model: 'live-model', messages: [{ role: 'user', content: 'edited call appears' }] },
        null,
        2,
      ),
    );
    expect(await page.textContent('#editor-status')).toBe('Valid request.');
    await page.click('button:has-text("Send")');
    await page.waitForSelector('[data-testid=compare]');
    await page.waitForSelector('.metrics td:has-text("ms") >> nth=1');
    const diff = await page.waitForSelector('[data-testid=diff]');
    expect(await diff.$eval('.d-del', (e) => e.textContent)).toContain('live');
    expect(await diff.$eval('.d-add', (e) => e.textContent)).toContain('edited');
    await shot(page, 'desktop-replay');
    await page.click('[data-testid=new-record-link]');
    await page.waitForSelector('.record-page .notice');
    expect(await page.textContent('.record-page .notice')).toContain(original.id);
  });

  it('creates a key (secret shown once), and revokes it', async () => {
    await page.goto(`${gw.url}/ui/keys`);
    await page.click('button:has-text("New key")');
    await page.fill('#new-name', 'ui-test-key');
    await page.fill('#new-rpm', '120');
    await page.click('button:has-text("Create key")');
    const secret = ((await page.textContent('[data-testid=secret]')) ?? '').trim();
    expect(secret).toMatch(/^sk-gw-[A-Za-z0-9]{32,}$/);
    const used = await chat(
      { model: 'any', messages: [{ role: 'user', content: 'with key' }] },
      { authorization: `Bearer ${secret}` },
    );
    expect(used.status).toBe(200);
    await shot(page, 'desktop-keys-created');
    await page.click('button:has-text("I have stored it")');
    expect(await page.$('[data-testid=secret]')).toBeNull();
    expect(await page.content()).not.toContain(secret);
    await page.click('[data-testid=key-item][data-name="ui-test-key"] .key-summary');
    await page.waitForSelector('.key-detail .usage-cards');
    expect(await page.textContent('.key-summary')).toContain('120 rpm');
    await page.click('.key-detail button:has-text("Revoke")');
    await page.click('.key-detail button:has-text("Yes, revoke")');
    await page.waitForSelector('[data-testid=key-item][data-name="ui-test-key"]', { state: 'detached' });
    const after = await chat(
      { model: 'any', messages: [{ role: 'user', content: 'revoked' }] },
      { authorization: `Bearer ${secret}` },
    );
    expect(after.status).toBe(401);
  });

  it('renders the dashboard with data', async () => {
    await page.goto(`${gw.url}/ui/dashboard`);
    await page.waitForSelector('.chart canvas');
    await page.waitForFunction(
      'Number(document.querySelector("[data-testid=total-requests]").textContent) > 0',
    );
    expect(await page.$$('.chart canvas')).toHaveLength(3);
    expect(await page.textContent('.breakdowns')).toContain('live-model');
    expect(await page.textContent('.breakdowns')).toContain('mock');
    await shot(page, 'desktop-dashboard');
    await expectNoHorizontalOverflow(page);
  });

  it('lays out on a phone (390×844) with a collapsing menu', async () => {
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    const p = await phone.newPage();
    track(p);
    await p.goto(`${gw.url}/ui/`);
    await shot(p, 'phone-signin');
    await signIn(p);
    await p.waitForSelector('[data-testid=call-row]');
    expect(await p.isVisible('.nav')).toBe(false);
    await shot(p, 'phone-calls');
    await expectNoHorizontalOverflow(p);
    await p.click('.menu-toggle');
    expect(await p.isVisible('.nav')).toBe(true);
    await shot(p, 'phone-menu');
    await p.click('.nav a:has-text("Dashboard")');
    await p.waitForSelector('.chart canvas');
    expect(await p.isVisible('.nav')).toBe(false);
    await shot(p, 'phone-dashboard');
    await expectNoHorizontalOverflow(p);
    const list = await api<{ data: Array<{ id: string }> }>('/api/records?model=tool-model');
    await p.goto(`${gw.url}/ui/records/${list.data[0]!.id}`);
    await p.waitForSelector('.record-page');
    await shot(p, 'phone-record');
    await expectNoHorizontalOverflow(p);
    await p.goto(`${gw.url}/ui/records/${list.data[0]!.id}/replay`);
    await p.waitForSelector('#replay-editor');
    await p.click('button:has-text("Send")');
    await p.waitForSelector('[data-testid=compare]');
    await shot(p, 'phone-replay');
    await expectNoHorizontalOverflow(p);
    await p.goto(`${gw.url}/ui/sessions/ui-session-1`);
    await p.waitForSelector('[data-testid=turn]');
    await shot(p, 'phone-session');
    await expectNoHorizontalOverflow(p);
    await p.goto(`${gw.url}/ui/keys`);
    await p.click('button:has-text("New key")');
    await shot(p, 'phone-keys');
    await expectNoHorizontalOverflow(p);
    await phone.close();
  });

  it('raised no script errors in the pages', () => {
    expect(pageErrors).toEqual([]);
  });
});
