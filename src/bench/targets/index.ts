// The targets in table order; add one here (e.g. another pooler) to extend the bench.
import { directTarget } from './direct.js';
import { pgbouncerTarget } from './pgbouncer.js';
import { polyproxyTarget } from './polyproxy.js';
import type { Target } from './target.js';

export type { Cell, Connection, RunningTarget, Target } from './target.js';

export const targets: readonly Target[] = [directTarget, pgbouncerTarget, polyproxyTarget];
