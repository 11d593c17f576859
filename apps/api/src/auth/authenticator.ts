import { ApiError } from '../errors.ts';
import type { ApiKeyInfo, ApiKeyStore } from './api-keys.ts';

/** Who a request acts for. Local mode has one, an admin of its single tenant. */
export interface Principal {
  readonly tenant: string;
  readonly admin: boolean;
  readonly keyId?: string;
}

export interface Credentials {
  readonly authorization?: string | undefined;
  /** Browsers cannot set headers on EventSource or WebSocket, so those routes also take `?access_token=`. */
  readonly accessToken?: string | undefined;
}

const CACHE_LIMIT = 10_000;

/** Resolves a request's principal; in server mode every request needs a valid Bearer key. */
export class Authenticator {
  private readonly cache = new Map<string, { info: ApiKeyInfo; until: number }>();

  constructor(
    private readonly options: { mode: 'local' | 'server'; localTenant: string; cacheMs: number },
    private readonly store: ApiKeyStore,
  ) {}

  async authenticate(credentials: Credentials): Promise<Principal> {
    if (this.options.mode === 'local') return { tenant: this.options.localTenant, admin: true };
    const key = this.presentedKey(credentials);
    const info = await this.lookup(key);
    if (!info) throw ApiError.unauthenticated('the API key is unknown or revoked');
    return { tenant: info.tenant, admin: info.admin, keyId: info.id };
  }

  private presentedKey({ authorization, accessToken }: Credentials): string {
    if (authorization === undefined) {
      if (accessToken) return accessToken;
      throw ApiError.unauthenticated('missing Authorization header; send "Authorization: Bearer <api key>"');
    }
    const match = /^Bearer +(\S+) *$/i.exec(authorization);
    if (!match) throw ApiError.unauthenticated('malformed Authorization header; expected "Bearer <api key>"');
    return match[1] as string;
  }

  /** Caches hits briefly so a busy client costs no Redis round trip per request; misses are never cached. */
  private async lookup(key: string): Promise<ApiKeyInfo | null> {
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) return hit.info;
    const info = await this.store.verify(key);
    if (info && this.options.cacheMs > 0) {
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(key, { info, until: now + this.options.cacheMs });
    }
    return info;
  }
}

export function requireAdmin(principal: Principal, what: string): void {
  if (!principal.admin) throw ApiError.forbidden(`${what} needs an admin key`);
}

/** Tenants see only their own jobs; a job of another tenant looks exactly like a missing one. */
export function canSee(principal: Principal, tenant: string): boolean {
  return principal.admin || principal.tenant === tenant;
}
