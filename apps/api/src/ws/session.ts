import { randomUUID } from 'node:crypto';
import type { Broker } from '@conveyor/core';
import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import { canSee, type Principal } from '../auth/authenticator.ts';
import { ApiError } from '../errors.ts';
import { submitJob, type SubmitDeps } from '../jobs/submit.ts';
import { leavesJobFinished, type JobFollower, type JobWatch } from '../streams/job-watch.ts';
import type { LiveConnections } from '../streams/live-connections.ts';
import { Channel, CloseCode, SLOW_CONSUMER_BYTES } from './channel.ts';
import { ClientMessage, PROTOCOL_VERSION, type SessionServerMessage } from './protocol.ts';

export interface SessionDeps {
  readonly broker: Broker;
  readonly watch: JobWatch;
  readonly live: LiveConnections;
  readonly submit: SubmitDeps;
  readonly mode: 'local' | 'server';
  readonly heartbeatMs: number;
  readonly maxSubscriptions: number;
}

/**
 * A client session on /ws. Its subscriptions live only in this closure and every event it sends
 * comes from a follower it created after an ownership check, so no session can see another's jobs.
 */
export function runSession(socket: WebSocket, principal: Principal, deps: SessionDeps, log: FastifyBaseLogger): void {
  const channel = new Channel<SessionServerMessage>(socket, deps.heartbeatMs, log);
  const subscriptions = new Map<string, JobFollower>();
  const unregister = deps.live.add({
    kind: 'ws',
    sendReconnect(retryMs) {
      channel.send({ type: 'reconnect', reason: 'shutdown', retryMs });
      channel.close(CloseCode.ServiceRestart, 'server restarting; reconnect and resubscribe with after=<last event id>');
    },
  });
  socket.on('close', () => {
    for (const follower of subscriptions.values()) follower.stop();
    subscriptions.clear();
    unregister();
  });

  const release = (jobId: string) => {
    subscriptions.get(jobId)?.stop();
    subscriptions.delete(jobId);
  };

  const ownedJob = async (jobId: string) => {
    const found = await deps.broker.get(jobId);
    if (!found || !canSee(principal, found.job.tenant)) throw ApiError.notFound(`job ${jobId}`);
    return found.job;
  };

  channel.send({
    type: 'hello',
    protocol: PROTOCOL_VERSION,
    endpoint: 'session',
    session: randomUUID(),
    mode: deps.mode,
    tenant: principal.tenant,
    admin: principal.admin,
    heartbeatMs: deps.heartbeatMs,
  });

  channel.onMessage(ClientMessage, async (message) => {
    switch (message.type) {
      case 'ping':
        channel.send({ type: 'pong', ref: message.ref, ts: Date.now() });
        return;
      case 'submit': {
        const { id, duplicate, warnings } = await submitJob(deps.submit, principal, message.job, message.idempotencyKey);
        channel.send({ type: 'submitted', ref: message.ref, id, duplicate, ...(warnings.length > 0 ? { warnings } : {}) });
        return;
      }
      case 'cancel': {
        await ownedJob(message.jobId);
        const status = await deps.broker.cancel(message.jobId);
        channel.send({ type: 'cancel-result', ref: message.ref, jobId: message.jobId, status });
        return;
      }
      case 'unsubscribe':
        release(message.jobId);
        channel.send({ type: 'unsubscribed', ref: message.ref, jobId: message.jobId, reason: 'requested' });
        return;
      case 'subscribe': {
        const { jobId, ref } = message;
        if (!subscriptions.has(jobId) && subscriptions.size >= deps.maxSubscriptions) {
          throw new ApiError(429, 'TOO_MANY_SUBSCRIPTIONS', `a session may follow at most ${deps.maxSubscriptions} jobs; unsubscribe from some first`);
        }
        const job = await ownedJob(jobId);
        release(jobId);
        channel.send({ type: 'subscribed', ref, jobId, status: job.status });
        const follower = deps.watch.follow(jobId, message.after, {
          onEvents: (events) => {
            for (const event of events) channel.send({ type: 'event', jobId, event });
            if (channel.buffered > SLOW_CONSUMER_BYTES) channel.close(CloseCode.TryAgainLater, 'too slow to keep up; reconnect and resubscribe with after=<last event id>');
            if (leavesJobFinished(events)) {
              release(jobId);
              channel.send({ type: 'unsubscribed', jobId, reason: 'ended' });
            }
          },
          onError: (err) => channel.sendError(err, ref, jobId),
        });
        subscriptions.set(jobId, follower);
        return;
      }
    }
  });
}
