/**
 * The Docker image, mimicked without a Docker engine (SPEC §7). The test reads the Dockerfile and
 * builds the runtime stage's file system in a clean temp folder standing for WORKDIR /app: each
 * COPY from the build context is copied from the repository; `COPY --from=deps /app/node_modules`
 * is made the way that stage makes it (`npm ci --omit=dev`, from the npm cache: --prefer-offline);
 * `COPY --from=build` takes what that stage's `npm run build` produces, the repository's dist/ and
 * web/dist (built by `npm run build` before `npm test` in .ci/run); `RUN mkdir -p` is replayed.
 * Then the gateway starts exactly as CMD says, with the image's ENV (paths under /app mapped to the
 * folder), and must answer /health, the HEALTHCHECK command, the UI, and a chat call through the
 * mock provider with the openai SDK. A second start uses docker-compose.yml's gateway environment
 * against this machine's PostgreSQL and Redis.
 *
 * What cannot be mimicked here: apt-get, chown and USER (the test checks USER names a non-root
 * user), and the native compile of better-sqlite3: npm runs no install scripts here
 * (--ignore-scripts, there is no network for prebuilt binaries) and the addon compiled by the main
 * install for this platform is copied in its place.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import OpenAI from 'openai';
import { parse as parseYaml } from 'yaml';
import { createTempPostgres, reachable, PG_ADMIN_URL, type TempPostgres } from '../support/temp-postgres';

const ROOT = resolve(__dirname, '../..');

interface Instruction {
  op: string;
  args: string;
}

interface Stage {
  name: string;
  base: string;
  steps: Instruction[];
}

/** Instructions of the Dockerfile, continuation lines joined, comments dropped. */
function parseDockerfile(text: string): Stage[] {
  const lines: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      current += line.slice(0, -1) + ' ';
      continue;
    }
    lines.push(current + line);
    current = '';
  }
  const stages: Stage[] = [];
  for (const line of lines) {
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const op = (m[1] as string).toUpperCase();
    const args = (m[2] as string).trim();
    if (op === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ base: f?.[1] ?? args, name: f?.[2] ?? String(stages.length), steps: [] });
    } else stages.at(-1)?.steps.push({ op, args });
  }
  return stages;
}

/** `ENV a=b c="d e"` (and the old `ENV a b`). */
function parseEnv(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!args.includes('=')) {
    const [k, ...rest] = args.split(/\s+/);
    out[k as string] = rest.join(' ');
    return out;
  }
  for (const m of args.matchAll(/(\w+)=("([^"]*)"|\S*)/g)) out[m[1] as string] = m[3] ?? (m[2] as string);
  return out;
}

interface CopyStep {
  from: string | null;
  sources: string[];
  dest: string;
}

function parseCopy(args: string): CopyStep {
  const words = args.split(/\s+/);
  let from: string | null = null;
  const rest: string[] = [];
  for (const w of words) {
    if (w.startsWith('--from=')) from = w.slice('--from='.length);
    else if (!w.startsWith('--')) rest.push(w);
  }
  return { from, sources: rest.slice(0, -1), dest: rest.at(-1) as string };
}

function run(cmd: string, args: string[], cwd: string, timeoutMs: number): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: timeoutMs, env: process.env });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => done(port));
    });
  });
}

async function waitHealthy(
  url: string,
  child: ChildProcess,
  output: () => string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const r = await fetch(`${url}/health`);
      if (r.status === 200) return;
    } catch {
      // not yet listening
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the image's gateway did not answer /health:\n${output()}`);
}

/** The prod packages whose install script npm runs (native addons). */
function packagesWithInstallScripts(): string[] {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean; hasInstallScript?: boolean }>;
  };
  return Object.entries(lock.packages)
    .filter(([path, p]) => path !== '' && p.hasInstallScript && !p.dev)
    .map(([path]) => path);
}

