/**
 * A loopback TCP proxy the test controls, put between the gateway and a server (PostgreSQL):
 * `cut()` drops every open connection and refuses new ones (the port stops listening),
 * `restore()` listens on the same port again.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let accepted = 0;
  const make = (): Server =>
    createServer((client) => {
      accepted++;
      const upstream = connect(targetPort, targetHost);
      open.add(client);
      open.add(upstream);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        open.delete(client);
        open.delete(upstream);
      };
      client.on('error', drop);
      upstream.on('error', drop);
      client.on('close', drop);
      upstream.on('close', drop);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  let server = make();
  const listen = (port: number): Promise<number> =>
    new Promise((done, fail) => {
      server.once('error', fail);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', fail);
        const address = server.address();
        done(typeof address === 'object' && address ? address.port : port);
      });
    });
  const port = await listen(0);
  const stop = (): Promise<void> =>
    new Promise((done) => {
      for (const s of open) s.destroy();
      open.clear();
      if (!server.listening) {
        done();
        return;
      }
      server.close(() => done());
    });
  return {
    port,
    get accepted() {
      return accepted;
    },
    cut: stop,
    restore: async () => {
      server = make();
      await listen(port);
    },
    close: stop,
  };
}
