/**
 * `live-crew/redis`: context in Redis. Loads ioredis; `kv_backend: redis` selects it without this
 * import.
 */
export { RedisContextBackend, type RedisContextBackendOptions } from './adapters/redis/redis-context-backend.js';
