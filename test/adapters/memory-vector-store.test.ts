import { MemoryVectorStore } from '../../src/adapters/memory/memory-vector-store.js';
import { describeVectorStoreContract } from '../integration/vector-store-contract.js';

describeVectorStoreContract('memory', () => ({ open: async () => new MemoryVectorStore() }));
