/** The access control the gateway uses: the key store's when wired, else open access. */
export const GATEWAY_ACCESS = Symbol('GATEWAY_ACCESS');
