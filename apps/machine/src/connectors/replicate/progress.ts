import type { ConnectorContext } from '@conveyor/core';
import { parseProgressFromLogs, type Prediction } from 'replicate';

/** Progress messages carry the newest log line, cut to this length. */
const MAX_MESSAGE = 200;

function lastLogLine(logs: string | undefined): string | undefined {
  const lines = (logs ?? '').split(/\r?\n|\r/).map((l) => l.trim());
  return lines.reverse().find((l) => l !== '')?.slice(0, MAX_MESSAGE);
}

/**
 * Turns successive prediction snapshots into job progress: status while starting, and while
 * processing the newest tqdm percentage in the logs (a model may run several progress bars, so
 * the reported percent never goes back). Unchanged snapshots report nothing.
 */
export class PredictionProgress {
  private percent = 0;
  private lastMessage: string | undefined;

  constructor(private readonly ctx: ConnectorContext) {}

  async report(prediction: Prediction): Promise<void> {
    let message: string;
    if (prediction.status === 'starting') {
      message = 'starting: waiting for Replicate to boot the model';
    } else if (prediction.status === 'processing') {
      const parsed = parseProgressFromLogs(prediction.logs ?? '');
      if (parsed) this.percent = Math.max(this.percent, Math.min(99, Math.floor(parsed.percentage * 100)));
      message = lastLogLine(prediction.logs) ?? 'processing';
    } else {
      return;
    }
    if (message === this.lastMessage) return;
    this.lastMessage = message;
    await this.ctx.progress({ percent: this.percent, message, data: { predictionId: prediction.id, status: prediction.status } });
  }
}
