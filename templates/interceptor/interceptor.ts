import { injectable, type CallNext, type HandlerCall, type Interceptor } from 'live-crew';

/**
 * {{className}}: code around handler calls. Apply it with `@UseInterceptors({{className}})` on a
 * crew class or one handler, or around every crew with `createLiveCrewApp({ interceptors: [{{className}}] })`.
 * It counts the calls of each handler; `next()` runs the handler (or the next interceptor).
 */
@injectable()
export class {{className}} implements Interceptor {
  readonly calls = new Map<string, number>();

  intercept(call: HandlerCall, next: CallNext): unknown {
    const handler = `${call.crew}.${call.handler}`;
    this.calls.set(handler, (this.calls.get(handler) ?? 0) + 1);
    return next();
  }
}
