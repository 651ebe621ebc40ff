/**
 * Preloaded into a gateway process by the load suite (node --expose-gc -r …): SIGUSR2 runs a
 * full garbage collection, so memory measured from outside afterwards is what is really retained.
 */
process.on('SIGUSR2', () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc === 'function') gc();
});
