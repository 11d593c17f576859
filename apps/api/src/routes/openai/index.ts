import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { z } from 'zod';
import { openEventStream } from '../../http/event-stream.ts';
import { parsePart } from '../../http/parse.ts';
import { submitJob } from '../../jobs/submit.ts';
import type { Runtime } from '../../runtime.ts';
import { CompletionFollower } from './completion.ts';
import { OpenAIError, toOpenAIError } from './errors.ts';
import type { ModelRoute } from './models.ts';
import { parseChatRequest, type ChatRequest } from './request.ts';
import { payloadFor, type Reply } from './upstream.ts';

export interface OpenAIRouteOptions {
  readonly runtime: Runtime;
}

const NoQuery = z.object({}).strict();

/** One chat request's identity in the OpenAI objects it answers with. */
interface Completion {
  readonly id: string;
  readonly created: number;
  readonly model: string;
}

function completionObject(c: Completion, reply: Reply) {
  return {
    id: c.id,
    object: 'chat.completion',
    created: c.created,
    model: c.model,
    choices: [{ index: 0, message: { role: 'assistant', content: reply.content, refusal: null }, logprobs: null, finish_reason: reply.finishReason }],
    ...(reply.usage ? { usage: reply.usage } : {}),
  };
}

/** Answers with the whole completion once the job ends; a client that leaves cancels the job. */
async function answerWhole(rt: Runtime, reply: FastifyReply, jobId: string, route: ModelRoute, c: Completion): Promise<unknown> {
  const outcome = await new Promise<Reply | OpenAIError | undefined>((resolve) => {
    const follower = new CompletionFollower(rt, jobId, route.service, { onDone: resolve, onFail: resolve }, reply.log);
    reply.raw.once('close', () => {
      follower.abandon();
      resolve(undefined);
    });
    follower.start();
  });
  if (outcome instanceof OpenAIError) throw outcome;
  if (outcome === undefined) throw new OpenAIError(499, { message: 'the client closed the request', type: 'invalid_request_error', param: null, code: 'client_closed' });
  return completionObject(c, outcome);
}

/**
 * Streams the completion as OpenAI's SSE: a role chunk, a chunk per new piece of text, a chunk
 * with the finish reason, the usage chunk when asked for, then `data: [DONE]`. A failure after the
 * stream began is an `error` data line, which OpenAI's clients raise as an API error.
 */
function answerStream(rt: Runtime, reply: FastifyReply, jobId: string, route: ModelRoute, request: ChatRequest, c: Completion): void {
  const res = openEventStream(reply, { 'x-conveyor-job-id': jobId });
  const includeUsage = request.stream_options?.include_usage === true;
  const base = { id: c.id, object: 'chat.completion.chunk', created: c.created, model: c.model };
  const send = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`);
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) =>
    send({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }], ...(includeUsage ? { usage: null } : {}) });
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), rt.env.CONVEYOR_HEARTBEAT_MS);
  heartbeat.unref();
  const close = () => {
    clearInterval(heartbeat);
    res.end();
  };

  chunk({ role: 'assistant', content: '', refusal: null });
  const follower = new CompletionFollower(
    rt,
    jobId,
    route.service,
    {
      onDelta: (text) => chunk({ content: text }),
      onDone: (done) => {
        chunk({}, done.finishReason);
        if (includeUsage) send({ ...base, choices: [], usage: done.usage ?? null });
        res.write('data: [DONE]\n\n');
        close();
      },
      onFail: (error) => {
        send({ error: error.body });
        close();
      },
    },
    reply.log,
  );
  res.once('close', () => {
    clearInterval(heartbeat);
    follower.abandon();
  });
  follower.start();
}

/**
 * The OpenAI-compatible front door (registered under /v1): `GET /models` lists OPENAI_MODELS,
 * `POST /chat/completions` queues the request as a job of the model's connector (openai, ollama or
 * runpod) and answers as OpenAI does, streamed or whole. Errors are OpenAI's
 * `{ error: { message, type, param, code } }`.
 */
export const openaiRoutes: FastifyPluginAsync<OpenAIRouteOptions> = async (scope, { runtime: rt }) => {
  const listedAt = Math.floor(Date.now() / 1000);
  const modelObject = (m: ModelRoute) => ({ id: m.model, object: 'model', created: listedAt, owned_by: m.service });

  scope.setErrorHandler((err, req, reply) => {
    const { error, internal } = toOpenAIError(err);
    if (internal) req.log.error({ err }, 'request failed');
    return reply.code(error.status).headers(error.headers).send({ error: error.body });
  });
  scope.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: { message: `Invalid URL (${req.method} ${req.url.split('?')[0]})`, type: 'invalid_request_error', param: null, code: null } }),
  );

  scope.get('/models', async (req) => {
    parsePart(NoQuery, req.query, 'query');
    return { object: 'list', data: [...rt.env.OPENAI_MODELS.values()].map(modelObject) };
  });

  // Model names may contain "/" (org/model): the rest of the path is the name.
  scope.get('/models/*', async (req) => {
    parsePart(NoQuery, req.query, 'query');
    const model = (req.params as { '*'?: string })['*'] ?? '';
    const route = rt.env.OPENAI_MODELS.get(model);
    if (!route) throw OpenAIError.modelNotFound(model);
    return modelObject(route);
  });

  scope.post('/chat/completions', async (req, reply) => {
    parsePart(NoQuery, req.query, 'query');
    const request = parseChatRequest(req.body);
    const route = rt.env.OPENAI_MODELS.get(request.model);
    if (!route) throw OpenAIError.modelNotFound(request.model);
    const { id } = await submitJob(rt.submit, req.principal, { service: route.service, payload: payloadFor(route, request) });
    const completion: Completion = { id: `chatcmpl-${id}`, created: Math.floor(Date.now() / 1000), model: request.model };
    if (request.stream) return answerStream(rt, reply, id, route, request, completion);
    void reply.header('x-conveyor-job-id', id);
    return await answerWhole(rt, reply, id, route, completion);
  });
};
