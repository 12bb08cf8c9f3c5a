import { MemoryContextBackend } from '../../src/adapters/memory/memory-context-backend.js';
import { describeContextBackendContract } from '../integration/context-backend-contract.js';

// Writers of the memory backend share a store only by sharing the instance.
const shared = new MemoryContextBackend();
describeContextBackendContract('memory', () => ({ writer: async () => shared }));
