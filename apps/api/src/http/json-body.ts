import type { FastifyInstance } from 'fastify';

/**
 * Clients send a JSON content type on body-less POSTs too (cancel, retry; RunPod's /cancel and
 * /purge-queue): an empty body is no body, anything else is parsed as JSON as usual.
 */
export function acceptEmptyJsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (body === '') done(null, undefined);
    else void parseJson(req, body as string, done);
  });
}
