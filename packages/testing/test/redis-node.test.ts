import { describe, expect, it } from 'vitest';
import { startRedisNode } from '../src/index.ts';

describe('startRedisNode', () => {
  it('is killed hard and restarted on the same port from its AOF', async () => {
    const node = await startRedisNode('appendonly yes\nappendfsync always');
    try {
      const writer = node.client();
      await writer.set('kept', 'yes');
      writer.disconnect();
      await node.kill('SIGKILL');
      expect(node.running).toBe(false);
      await node.restart();
      const reader = node.client();
      expect(await reader.get('kept')).toBe('yes');
      reader.disconnect();
    } finally {
      await node.stop();
    }
  });
});
