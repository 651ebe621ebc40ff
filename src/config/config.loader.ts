/**
 * YAML + environment → validated, typed GatewayConfig (SPEC §2). Every fault is reported with
 * its path, e.g. `routes[2].targets[0].provider: unknown provider "azure-west"`.
 */
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { parse as parseYaml } from 'yaml';
import type { ProviderSettings } from '../providers/adapter.interface';
import { loadPlugins } from '../providers/plugin-loader';
import type { AdapterRegistry } from '../providers/registry';
import { ConfigDto, ProviderDto } from './config.schema';
import type {
  AlertRule,
  GatewayConfig,
  RouteConfig,
  RouteMatch,
  TargetConfig,
  TransformsConfig,
} from './config.types';

export interface LoadedConfig {
  config: GatewayConfig;
  /** Built-in adapter types plus those the config's plugins registered. */
  registry: AdapterRegistry;
  path: string;
  loadedAt: number;
}

export class ConfigError extends Error {
  constructor(readonly faults: string[]) {
    super(faults.join('\n'));
    this.name = 'ConfigError';
  }
}

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Replaces `${VAR}` and `${VAR:-default}` in every string of the document. */
export function substituteEnv(value: unknown, env: NodeJS.ProcessEnv): unknown {
  if (typeof value === 'string') {
    return value.replace(VAR, (_m, name: string, def: string | undefined) => {
      const v = env[name];
      return v !== undefined && v !== '' ? v : (def ?? '');
    });
  }
  if (Array.isArray(value)) return value.map((v) => substituteEnv(v, env));
  if (value && typeof value === 'object') {
    // fromEntries defines own properties, so a `__proto__` key stays a plain key.
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env)]));
  }
  return value;
}

function childPath(parent: string, property: string): string {
  if (/^\d+$/.test(property)) return `${parent}[${property}]`;
  return parent ? `${parent}.${property}` : property;
}

function flatten(errors: ValidationError[], parent: string, out: string[]): void {
  for (const e of errors) {
    const path = childPath(parent, e.property);
    if (e.constraints) {
      const entries = Object.entries(e.constraints);
      if (entries.some(([kind]) => kind === 'whitelistValidation')) out.push(`${path}: unknown key`);
      else if (e.value === undefined || e.value === null) out.push(`${path}: required`);
      else {
        // class-validator starts its messages with the property name; the path already says it.
        const texts = entries.map(([, m]) =>
          m.startsWith(`${e.property} `) ? m.slice(e.property.length + 1) : m,
        );
        out.push(`${path}: ${texts.join('; ')}`);
      }
    }
    if (e.children && e.children.length > 0) flatten(e.children, path, out);
  }
}

function validateDto<T extends object>(
  cls: new () => T,
  plain: unknown,
  path: string,
  strict: boolean,
): string[] {
  const instance = plainToInstance(cls, plain);
  const errors = validateSync(instance as object, {
    whitelist: strict,
    forbidNonWhitelisted: strict,
    forbidUnknownValues: false,
  });
  const out: string[] = [];
  flatten(errors, path, out);
  return out;
}

