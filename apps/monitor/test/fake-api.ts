/** One recorded request to the fake API. */
export interface Call {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

export type Route = (call: Call) => { status: number; body?: unknown; blob?: Blob } | undefined;

/**
 * A `fetch` answering from a list of routes, recording every call. Component tests use it in
 * place of the network; the real API is exercised by the end-to-end suite.
 */
export function fakeFetch(...routes: Route[]): typeof fetch & { calls: Call[] } {
  const calls: Call[] = [];
  const fn = async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input));
    const call: Call = {
      method: init.method ?? 'GET',
      path: url.pathname + url.search,
      headers: (init.headers ?? {}) as Record<string, string>,
      body: typeof init.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined,
    };
    calls.push(call);
    for (const route of routes) {
      const answer = route(call);
      if (!answer) continue;
      if (answer.blob) return new Response(answer.blob, { status: answer.status });
      return new Response(JSON.stringify(answer.body ?? {}), { status: answer.status, headers: { 'content-type': 'application/json' } });
    }
    return new Response(JSON.stringify({ error: { code: 'NOT_FOUND', message: `no route ${call.method} ${call.path}`, issues: [] } }), {
      status: 404,
      headers: { 'content-type': 'application/json' },
    });
  };
  return Object.assign(fn, { calls }) as typeof fetch & { calls: Call[] };
}

export const on =
  (method: string, path: string | RegExp, answer: (call: Call) => { status: number; body?: unknown; blob?: Blob }): Route =>
  (call) =>
    call.method === method && (typeof path === 'string' ? call.path === path : path.test(call.path)) ? answer(call) : undefined;
