// The targets in table order; add one here (e.g. another pooler) to extend the bench.
import { directTarget } from './direct.js';
import { pgbouncerTarget } from './pgbouncer.js';
import { cPipeTarget, nodePipeTarget } from './pipes.js';
import { baselineTarget, polyproxyTarget, polyproxyTwoWorkersTarget } from './polyproxy.js';
import type { Target } from './target.js';

export type { Cell, Connection, RunningTarget, Target } from './target.js';

/** The first four are the default; the pipes and another build are opt-in references (`--targets …,baseline`). */
export const targets: readonly Target[] = [
  directTarget,
  pgbouncerTarget,
  polyproxyTarget,
  polyproxyTwoWorkersTarget,
  nodePipeTarget,
  cPipeTarget,
  baselineTarget,
];