/** The non-empty strings of a list; every other entry is a fault named `path[i]`. */
function stringList(raw: unknown, path: string, faults: string[]): string[] {
  if (!Array.isArray(raw)) return [];
  const out: string[] = [];
  raw.forEach((v: unknown, i) => {
    if (typeof v === 'string' && v.trim() !== '') out.push(v);
    else faults.push(`${path}[${i}]: must be a non-empty string`);
  });
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const PROVIDER_KEYS = new Set([
  'type',
  'base_url',
  'api_key',
  'headers',
  'timeout_ms',
  'api_version',
  'discover_models',
  'default_max_tokens',
]);

function toProvider(id: string, raw: Record<string, unknown>): ProviderSettings {
  const options: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (!PROVIDER_KEYS.has(k)) options[k] = v;
  const headers: Record<string, string> = {};
  if (isRecord(raw.headers)) for (const [k, v] of Object.entries(raw.headers)) headers[k] = String(v);
  const s: ProviderSettings = {
    id,
    type: String(raw.type),
    headers,
    timeout_ms: typeof raw.timeout_ms === 'number' ? raw.timeout_ms : 600_000,
    options,
  };
  if (typeof raw.base_url === 'string' && raw.base_url !== '') s.base_url = raw.base_url;
  if (typeof raw.api_key === 'string' && raw.api_key !== '') s.api_key = raw.api_key;
  if (typeof raw.api_version === 'string' && raw.api_version !== '') s.api_version = raw.api_version;
  if (typeof raw.discover_models === 'boolean') s.discover_models = raw.discover_models;
  if (typeof raw.default_max_tokens === 'number') s.default_max_tokens = raw.default_max_tokens;
  return s;
}

function toMatch(raw: Record<string, unknown>, path: string, faults: string[]): RouteMatch | null {
  const kinds = ['exact', 'keyword', 'prefix', 'regex', 'any'].filter(
    (k) => raw[k] !== undefined && raw[k] !== null,
  );
  if (kinds.length !== 1) {
    faults.push(
      `${path}: needs exactly one of exact, keyword, prefix, regex, any (found ${kinds.length === 0 ? 'none' : kinds.join(', ')})`,
    );
    return null;
  }
  const kind = kinds[0] as string;
  if (kind === 'any') return { any: true };
  const value = String(raw[kind]);
  if (kind === 'regex') {
    try {
      new RegExp(value);
    } catch (err) {
      faults.push(
        `${path}.regex: invalid regular expression (${err instanceof Error ? err.message : String(err)})`,
      );
      return null;
    }
    return { regex: value };
  }
  if (kind === 'exact') return { exact: value };
  if (kind === 'prefix') return { prefix: value };
  return { keyword: value };
}

function toTransforms(raw: unknown): TransformsConfig | undefined {
  return isRecord(raw) ? raw : undefined;
}

function toTarget(raw: Record<string, unknown>): TargetConfig {
  const t: TargetConfig = {
    provider: String(raw.provider),
    priority: typeof raw.priority === 'number' ? raw.priority : 0,
    weight: typeof raw.weight === 'number' ? raw.weight : 1,
  };
  if (typeof raw.model === 'string') t.model = raw.model;
  const transforms = toTransforms(raw.transforms);
  if (transforms) t.transforms = transforms;
  return t;
}

/** Builds a GatewayConfig from an already-parsed document; throws ConfigError listing every fault. */
export function buildConfig(
  doc: unknown,
  opts: { env: NodeJS.ProcessEnv; registry: AdapterRegistry; baseDir: string },
): { config: GatewayConfig; registry: AdapterRegistry } {
  if (doc === null || doc === undefined) doc = {};
  if (!isRecord(doc)) throw new ConfigError(['(root): the config file must hold a YAML mapping']);
  const data = substituteEnv(doc, opts.env) as Record<string, unknown>;
  if (data.routes === undefined) data.routes = [];
  const faults = validateDto(ConfigDto, data, '', true);

  const registry = opts.registry.clone();
  const plugins = stringList(data.plugins, 'plugins', faults);
  try {
    loadPlugins(plugins, opts.baseDir, registry);
  } catch (err) {
    faults.push(err instanceof Error ? err.message : String(err));
  }

  const providers: Record<string, ProviderSettings> = {};
  const rawProviders = isRecord(data.providers) ? data.providers : {};
  for (const [id, raw] of Object.entries(rawProviders)) {
    const path = `providers.${id}`;
    if (id === '__proto__' || id === 'constructor' || id === 'prototype') {
      faults.push(`${path}: reserved name, choose another provider id`);
      continue;
    }
    if (!isRecord(raw)) {
      faults.push(`${path}: must be a mapping`);
      continue;
    }
    const errs = validateDto(ProviderDto, raw, path, false);
    if (isRecord(raw.headers)) {
      for (const [name, value] of Object.entries(raw.headers)) {
        if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')
          errs.push(`${path}.headers.${name}: must be a string`);
      }
    }
    if (errs.length > 0) {
      faults.push(...errs);
      continue;
    }
    const settings = toProvider(id, raw);
    const def = registry.get(settings.type);
    if (!def) {
      faults.push(
        `${path}.type: unknown adapter type "${settings.type}" (known: ${registry.types().join(', ')})`,
      );
      continue;
    }
    for (const msg of def.validate?.(settings) ?? []) faults.push(`${path}: ${msg}`);
    providers[id] = settings;
  }

  const routes: RouteConfig[] = [];
  const rawRoutes = Array.isArray(data.routes) ? data.routes : [];
  rawRoutes.forEach((rawRoute: unknown, i) => {
    if (!isRecord(rawRoute)) return;
    const match = isRecord(rawRoute.match) ? toMatch(rawRoute.match, `routes[${i}].match`, faults) : null;
    const targets: TargetConfig[] = [];
    const rawTargets = Array.isArray(rawRoute.targets) ? rawRoute.targets : [];
    rawTargets.forEach((rawTarget: unknown, j) => {
      if (!isRecord(rawTarget)) return;
      const target = toTarget(rawTarget);
      if (!Object.hasOwn(rawProviders, target.provider)) {
        faults.push(`routes[${i}].targets[${j}].provider: unknown provider "${target.provider}"`);
      }
      targets.push(target);
    });
    const fallback = stringList(rawRoute.fallback, `routes[${i}].fallback`, faults);
    if (match) {
      const route: RouteConfig = { match, targets, fallback };
      const transforms = toTransforms(rawRoute.transforms);
      if (transforms) route.transforms = transforms;
      routes.push(route);
    }
  });

  if (faults.length > 0) throw new ConfigError(faults);

  const server = isRecord(data.server) ? data.server : {};
  const auth = isRecord(data.auth) ? data.auth : {};
  const traces = isRecord(data.traces) ? data.traces : {};
  const jsonl =
    typeof traces.jsonl === 'string' && traces.jsonl !== ''
      ? traces.jsonl
      : opts.env.TRACE_JSONL || undefined;
  const config: GatewayConfig = {
    server: { body_limit_mb: typeof server.body_limit_mb === 'number' ? server.body_limit_mb : 20 },
    auth: { require_client_key: auth.require_client_key === true },
    traces: {
      enabled: traces.enabled !== false,
      store_bodies: traces.store_bodies !== false,
      retention_days: typeof traces.retention_days === 'number' ? traces.retention_days : 30,
      ...(jsonl ? { jsonl } : {}),
    },
    providers,
    plugins,
    routes,
    alerts: Array.isArray(data.alerts) ? (data.alerts as AlertRule[]) : [],
  };
  return { config, registry };
}

/** Reads and validates the config file. */
export function loadConfig(
  path: string,
  opts: { env: NodeJS.ProcessEnv; registry: AdapterRegistry },
): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([
      `${path}: cannot read the config file (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    ]);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError([
      `${path}: invalid YAML (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`,
    ]);
  }
  const { config, registry } = buildConfig(doc, {
    env: opts.env,
    registry: opts.registry,
    baseDir: dirname(path),
  });
  return { config, registry, path, loadedAt: Date.now() };
}
