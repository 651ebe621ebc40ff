/**
 * Builds the gateway: environment → config → Nest on Fastify. Used by main.ts and by tests,
 * which start it on port 0.
 */
import './common/fastify-augment';
import cluster from 'node:cluster';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { AppModule } from './app.module';
import { GatewayError } from './common/errors';
import { openAIClientErrorHandler } from './common/client-error';
import { OpenAIExceptionFilter } from './common/openai-exception.filter';
import { loadConfig } from './config/config.loader';
import { ConfigService } from './config/config.service';
import { loadEnv, type Env } from './config/env';
import { createLogger, type Logger } from './observability/logger';
import { builtinRegistry } from './providers/builtin';
import { createFastPath } from './gateway/fast-path';
import { OVERHEAD_HEADER } from './gateway/deliveries';
import { GatewayService } from './gateway/gateway.service';
import { defaultUiRoot, registerUi, uiBuilt } from './ui/serve-ui';

export interface AppOptions {
  /** Environment variables (defaults to process.env, with `.env` applied). */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Watch the config file for live edits (default true). */
  watchConfig?: boolean;
}

export interface RunningApp {
  app: NestFastifyApplication;
  url: string;
  config: ConfigService;
  logger: Logger;
  close(): Promise<void>;
}

function jsonParser(fastify: FastifyInstance): void {
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = body as string;
    if (text.length === 0) {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch {
      done(
        GatewayError.badRequest('We could not parse the JSON body of your request.', null, 'invalid_json'),
        undefined,
      );
    }
  });
}

export async function createApp(
  options: AppOptions = {},
): Promise<{ app: NestFastifyApplication; env: Env; config: ConfigService; logger: Logger }> {
  const env = loadEnv(options.env ?? process.env);
  const logger = options.logger ?? createLogger(env.LOG_LEVEL);
  const configPath = resolve(env.GATEWAY_CONFIG);
  const processEnv = options.env ?? process.env;
  const registry = builtinRegistry();
  const load = (): ReturnType<typeof loadConfig> => loadConfig(configPath, { env: processEnv, registry });
  const config = new ConfigService(load(), logger, load);
  const loaded = config.current;
  const bodyLimit = Math.round(loaded.config.server.body_limit_mb * 1024 * 1024);

  let gateway: GatewayService | null = null;
  const workerId = cluster.isWorker && cluster.worker ? String(cluster.worker.id) : null;
  const fast = createFastPath(
    () => gateway,
    () => Math.round(config.current.config.server.body_limit_mb * 1024 * 1024),
  );
  const adapter = new FastifyAdapter({
    bodyLimit,
    logger: false,
    trustProxy: false,
    routerOptions: { maxParamLength: 500 },
    // Malformed HTTP and oversized headers get an OpenAI-shaped error too.
    clientErrorHandler: openAIClientErrorHandler,
    // /v1 call routes are taken on raw node:http before Fastify sees them (gateway/fast-path.ts).
    serverFactory: (handler: (req: IncomingMessage, res: ServerResponse) => void) =>
      createServer((req, res) => {
        // WORKERS=N: which worker answered (src/cluster); absent in a single process.
        if (workerId !== null) res.setHeader('x-gateway-worker', workerId);
        if (!fast(req, res)) handler(req, res);
      }),
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.register({ env, logger, config }),
    adapter,
    {
      bodyParser: false,
      logger: false,
      abortOnError: false,
    },
  );
  const fastify = app.getHttpAdapter().getInstance();
  jsonParser(fastify);
  fastify.addHook('onRequest', (req, _reply, done) => {
    req.t0 = performance.now();
    done();
  });
  // /v1 calls answered by Nest (model listing) carry the gateway's time too, like every /v1 call.
  fastify.addHook('onSend', (req, reply, payload, done) => {
    if (req.url.startsWith('/v1/') && !reply.hasHeader(OVERHEAD_HEADER)) {
      const overhead = performance.now() - req.t0 - (req.upstreamWaitMs ?? 0);
      reply.header(OVERHEAD_HEADER, Math.max(0, overhead).toFixed(3));
    }
    done(null, payload);
  });
  if (uiBuilt(defaultUiRoot())) await registerUi(fastify, defaultUiRoot());
  else logger.warn({ root: defaultUiRoot() }, 'web UI not built (npm run build:web); /ui is not served');
  app.useGlobalFilters(new OpenAIExceptionFilter((err) => logger.error({ err }, 'request failed')));
  await app.init();
  gateway = app.get(GatewayService);
  if (options.watchConfig !== false) config.watch();
  return { app, env, config, logger };
}

/** Stops accepting connections and waits (bounded) for in-flight requests to finish. */
async function drain(app: NestFastifyApplication, timeoutMs: number): Promise<void> {
  const server = app.getHttpServer();
  if (!server.listening) return;
  await new Promise<void>((resolveDrain) => {
    const timer = setTimeout(() => {
      server.closeAllConnections();
      resolveDrain();
    }, timeoutMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolveDrain();
    });
    server.closeIdleConnections();
  });
}

export async function startApp(
  options: AppOptions & { port?: number; host?: string } = {},
): Promise<RunningApp> {
  const { app, env, config, logger } = await createApp(options);
  const port = options.port ?? env.PORT;
  const host = options.host ?? env.HOST;
  await app.listen(port, host);
  const address = app.getHttpServer().address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
  return {
    app,
    url,
    config,
    logger,
    close: async () => {
      config.close();
      await drain(app, 30_000);
      await app.close();
    },
  };
}