function devPackages(): string[] {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean }>;
  };
  return Object.entries(lock.packages)
    .filter(([path, p]) => p.dev === true && /^node_modules\/(@[^/]+\/)?[^/]+$/.test(path))
    .map(([path]) => path);
}

interface Image {
  root: string;
  env: Record<string, string>;
  cmd: string[];
  healthcheck: string;
  user: string;
  volumes: string[];
}

/** Builds the runtime stage's file system under `root`; returns its ENV (mapped), CMD and the rest. */
function mimicImage(stages: Stage[], root: string): Image {
  const byName = new Map(stages.map((s) => [s.name, s]));
  const runtime = stages.at(-1) as Stage;
  let workdir = '/';
  const env: Record<string, string> = {};
  let cmd: string[] = [];
  let healthcheck = '';
  let user = 'root';
  const volumes: string[] = [];
  const host = (p: string): string => {
    const abs = isAbsolute(p) ? p : join(workdir, p);
    return join(root, relative(workdir === '/' ? '/' : workdir, abs));
  };
  const mapValue = (v: string): string => v.split(workdir).join(root);

  const stageRuns = (stage: Stage): string[] => {
    const own = stage.steps.filter((s) => s.op === 'RUN').map((s) => s.args);
    const parent = byName.get(stage.base);
    return parent ? [...stageRuns(parent), ...own] : own;
  };

  for (const step of runtime.steps) {
    switch (step.op) {
      case 'WORKDIR':
        workdir = step.args;
        mkdirSync(root, { recursive: true });
        break;
      case 'ENV':
        Object.assign(env, parseEnv(step.args));
        break;
      case 'COPY': {
        const c = parseCopy(step.args);
        const dest = host(c.dest);
        if (c.from === null) {
          for (const src of c.sources) {
            const from = join(ROOT, src);
            const to = c.dest.endsWith('/') && !statSync(from).isDirectory() ? join(dest, src) : dest;
            mkdirSync(dirname(to), { recursive: true });
            cpSync(from, to, { recursive: true });
          }
          break;
        }
        const stage = byName.get(c.from);
        if (!stage) throw new Error(`COPY --from=${c.from}: no such stage`);
        const runs = stageRuns(stage);
        for (const src of c.sources) {
          const npmCi = runs
            .map((r) => /npm ci\b[^&;]*--omit=dev[^&;]*/.exec(r)?.[0])
            .find((r) => r !== undefined);
          if (src.endsWith('/node_modules') && npmCi) {
            // The deps stage: its own COPY lines, then npm ci --omit=dev from the npm cache.
            const depsDir = mkdtempSync(join(tmpdir(), 'gw-image-deps-'));
            try {
              for (const s of stage.steps.filter((x) => x.op === 'COPY').map((x) => parseCopy(x.args)))
                for (const f of s.sources) cpSync(join(ROOT, f), join(depsDir, f));
              // The stage's own npm ci flags, served from the npm cache, install scripts replaced below.
              const flags = npmCi.trim().split(/\s+/).slice(2);
              run('npm', ['ci', ...flags, '--prefer-offline', '--ignore-scripts'], depsDir, 110_000);
              for (const pkg of packagesWithInstallScripts()) {
                const built = join(ROOT, pkg, 'build');
                if (!existsSync(built)) throw new Error(`${pkg} has no compiled build/ in the main install`);
                cpSync(built, join(depsDir, pkg, 'build'), { recursive: true });
              }
              cpSync(join(depsDir, 'node_modules'), dest, { recursive: true });
            } finally {
              rmSync(depsDir, { recursive: true, force: true });
            }
          } else if (runs.some((r) => /npm run build\b/.test(r))) {
            // The build stage: what `npm run build` wrote into the repository.
            const stageWorkdir =
              stage.steps.find((x) => x.op === 'WORKDIR')?.args ??
              byName.get(stage.base)?.steps.find((x) => x.op === 'WORKDIR')?.args ??
              '/';
            const from = join(ROOT, relative(stageWorkdir, src));
            if (!existsSync(from))
              throw new Error(`${relative(ROOT, from)} is missing: run \`npm run build\` first`);
            mkdirSync(dirname(dest), { recursive: true });
            cpSync(from, dest, { recursive: true });
          } else throw new Error(`cannot mimic COPY --from=${c.from} ${src}`);
        }
        break;
      }
      case 'RUN':
        for (const part of step.args.split('&&').map((p) => p.trim())) {
          const m = /^mkdir\s+-p\s+(.+)$/.exec(part);
          if (m) for (const d of (m[1] as string).split(/\s+/)) mkdirSync(host(d), { recursive: true });
          // chown: the folder is the test user's already.
        }
        break;
      case 'USER':
        user = step.args;
        break;
      case 'VOLUME':
        volumes.push(...(JSON.parse(step.args) as string[]));
        break;
      case 'HEALTHCHECK':
        healthcheck = step.args.replace(/^(--\S+\s+)*CMD\s+/, '');
        break;
      case 'CMD':
        cmd = JSON.parse(step.args) as string[];
        break;
      default:
        break;
    }
  }
  const mapped: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) mapped[k] = mapValue(v);
  return { root, env: mapped, cmd, healthcheck, user, volumes };
}

