/** Points the trace-queue metrics at the trace writer, when tracing is wired. */
import { Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import { TraceWriter } from '../traces/trace-writer';
import { GatewayMetrics } from './metrics';

@Injectable()
export class TraceQueueMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: GatewayMetrics,
    @Optional() private readonly writer?: TraceWriter,
  ) {}

  onModuleInit(): void {
    const writer = this.writer;
    if (writer)
      this.metrics.bindTraceQueue({ depth: () => writer.queueDepth(), dropped: () => writer.droppedTotal() });
  }
}
