import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { RedisContextBackend } from '../../src/adapters/redis/redis-context-backend.js';
import { ConnectionError, StoredStateError } from '../../src/framework/errors.js';
import { describeContextBackendContract } from './context-backend-contract.js';
import { itResumesContextThrough } from './resume-context.js';
import { redisServer, serverForSuite } from './servers.js';

const start = redisServer();

describe.skipIf(start === undefined)('RedisContextBackend against a real redis-server', () => {
  const server = serverForSuite(start!);

  itResumesContextThrough(() => ({ kv_backend: 'redis', redis_url: server().url }));

  describeContextBackendContract('redis', () => ({
    writer: async () => new RedisContextBackend(server().url),
    restart: async () => {
      await server().stop();
      await server().start();
    },
  }));

  it('names the server (never its password) and the key when Redis cannot be reached', async () => {
    const backend = new RedisContextBackend('redis://app:secret@127.0.0.1:1');
    const loaded = backend.load('m1');
    await expect(loaded).rejects.toThrow(ConnectionError);
    await expect(loaded).rejects.toThrow(/^Redis at redis:\/\/app:\*\*\*@127\.0\.0\.1:1 failed a command on key live-crew:ctx:m1: connect ECONNREFUSED/);
    await backend.close();
  });

  it('names the server and the key of a stored context no live-crew process wrote', async () => {
    const redis = new Redis(server().url);
    await redis.set('live-crew:ctx:junk', 'not json {');
    await redis.set('live-crew:ctx:proto', '{"slice":1,"context":{"__proto__":{"polluted":true}}}');
    await redis.quit();
    const backend = new RedisContextBackend(server().url);
    await expect(backend.load('junk')).rejects.toThrow(StoredStateError);
    await expect(backend.load('junk')).rejects.toThrow(/^Redis redis:\/\/127\.0\.0\.1:\d+\/? key live-crew:ctx:junk does not hold a live-crew context snapshot: not valid JSON/);
    await expect(backend.load('proto')).rejects.toThrow(/key live-crew:ctx:proto does not hold a live-crew context snapshot: context key "__proto__" is not allowed/);
    await backend.close();
  });
});
