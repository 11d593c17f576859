import type { ApiClient } from '../api/http.ts';
import type { Job } from '../protocol.ts';
import type { FleetStore } from './fleet-store.ts';
import { WINDOW_MS } from './metrics.ts';

/** Pages of finished jobs read to draw the hour before the monitor connected. */
const MAX_PAGES = 10;
const PAGE = 500;

/**
 * Throughput history from before the first snapshot: finished jobs of the last hour from the
 * jobs list, newest first. Stops after MAX_PAGES; the chart then says where its history begins.
 */
export async function seedHistory(api: ApiClient, store: FleetStore, before: number): Promise<void> {
  const since = before - WINDOW_MS;
  const finished: Job[] = [];
  let cursor: string | undefined;
  let complete = false;
  for (let page = 0; page < MAX_PAGES; page++) {
    const answer = await api.listJobs({ status: ['completed', 'failed'], limit: PAGE, cursor });
    finished.push(...answer.jobs);
    const oldest = answer.jobs.at(-1)?.finishedAt;
    cursor = answer.cursor;
    if (!cursor || (oldest !== undefined && oldest < since)) {
      complete = true;
      break;
    }
  }
  const oldest = finished.at(-1)?.finishedAt;
  store.upsertJobs(finished.filter((j) => (j.finishedAt ?? 0) >= since));
  store.seedThroughput(finished, before, complete || oldest === undefined ? null : oldest);
}
