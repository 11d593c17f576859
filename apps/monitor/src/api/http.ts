import { z } from 'zod';
import {
  ActionResponse,
  ErrorResponse,
  JobDetailResponse,
  JobListResponse,
  ServicesResponse,
  ServiceStatsResponse,
  ServiceChangeResponse,
  SubmitResponse,
  type Issue,
  type JobStatus,
} from '../protocol.ts';

const ProbeBody = z.object({ machines: z.array(z.unknown()) });

/** An answer the API gave with an error body, or no answer at all (`status` 0). */
export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: readonly Issue[] = [],
  ) {
    super(message);
  }

  get unreachable(): boolean {
    return this.status === 0;
  }
}

export interface ListFilter {
  readonly status?: readonly JobStatus[];
  readonly service?: string;
  readonly tenant?: string;
  readonly limit?: number;
  readonly cursor?: string;
}

/** The HTTP routes the monitor uses, each answer checked against its schema. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly apiKey: string | null,
    private readonly fetcher: typeof fetch = (...args) => fetch(...args),
  ) {}

  url(path: string): string {
    return `${this.baseUrl}${path}`;
  }

  get authHeaders(): Record<string, string> {
    return this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {};
  }

  private async request<S extends z.ZodTypeAny>(schema: S, path: string, init: RequestInit = {}): Promise<z.output<S>> {
    let response: Response;
    try {
      response = await this.fetcher(this.url(path), { ...init, headers: { ...this.authHeaders, ...(init.headers as Record<string, string>) } });
    } catch (err) {
      throw new ApiRequestError(0, 'UNREACHABLE', `the API at ${this.baseUrl} did not answer (${(err as Error).message})`);
    }
    const body: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      const parsed = ErrorResponse.safeParse(body);
      if (parsed.success) throw new ApiRequestError(response.status, parsed.data.error.code, parsed.data.error.message, parsed.data.error.issues);
      throw new ApiRequestError(response.status, `HTTP_${response.status}`, `the API answered ${response.status} ${response.statusText}`);
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw new ApiRequestError(response.status, 'BAD_RESPONSE', `unexpected answer from ${path}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    return parsed.data;
  }

  private post<S extends z.ZodTypeAny>(schema: S, path: string, body?: unknown): Promise<z.output<S>> {
    return this.request(schema, path, {
      method: 'POST',
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
  }

  /** Admin-only route: tells local mode (open), a missing or bad key (401) and a non-admin key (403) apart. */
  async probe(): Promise<void> {
    await this.request(ProbeBody, '/api/machines');
  }

  getJob(id: string) {
    return this.request(JobDetailResponse, `/api/jobs/${encodeURIComponent(id)}`);
  }

  listJobs(filter: ListFilter) {
    const q = new URLSearchParams();
    if (filter.status?.length) q.set('status', filter.status.join(','));
    if (filter.service) q.set('service', filter.service);
    if (filter.tenant) q.set('tenant', filter.tenant);
    if (filter.limit) q.set('limit', String(filter.limit));
    if (filter.cursor) q.set('cursor', filter.cursor);
    const query = q.toString();
    return this.request(JobListResponse, `/api/jobs${query ? `?${query}` : ''}`);
  }

  services() {
    return this.request(ServicesResponse, '/api/services');
  }

  serviceStats(service: string) {
    return this.request(ServiceStatsResponse, `/api/services/${encodeURIComponent(service)}/stats`);
  }

  submit(job: Record<string, unknown>) {
    return this.post(SubmitResponse, '/api/jobs', job);
  }

  cancel(id: string): Promise<ActionResponse> {
    return this.post(ActionResponse, `/api/jobs/${encodeURIComponent(id)}/cancel`);
  }

  retry(id: string): Promise<ActionResponse> {
    return this.post(ActionResponse, `/api/jobs/${encodeURIComponent(id)}/retry`);
  }

  /** Adds a connector to a running machine; its progress arrives with the machine's state. */
  addService(machineId: string, service: string): Promise<ServiceChangeResponse> {
    return this.post(ServiceChangeResponse, `/api/machines/${encodeURIComponent(machineId)}/services`, { service });
  }

  /** Removes a connector from a running machine (its workers drain). */
  removeService(machineId: string, service: string): Promise<ServiceChangeResponse> {
    return this.request(ServiceChangeResponse, `/api/machines/${encodeURIComponent(machineId)}/services/${encodeURIComponent(service)}`, { method: 'DELETE' });
  }

  /** An artifact's bytes as an object URL (fetched with the key, which an <img src> could not send). */
  async artifactObjectUrl(key: string): Promise<string> {
    const path = `/api/artifacts/${key.split('/').map(encodeURIComponent).join('/')}`;
    let response: Response;
    try {
      response = await this.fetcher(this.url(path), { headers: this.authHeaders });
    } catch (err) {
      throw new ApiRequestError(0, 'UNREACHABLE', `the API at ${this.baseUrl} did not answer (${(err as Error).message})`);
    }
    if (!response.ok) throw new ApiRequestError(response.status, `HTTP_${response.status}`, `artifact ${key}: the API answered ${response.status}`);
    return URL.createObjectURL(await response.blob());
  }
}
