import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';

/** One request the server received, as the OpenAI chat-completions protocol gives it. */
export interface ChatCompletionsRequest {
  readonly model: string;
  readonly messages: ReadonlyArray<{ readonly role: string; readonly content: unknown }>;
  readonly stream: boolean;
  readonly body: Readonly<Record<string, unknown>>;
}

/** Options of `startChatCompletionsServer`. */
export interface ChatCompletionsServerOptions {
  /** The answer to a request (default: echoes the last user message). */
  readonly reply?: (request: ChatCompletionsRequest) => string;
  /** How long each answer takes, in ms (default 0): a stand-in for a model's latency. */
  readonly latencyMs?: number;
  /** The first `count` requests fail with `status` (429, 503...) and a `retry-after-ms` of `retryAfterMs`. */
  readonly failFirst?: { readonly count: number; readonly status: number; readonly retryAfterMs?: number };
  /**
   * The usage an answer reports, given what the server counted (default: that count): a server
   * that reports none, or nonsense, returns undefined or what it says.
   */
  readonly usage?: (counted: { readonly prompt_tokens: number; readonly completion_tokens: number }) => Record<string, unknown> | undefined;
  /** The embedding of a text (default: its characters counted into `dimensions` buckets, normalised; 8 without `dimensions`). */
  readonly embed?: (text: string, dimensions: number) => number[];
}

/** One request to `POST /v1/embeddings`. */
export interface EmbeddingsRequest {
  readonly model: string;
  readonly input: readonly string[];
  readonly dimensions?: number;
}

/** A running local chat-completions server. */
export interface ChatCompletionsServer {
  /** The API root to give a provider as its base URL: `http://127.0.0.1:<port>/v1`. */
  readonly url: string;
  /** Every chat-completions request received, in order. */
  readonly requests: readonly ChatCompletionsRequest[];
  /** Every embeddings request received, in order. */
  readonly embeddingRequests: readonly EmbeddingsRequest[];
  close(): Promise<void>;
}

/**
 * A local HTTP server speaking the OpenAI chat-completions protocol (`POST /v1/chat/completions`,
 * plain and streamed) and its embeddings protocol (`POST /v1/embeddings`), on 127.0.0.1: tests and
 * benchmarks call a model through a real provider package (`@ai-sdk/openai-compatible`,
 * `@ai-sdk/openai`) with no outside network. Usage is counted as one token per 4 characters.
 *
 * @example
 * ```ts
 * const server = await startChatCompletionsServer({ reply: () => 'What a goal!' });
 * // models: { pundit: { provider: 'openai-compatible', model: 'local', base_url: server.url } }
 * ```
 */
export async function startChatCompletionsServer(options: ChatCompletionsServerOptions = {}): Promise<ChatCompletionsServer> {
  const requests: ChatCompletionsRequest[] = [];
  const embeddingRequests: EmbeddingsRequest[] = [];
  let failures = options.failFirst?.count ?? 0;
  const server = createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { message: String(error), type: 'server_error' } }));
    });
  });
  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method === 'POST' && request.url === '/v1/embeddings') {
      const body = JSON.parse(await readBody(request)) as { model?: unknown; input?: unknown; dimensions?: unknown };
      const input = (Array.isArray(body.input) ? body.input : [body.input]).map(String);
      const dimensions = typeof body.dimensions === 'number' ? body.dimensions : undefined;
      embeddingRequests.push({ model: String(body.model), input, ...(dimensions !== undefined ? { dimensions } : {}) });
      const embed = options.embed ?? countedCharacters;
      const data = input.map((text, index) => ({ object: 'embedding', index, embedding: embed(text, dimensions ?? 8) }));
      const used = tokens(input.join(''));
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data, model: String(body.model), usage: { prompt_tokens: used, total_tokens: used } }));
      return;
    }
    if (request.method !== 'POST' || request.url !== '/v1/chat/completions') {
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `no route ${request.method} ${request.url}`, type: 'invalid_request_error' } }));
      return;
    }
    const body = JSON.parse(await readBody(request)) as Record<string, unknown>;
    const received: ChatCompletionsRequest = { model: String(body['model']), messages: (body['messages'] ?? []) as ChatCompletionsRequest['messages'], stream: body['stream'] === true, body };
    requests.push(received);
    if (failures > 0) {
      failures--;
      const { status, retryAfterMs = 1 } = options.failFirst!;
      response
        .writeHead(status, { 'content-type': 'application/json', 'retry-after-ms': String(retryAfterMs) })
        .end(JSON.stringify({ error: { message: `simulated ${status}`, type: 'rate_limit_error' } }));
      return;
    }
    if (options.latencyMs) await new Promise((resolve) => setTimeout(resolve, options.latencyMs));
    const text = (options.reply ?? echoLastUser)(received);
    const counted = { prompt_tokens: tokens(JSON.stringify(received.messages)), completion_tokens: tokens(text) };
    const reported = options.usage === undefined ? { ...counted, total_tokens: counted.prompt_tokens + counted.completion_tokens } : options.usage(counted);
    const usage = reported === undefined ? {} : { usage: reported };
    const base = { id: `chatcmpl-${requests.length}`, created: Math.floor(Date.now() / 1000), model: received.model };
    if (!received.stream) {
      response.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          ...base,
          object: 'chat.completion',
          choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
          ...usage,
        }),
      );
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const event = (data: unknown) => response.write(`data: ${JSON.stringify(data)}\n\n`);
    event({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { role: 'assistant', content: text }, finish_reason: null }] });
    event({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], ...usage });
    response.end('data: [DONE]\n\n');
  }
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    embeddingRequests,
    async close() {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    },
  };
}

function echoLastUser(request: ChatCompletionsRequest): string {
  const last = [...request.messages].reverse().find((message) => message.role === 'user');
  const content = last?.content;
  if (typeof content === 'string') return content;
  return Array.isArray(content) ? content.map((part: { text?: unknown }) => (typeof part.text === 'string' ? part.text : '')).join('') : '';
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A stand-in embedding: each character counted into one of `dimensions` buckets, normalised. */
function countedCharacters(text: string, dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  for (const char of text.toLowerCase()) vector[char.codePointAt(0)! % dimensions]! += 1;
  const norm = Math.hypot(...vector) || 1;
  return vector.map((x) => x / norm);
}

function tokens(text: string): number {
  return Math.ceil(text.length / 4);
}
