import type { FastifyInstance } from 'fastify';

/** How long an over-limit upload may keep its connection after its 413 while the rest of it is discarded. */
const DRAIN_MS = 5000;

/**
 * Makes every body over the limit end in a 413 the client can read. Node answers
 * `Expect: 100-continue` by itself, inviting a body the server then refuses: here only a body
 * within the limit is invited. Fastify refuses an over-long Content-Length before reading, but
 * closes the connection with the upload still arriving, and the unread bytes reset it under the
 * client before it reads the answer. Here the connection stays open after a 413 while Node
 * discards the rest of the body, for at most DRAIN_MS, then the socket is closed.
 */
export function guardBodyLimit(app: FastifyInstance, limit: number): void {
  app.server.on('checkContinue', (req, res) => {
    if (!(Number(req.headers['content-length']) > limit)) res.writeContinue();
    app.server.emit('request', req, res);
  });

  app.addHook('onSend', async (req, reply) => {
    // A client that waited for 100 Continue sent no body: closing after the 413 loses nothing.
    if (reply.statusCode === 413 && req.headers.expect === undefined) reply.removeHeader('connection');
  });

  app.addHook('onResponse', async (req) => {
    const incoming = req.raw;
    // Only a request off a real connection says whether it was read to its end (an injected one does not).
    if (incoming.complete !== false) return;
    const timer = setTimeout(() => incoming.socket.destroy(), DRAIN_MS);
    timer.unref();
    incoming.once('end', () => clearTimeout(timer));
    incoming.once('close', () => clearTimeout(timer));
    incoming.resume();
  });
}
