import { Crew, OnEvent, type CrewContext, type Event } from 'live-crew';
import { injectable } from 'tsyringe';
import { z } from 'zod';

/** A service the greeter gets through constructor injection; tests replace it with a fake. */
@injectable()
export class GreetingFormatter {
  greet(name: string): string {
    return `Welcome ${name}!`;
  }
}

const Signup = z.object({ name: z.string().min(1) });

/** Greets every new user. */
@Crew({ id: 'greeter' })
export class Greeter {
  constructor(private readonly formatter: GreetingFormatter) {}

  @OnEvent('user_signup', { payload: Signup })
  onSignup(event: Event<z.infer<typeof Signup>>, ctx: CrewContext): void {
    ctx.emit('greeting', { message: this.formatter.greet(event.payload.name) });
  }
}

/** Logs what users do, and counts it per user in the stream's context. */
@Crew({ id: 'activity' })
export class ActivityLogger {
  @OnEvent(['user_login', 'profile_updated'])
  onActivity(event: Event<{ user: string }>, ctx: CrewContext): void {
    const key = `activity:${event.payload.user}`;
    const count = (ctx.context.get<number>(key) ?? 0) + 1;
    ctx.context.set(key, count);
    ctx.emit('activity_logged', { user: event.payload.user, activity: event.kind, count });
  }
}

/** Audits every event of every kind. */
@Crew({ id: 'auditor' })
export class Auditor {
  @OnEvent('*')
  onAny(event: Event, ctx: CrewContext): void {
    ctx.emit('audit_logged', { kind: event.kind, slice: ctx.slice });
  }
}
