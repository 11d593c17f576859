import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { requireAdmin } from '../auth/authenticator.ts';
import { parsePart } from '../http/parse.ts';
import type { Runtime } from '../runtime.ts';
import { Channel, CloseCode } from '../ws/channel.ts';
import { MonitorClientMessage, PROTOCOL_VERSION, type MonitorServerMessage } from '../ws/protocol.ts';
import { runSession } from '../ws/session.ts';

const Query = z.object({ access_token: z.string().optional() }).strict();

/** /ws (client sessions) and /ws/monitor (admin dashboards). Auth runs before the upgrade, so a refusal is a plain HTTP 401/403. */
export function websocketRoutes(app: FastifyInstance, rt: Runtime): void {
  const env = rt.env;

  app.get('/ws', { websocket: true, config: { queryToken: true }, preValidation: async (req) => void parsePart(Query, req.query, 'query') }, (socket, req) => {
    runSession(
      socket,
      req.principal,
      {
        broker: rt.broker,
        watch: rt.watch,
        live: rt.live,
        submit: rt.submit,
        mode: env.CONVEYOR_MODE,
        heartbeatMs: env.CONVEYOR_HEARTBEAT_MS,
        maxSubscriptions: env.CONVEYOR_WS_MAX_SUBSCRIPTIONS,
      },
      req.log,
    );
  });

  app.get(
    '/ws/monitor',
    {
      websocket: true,
      config: { queryToken: true },
      preValidation: async (req) => {
        parsePart(Query, req.query, 'query');
        requireAdmin(req.principal, 'opening /ws/monitor');
      },
    },
    (socket, req) => {
      const channel = new Channel<MonitorServerMessage>(socket, env.CONVEYOR_HEARTBEAT_MS, req.log);
      let detach: (() => void) | undefined;
      let closed = false;
      const unregister = rt.live.add({
        kind: 'monitor',
        sendReconnect(retryMs) {
          channel.send({ type: 'reconnect', reason: 'shutdown', retryMs });
          channel.close(CloseCode.ServiceRestart, 'server restarting; reconnect for a fresh snapshot');
        },
      });
      socket.on('close', () => {
        closed = true;
        detach?.();
        unregister();
      });
      channel.send({
        type: 'hello',
        protocol: PROTOCOL_VERSION,
        endpoint: 'monitor',
        session: randomUUID(),
        mode: env.CONVEYOR_MODE,
        tenant: req.principal.tenant,
        admin: req.principal.admin,
        heartbeatMs: env.CONVEYOR_HEARTBEAT_MS,
      });
      channel.onMessage(MonitorClientMessage, async (message) => {
        if (message.type === 'ping') channel.send({ type: 'pong', ref: message.ref, ts: Date.now() });
        else await rt.monitors.resync(channel, message.ref);
      });
      void rt.monitors.attach(channel).then((d) => {
        if (closed) d();
        else detach = d;
      });
    },
  );
}
