import 'reflect-metadata';
// The isolate's logger is an adapter chosen by name, as in the app.
import '../builtin.js';
import { getHeapStatistics } from 'node:v8';
import { isMainThread, parentPort, type MessagePort } from 'node:worker_threads';
import type { IsolateChannel } from '../../framework/ports/isolate-launcher.js';
import { serveIsolate } from '../../framework/assembly/isolate-process.js';

// What a worker thread or child process started by `nodeIsolates` runs: the isolation program,
// over the worker's port or the child's IPC channel.

const channel: IsolateChannel = isMainThread ? processChannel() : portChannel(parentPort as MessagePort);

function processChannel(): IsolateChannel {
  // A child process whose app is gone (killed, crashed) has nobody to answer: it ends too.
  process.once('disconnect', () => process.exit(0));
  return { send: (message) => process.send?.(message), on: (listener) => process.on('message', listener) };
}

function portChannel(port: MessagePort): IsolateChannel {
  return { send: (message) => port.postMessage(message), on: (listener) => port.on('message', listener) };
}

serveIsolate(channel, {
  // V8's statistics are per isolate (a worker's own, not its process's); external memory is what Buffers and ArrayBuffers hold.
  usedMb: () => {
    const { used_heap_size, external_memory } = getHeapStatistics();
    return (used_heap_size + external_memory) / (1024 * 1024);
  },
  exit: (code) => process.exit(code),
});
