/** Nest injection tokens for values that are not classes. */
export const ENV = Symbol('ENV');
export const LOGGER = Symbol('LOGGER');
export const UPSTREAM_HTTP = Symbol('UPSTREAM_HTTP');
export const DATA_SOURCE = Symbol('DATA_SOURCE');
export const REPLAY_RUNNER = Symbol('REPLAY_RUNNER');