interface Started {
  url: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<number | null>;
}

async function startImage(image: Image, extraEnv: Record<string, string>): Promise<Started> {
  const port = await freePort();
  const [command, ...args] = image.cmd;
  const child = spawn(command === 'node' ? process.execPath : (command as string), args, {
    cwd: image.root,
    env: { PATH: process.env.PATH ?? '', HOME: image.root, ...image.env, PORT: String(port), ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitHealthy(url, child, () => out);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    url,
    child,
    output: () => out,
    stop: async () => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

const stages = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'gw-image-'));
let image: Image;
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the Docker image, mimicked', () => {
  it('is multi-stage, non-root, with a HEALTHCHECK on /health and the /app/data volume', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    image = mimicImage(stages, join(work, 'app'));
    expect(image.user).not.toMatch(/^(root|0)(:|$)/);
    expect(image.volumes).toContain('/app/data');
    expect(image.healthcheck).toContain('/health');
    expect(image.env.HOST).toBe('0.0.0.0');
    expect(image.env.NODE_ENV).toBe('production');
    expect(image.cmd[0]).toBe('node');
  }, 150_000);

  it('holds only what the runtime needs: compiled code, the UI, production dependencies', () => {
    const root = image.root;
    expect(existsSync(join(root, 'dist/main.js'))).toBe(true);
    expect(existsSync(join(root, 'web/dist/index.html'))).toBe(true);
    expect(existsSync(join(root, 'config/gateway.yaml'))).toBe(true);
    expect(existsSync(join(root, 'src'))).toBe(false);
    expect(existsSync(join(root, 'test'))).toBe(false);
    expect(existsSync(join(root, 'package-lock.json'))).toBe(false);
    const dev = devPackages().filter((p) => existsSync(join(root, p)));
    expect(dev).toEqual([]);
    for (const p of ['typescript', 'ts-node', 'jest', 'openai', 'vite'])
      expect(existsSync(join(root, 'node_modules', p))).toBe(false);
    for (const p of ['@nestjs/core', 'better-sqlite3', 'pg', 'ioredis', '@opentelemetry/sdk-trace-base'])
      expect(existsSync(join(root, 'node_modules', p))).toBe(true);
  });

  it('starts as CMD says: /health, the HEALTHCHECK command, the UI, a chat call; SIGTERM exits 0', async () => {
    const gw = await startImage(image, {});
    try {
      const health = spawnSync('sh', ['-c', image.healthcheck], {
        env: { PATH: process.env.PATH ?? '', ...image.env, PORT: new URL(gw.url).port },
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(health.status).toBe(0);
      const ui = await fetch(`${gw.url}/ui/`);
      expect(ui.status).toBe(200);
      expect(ui.headers.get('content-type')).toContain('text/html');
      const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'no-key-needed', maxRetries: 0 });
      const res = await client.chat.completions.create({
        model: 'mock',
        messages: [{ role: 'user', content: 'hello from the image' }],
      });
      expect(res.choices[0]?.message.content).toBe('hello from the image');
      // No master key in the environment: generated once into the data volume, mode 0600.
      const keyFile = join(image.root, 'data/master.key');
      expect(existsSync(keyFile)).toBe(true);
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      expect(existsSync(join(image.root, 'data/gateway.db'))).toBe(true);
    } finally {
      expect(await gw.stop()).toBe(0);
    }
  }, 90_000);
});

