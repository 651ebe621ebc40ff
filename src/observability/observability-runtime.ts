/**
 * Starts what observes finished calls besides /metrics — the debug call log, alert rules and,
 * when OTEL_EXPORTER_OTLP_ENDPOINT is set, OpenTelemetry spans — and the scrubber's list of
 * known secrets; stops them at shutdown, flushing spans. Without an endpoint the OpenTelemetry
 * SDK is not even loaded.
 */
import { Inject, Injectable, Optional, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { MASTER_KEY } from '../auth/master-key.guard';
import { ENV, LOGGER } from '../common/tokens';
import { ConfigService } from '../config/config.service';
import type { Env } from '../config/env';
import { Alerts } from './alerts/alerts';
import { CallLog } from './call-log';
import { CallObservers } from './call-observers';
import type { Logger } from './logger';
import type { OtelCalls } from './otel/otel-calls';
import { otelSettings } from './otel/otel-settings';
import { trackSecrets } from './secret-sources';
import { knownSecrets } from './secrets';

let instances = 0;

@Injectable()
export class ObservabilityRuntime implements OnModuleInit, OnApplicationShutdown {
  private otel: OtelCalls | null = null;
  private alerts: Alerts | null = null;
  private readonly stops: Array<() => void> = [];
  private readonly sourceId = `app${++instances}`;

  constructor(
    private readonly observers: CallObservers,
    private readonly config: ConfigService,
    @Inject(ENV) private readonly env: Env,
    @Inject(LOGGER) private readonly logger: Logger,
    @Optional() @Inject(MASTER_KEY) private readonly masterKey?: string,
  ) {}

  async onModuleInit(): Promise<void> {
    this.stops.push(trackSecrets(knownSecrets, this.sourceId, this.env, this.masterKey, this.config));
    this.stops.push(this.observers.add(new CallLog(this.logger)));
    this.alerts = new Alerts({
      rules: () => this.config.current.config.alerts,
      onRulesChange: (cb) => this.config.onChange(() => cb()),
      logger: this.logger,
    });
    this.stops.push(this.observers.add(this.alerts));
    const settings = otelSettings(this.env);
    if (settings) {
      const { OtelCalls } = await import('./otel/otel-calls');
      this.otel = new OtelCalls({
        settings,
        provider: (id) => {
          const p = this.config.current.config.providers[id];
          return p ? { type: p.type, baseUrl: p.base_url } : undefined;
        },
        scrubber: knownSecrets,
        logger: this.logger,
      });
      this.stops.push(this.observers.add(this.otel));
      this.logger.info(
        { endpoint: settings.url, service_name: settings.serviceName },
        'OpenTelemetry: one span per call exported over OTLP/HTTP',
      );
    }
  }

  /** Whether spans are exported (the SDK was started). */
  get otelStarted(): boolean {
    return this.otel !== null;
  }

  async onApplicationShutdown(): Promise<void> {
    for (const stop of this.stops.splice(0)) stop();
    // The known secrets stay registered: lines logged while the process stops are scrubbed too.
    await Promise.all([this.otel?.shutdown(), this.alerts?.close()]);
  }
}
