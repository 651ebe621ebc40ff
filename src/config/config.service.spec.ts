import fs from 'node:fs';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeRegistry } from '../../test/support/fake-adapters';
import { loadConfig, type LoadedConfig } from './config.loader';
import { ConfigService } from './config.service';

const dir = mkdtempSync(join(tmpdir(), 'gw-live-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = (model: string, provider = 'm') =>
  `providers:\n  m: { type: mock }\nroutes:\n  - match: { exact: ${model} }\n    targets: [ { provider: ${provider} } ]\n`;

interface LogLine {
  level: 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg: string;
}

let n = 0;
const services: ConfigService[] = [];
afterEach(() => services.splice(0).forEach((s) => s.close()));

function setup(initial = config('one')) {
  const path = join(dir, `gw-${++n}.yaml`);
  writeFileSync(path, initial);
  const logs: LogLine[] = [];
  const log = (level: LogLine['level']) => (obj: object, msg: string) =>
    logs.push({ level, obj: obj as Record<string, unknown>, msg });
  const logger = { info: log('info'), warn: log('warn'), error: log('error') };
  const reload = (): LoadedConfig => loadConfig(path, { env: {}, registry: fakeRegistry() });
  const service = new ConfigService(reload(), logger, reload);
  services.push(service);
  return { path, logs, service };
}

const exactOf = (c: LoadedConfig) => c.config.routes[0]?.match;

async function waitFor(check: () => boolean, ms: number): Promise<number> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return Date.now() - start;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ConfigService', () => {
  it('serves one snapshot until a new config is applied, leaving the old one intact', () => {
    const { path, service } = setup();
    const first = service.current;
    expect(service.current).toBe(first);
    expect(service.path).toBe(path);
    writeFileSync(path, config('two'));
    expect(service.refresh()).toBe(true);
    expect(exactOf(service.current)).toEqual({ exact: 'two' });
    expect(exactOf(first)).toEqual({ exact: 'one' });
    expect(service.refresh()).toBe(false); // unchanged file: nothing to do
  });

  it('applies a valid edit within 2 s once watching, and tells subscribers', async () => {
    const { path, service, logs } = setup();
    const seen: LoadedConfig[] = [];
    service.onChange((c) => seen.push(c));
    service.watch();
    writeFileSync(path, config('two'));
    const elapsed = await waitFor(() => seen.length > 0, 2000);
    expect(elapsed).toBeLessThan(2000);
    expect(exactOf(service.current)).toEqual({ exact: 'two' });
    expect(seen).toEqual([service.current]);
    expect(logs).toContainEqual({ level: 'info', obj: { path }, msg: 'config reloaded' });
  });

  it('refuses an invalid edit, logs its fault and keeps the running config', async () => {
    const { path, service, logs } = setup();
    const running = service.current;
    const seen: LoadedConfig[] = [];
    service.onChange((c) => seen.push(c));
    service.watch();
    writeFileSync(path, config('two', 'azure-west'));
    await waitFor(() => logs.some((l) => l.level === 'warn'), 2000);
    const warning = logs.find((l) => l.level === 'warn')!;
    expect(warning.msg).toBe('config edit refused; the running config stays');
    expect(warning.obj.error).toBe('routes[0].targets[0].provider: unknown provider "azure-west"');
    expect(service.current).toBe(running);
    expect(seen).toEqual([]);

    // A later valid edit is applied as usual.
    writeFileSync(path, config('three'));
    await waitFor(() => seen.length === 1, 2000);
    expect(exactOf(service.current)).toEqual({ exact: 'three' });
  });

  it('follows an editor that saves by writing a new file and renaming it over the old one', async () => {
    const { path, service } = setup();
    service.watch();
    const temp = `${path}.tmp`;
    writeFileSync(temp, config('renamed'));
    renameSync(temp, path);
    await waitFor(() => {
      const match = exactOf(service.current);
      return match !== undefined && 'exact' in match && match.exact === 'renamed';
    }, 2000);
  });

  it('still sees an edit within 2 s when fs.watch is unavailable (the 1 s poll)', async () => {
    const spy = jest.spyOn(fs, 'watch').mockImplementation(() => {
      throw new Error('no inotify here');
    });
    try {
      const { path, service } = setup();
      service.watch();
      expect(spy).toHaveBeenCalled();
      writeFileSync(path, config('polled'));
      const elapsed = await waitFor(() => {
        const match = exactOf(service.current);
        return match !== undefined && 'exact' in match && match.exact === 'polled';
      }, 2000);
      expect(elapsed).toBeLessThan(2000);
    } finally {
      spy.mockRestore();
    }
  });

  it('stops watching on close()', async () => {
    const { path, service } = setup();
    const seen: LoadedConfig[] = [];
    service.onChange((c) => seen.push(c));
    service.watch();
    service.close();
    writeFileSync(path, config('two'));
    await sleep(1400); // longer than the poll interval plus the debounce
    expect(seen).toEqual([]);
    expect(exactOf(service.current)).toEqual({ exact: 'one' });
  });

  it('keeps the config while the file is missing, saying so once', () => {
    const { path, service, logs } = setup();
    rmSync(path);
    expect(service.refresh()).toBe(false);
    expect(service.refresh()).toBe(false);
    expect(logs.filter((l) => l.level === 'warn')).toEqual([
      { level: 'warn', obj: { path }, msg: 'config file unreadable; the running config stays' },
    ]);
    expect(exactOf(service.current)).toEqual({ exact: 'one' });
  });

  it('unsubscribes, and a failing subscriber neither stops the others nor the reload', () => {
    const { path, service, logs } = setup();
    const seen: string[] = [];
    const off = service.onChange(() => seen.push('removed'));
    service.onChange(() => {
      throw new Error('listener broke');
    });
    service.onChange(() => seen.push('kept'));
    off();
    writeFileSync(path, config('two'));
    expect(service.refresh()).toBe(true);
    expect(seen).toEqual(['kept']);
    expect(logs.some((l) => l.level === 'error' && l.msg === 'config change listener failed')).toBe(true);
  });
});
