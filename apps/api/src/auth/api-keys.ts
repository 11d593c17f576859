import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Identifier, type Keys } from '@conveyor/core';
import type { RedisClient } from '@conveyor/core';
import { z } from 'zod';

/** `cvk_<id>_<secret>`: the id finds the record without scanning, the secret is what is hashed. */
const KEY_FORMAT = /^cvk_([a-f0-9]{16})_([A-Za-z0-9_-]{43})$/;

export const ApiKeyRecord = z.object({
  id: z.string(),
  tenant: Identifier,
  admin: z.boolean(),
  /** SHA-256 of the whole key. Keys are 256 random bits, so a fast hash is enough (no password stretching needed). */
  hash: z.string().regex(/^[a-f0-9]{64}$/),
  name: z.string().max(200).optional(),
  createdAt: z.number().int(),
});
export type ApiKeyRecord = z.infer<typeof ApiKeyRecord>;

export type ApiKeyInfo = Omit<ApiKeyRecord, 'hash'>;

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** API keys of server mode, stored hashed in one Redis hash; the plain key exists only in `create`'s answer. */
export class ApiKeyStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  async create(input: { tenant: string; admin?: boolean; name?: string }): Promise<{ key: string; info: ApiKeyInfo }> {
    const id = randomBytes(8).toString('hex');
    const key = `cvk_${id}_${randomBytes(32).toString('base64url')}`;
    const record = ApiKeyRecord.parse({
      id,
      tenant: input.tenant,
      admin: input.admin ?? false,
      hash: sha256(key).toString('hex'),
      name: input.name,
      createdAt: Date.now(),
    });
    await this.redis.hset(this.keys.apiKeys(), id, JSON.stringify(record));
    const { hash: _hash, ...info } = record;
    return { key, info };
  }

  /** Accepts a key id or a whole key; true when something was revoked. */
  async revoke(idOrKey: string): Promise<boolean> {
    const id = KEY_FORMAT.exec(idOrKey)?.[1] ?? idOrKey;
    return (await this.redis.hdel(this.keys.apiKeys(), id)) === 1;
  }

  async list(): Promise<ApiKeyInfo[]> {
    const all = await this.redis.hgetall(this.keys.apiKeys());
    const infos: ApiKeyInfo[] = [];
    for (const json of Object.values(all)) {
      const parsed = ApiKeyRecord.safeParse(JSON.parse(json));
      if (!parsed.success) continue;
      const { hash: _hash, ...info } = parsed.data;
      infos.push(info);
    }
    return infos.sort((a, b) => a.createdAt - b.createdAt);
  }

  /** The record of a presented key, or null when it is malformed, unknown, revoked or does not match. */
  async verify(key: string): Promise<ApiKeyInfo | null> {
    const match = KEY_FORMAT.exec(key);
    if (!match) return null;
    const json = await this.redis.hget(this.keys.apiKeys(), match[1] as string);
    if (!json) return null;
    const parsed = ApiKeyRecord.safeParse(JSON.parse(json));
    if (!parsed.success) return null;
    const expected = Buffer.from(parsed.data.hash, 'hex');
    if (!timingSafeEqual(expected, sha256(key))) return null;
    const { hash: _hash, ...info } = parsed.data;
    return info;
  }
}
