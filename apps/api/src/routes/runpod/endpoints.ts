import { ServiceName } from '@conveyor/core';
import { z } from 'zod';

/** What RunPod allows in `/v2/<endpoint id>/...`. */
export const RUNPOD_ENDPOINT_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** RunPod endpoint id → the Conveyor service its jobs run on. */
export type RunPodEndpoints = ReadonlyMap<string, string>;

/**
 * Parses `RUNPOD_ENDPOINTS`: comma-separated `<endpoint id>=<service>` pairs such as
 * `sdxl=comfyui,llm=ollama`. Empty means the RunPod front door has no endpoints.
 */
export const RunPodEndpointsSetting = z.string().transform((raw, ctx): RunPodEndpoints => {
  const endpoints = new Map<string, string>();
  for (const entry of raw.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const [id = '', service = '', ...rest] = entry.split('=').map((s) => s.trim());
    if (rest.length > 0 || !entry.includes('=')) {
      ctx.addIssue({ code: 'custom', message: `entry "${entry}" is not <endpoint id>=<service>` });
    } else if (!RUNPOD_ENDPOINT_ID.test(id)) {
      ctx.addIssue({ code: 'custom', message: `endpoint id "${id}" may contain only letters, digits, "-" and "_" (1-128 characters)` });
    } else if (!ServiceName.safeParse(service).success) {
      ctx.addIssue({ code: 'custom', message: `service "${service}" of endpoint "${id}" is not a service name such as comfyui` });
    } else if (endpoints.has(id)) {
      ctx.addIssue({ code: 'custom', message: `endpoint "${id}" is listed twice` });
    } else {
      endpoints.set(id, service);
    }
  }
  return endpoints;
});
