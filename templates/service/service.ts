import { injectable } from 'live-crew';

/**
 * {{className}}: a service. A crew gets it by taking it in its constructor
 * (`constructor(private readonly {{variable}}: {{className}}) {}`); a test gives a fake in its place
 * with `providers: [{ token: {{className}}, useValue: fake }]`.
 */
@injectable()
export class {{className}} {
  describe(kind: string): string {
    return `a ${kind} event`;
  }
}