describe('docker-compose.yml', () => {
  const compose = parseYaml(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
    services: Record<
      string,
      {
        build?: unknown;
        image?: string;
        environment?: Record<string, string>;
        depends_on?: Record<string, { condition: string }>;
        healthcheck?: { test: unknown };
        volumes?: string[];
      }
    >;
    volumes?: Record<string, unknown>;
  };
  let pg: TempPostgres | null = null;

  afterAll(async () => {
    await pg?.drop();
  });

  it('runs the gateway with PostgreSQL and Redis, each with a healthcheck, wired by URL', () => {
    const { gateway, postgres, redis } = compose.services;
    expect(gateway?.build).toBeDefined();
    expect(postgres?.image).toMatch(/^postgres:/);
    expect(redis?.image).toMatch(/^redis:/);
    expect(postgres?.healthcheck?.test).toBeDefined();
    expect(redis?.healthcheck?.test).toBeDefined();
    expect(gateway?.environment?.DATABASE_URL).toMatch(/^postgres:\/\/[^@]+@postgres:5432\//);
    expect(gateway?.environment?.REDIS_URL).toMatch(/^redis:\/\/redis:6379/);
    expect(gateway?.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
    expect(gateway?.volumes?.some((v) => v.endsWith(':/app/data'))).toBe(true);
  });

  it("the image runs with the gateway service's environment on this machine's PostgreSQL and Redis", async () => {
    const env = compose.services.gateway?.environment ?? {};
    if (!(await reachable(PG_ADMIN_URL)) || !(await reachable('redis://127.0.0.1:6379')))
      throw new Error(
        'PostgreSQL (5432) and Redis (6379) must run on 127.0.0.1 for this test (.ci/run starts them)',
      );
    pg = await createTempPostgres('image');
    const resolved: Record<string, string> = {};
    for (const [k, v] of Object.entries(env)) {
      // ${VAR:-default} as compose resolves it with VAR unset.
      resolved[k] = String(v)
        .replace(/\$\{\w+:-([^}]*)\}/g, '$1')
        .replace(/\$\{\w+\}/g, '');
    }
    resolved.DATABASE_URL = pg.url; // the service host "postgres" is this machine's server
    resolved.REDIS_URL = (resolved.REDIS_URL as string).replace('redis://redis:', 'redis://127.0.0.1:');
    resolved.REDIS_PREFIX = `gw-image-${process.pid}-${Date.now()}:`;
    delete resolved.PORT;
    const gw = await startImage(image, resolved);
    try {
      const ready = await fetch(`${gw.url}/ready`);
      expect(await ready.json()).toMatchObject({ status: 'ready', checks: { database: 'ok' } });
      const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'no-key-needed', maxRetries: 0 });
      const res = await client.chat.completions.create({
        model: 'mock',
        messages: [{ role: 'user', content: 'on postgres' }],
      });
      expect(res.choices[0]?.message.content).toBe('on postgres');
    } finally {
      expect(await gw.stop()).toBe(0);
    }
  }, 90_000);
});
