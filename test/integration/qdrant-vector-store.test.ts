import { describe, expect, it } from 'vitest';
import { QdrantVectorStore } from '../../src/adapters/qdrant/qdrant-vector-store.js';
import { ConnectionError } from '../../src/framework/errors.js';
import { describeVectorStoreContract } from './vector-store-contract.js';

// No Qdrant server can be installed on these machines (no Debian package, no Docker engine): the
// contract runs against QDRANT_URL where one is given (`docker run -p 6333:6333 qdrant/qdrant`).
const url = process.env['QDRANT_URL'];
if (url === undefined) process.stderr.write('\n*** QDRANT_URL is not set: the Qdrant vector store contract suite is SKIPPED (start a Qdrant server and set QDRANT_URL=http://127.0.0.1:6333) ***\n\n');

describe.runIf(url !== undefined)('QdrantVectorStore against QDRANT_URL', () => {
  describeVectorStoreContract(`qdrant (${url})`, () => ({
    open: async () => {
      const store = new QdrantVectorStore({ url: url!, ...(process.env['QDRANT_API_KEY'] ? { apiKey: process.env['QDRANT_API_KEY'] } : {}) });
      await store.open();
      return store;
    },
  }));
});

describe('QdrantVectorStore: a server it cannot reach', () => {
  it('fails to open naming the backend and the URL', async () => {
    const opened = new QdrantVectorStore({ url: 'http://127.0.0.1:1' }).open();
    await expect(opened).rejects.toThrow(ConnectionError);
    await expect(new QdrantVectorStore({ url: 'http://127.0.0.1:1' }).open()).rejects.toThrow(/^vector\.backend: qdrant at http:\/\/127\.0\.0\.1:1 cannot be reached: /);
  });
});
