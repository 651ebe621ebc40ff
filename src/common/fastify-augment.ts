/** Fields the gateway adds to Fastify's request. */
declare module 'fastify' {
  interface FastifyRequest {
    /** performance.now() when the request arrived (set by an onRequest hook). */
    t0: number;
    /** Time a handler spent waiting on upstreams (model discovery), left out of the overhead header. */
    upstreamWaitMs?: number;
  }
}

export {};
