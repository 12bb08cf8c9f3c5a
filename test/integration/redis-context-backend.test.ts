import { describe } from 'vitest';
import { RedisContextBackend } from '../../src/adapters/redis/redis-context-backend.js';
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
});
