/**
 * `live-crew/testing`: run crews in unit tests with DI fakes, on the production engine.
 */
import 'reflect-metadata';
import './adapters/builtin.js';

export * from './framework/testing/index.js';
export { scriptedModel, type ScriptedModel, type ScriptedModelOptions, type ScriptedReply } from './adapters/ai/scripted-model.js';
export { hashEmbedder, type HashEmbedderOptions } from './adapters/ai/hash-embedder.js';
export {
  startChatCompletionsServer,
  type ChatCompletionsServer,
  type ChatCompletionsServerOptions,
  type ChatCompletionsRequest,
  type EmbeddingsRequest,
} from './adapters/ai/chat-completions-server.js';
