import type { FastifyReply } from 'fastify';
import type { Runtime } from '../../runtime.ts';
import { followUntilFinished } from '../../streams/follow-until-finished.ts';

/**
 * Waits until the job has finished, `ms` have passed, the client has gone, or this instance
 * starts draining, whichever comes first; the caller then reports the job as it is. Waking on the
 * process's shared event subscription costs no Redis polling per waiting request.
 */
export async function settled(rt: Runtime, reply: FastifyReply, jobId: string, ms: number): Promise<void> {
  await new Promise<void>((resolve) => {
    // Shutdown ends the wait too, so the answer goes out at once: RunPod clients poll /status for a job not yet final.
    const end = followUntilFinished(rt, reply.raw, jobId, undefined, {
      // The follower reads again on the next event or heartbeat; the timer bounds the wait anyway.
      onError: (err) => reply.log.warn({ err, jobId }, 'reading job timeline failed while waiting'),
      onEnd: () => {
        clearTimeout(timer);
        resolve();
      },
    });
    const timer = setTimeout(end, ms);
  });
}
