import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local HTTP server for browser tests: `/page` serves a small page, `/loop` redirects to itself
 * forever, `/hang` accepts the request and never answers (until the server closes).
 */
export interface PageServer {
  readonly origin: string;
  /** Resolves once a request to `/hang` is open (at once if one already is). */
  hanging(): Promise<void>;
  close(): Promise<void>;
}

export async function startPageServer(): Promise<PageServer> {
  const hanging = new Set<ServerResponse>();
  let hangWaiters: (() => void)[] = [];
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/page') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>Fixture page</title><body style="margin:0;background:#3366ff"><h1>fixture</h1></body>');
    } else if (req.url === '/loop') {
      res.writeHead(302, { location: '/loop' });
      res.end();
    } else if (req.url === '/hang') {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      for (const wake of hangWaiters) wake();
      hangWaiters = [];
    } else {
      res.writeHead(404);
      res.end();
    }
  };
  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    hanging: () => (hanging.size > 0 ? Promise.resolve() : new Promise((resolve) => hangWaiters.push(resolve))),
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
