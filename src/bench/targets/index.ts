// The targets in table order; add one here (e.g. another pooler) to extend the bench.
import { directTarget } from './direct.js';
import { pgbouncerTarget } from './pgbouncer.js';
import { bunPipeTarget, cPipeTarget, nodePipeTarget } from './pipes.js';
import {
  baselineTarget,
  polyproxyBunTarget,
  polyproxyBunTwoWorkersTarget,
  polyproxyTarget,
  polyproxyTwoWorkersTarget,
} from './polyproxy.js';
import type { Target } from './target.js';

export type { Cell, Connection, RunningTarget, Target } from './target.js';

/** The first four are the default; Bun, the pipes and another build are opt-in (`--targets …,polyproxy-bun`). */
export const targets: readonly Target[] = [
  directTarget,
  pgbouncerTarget,
  polyproxyTarget,
  polyproxyTwoWorkersTarget,
  polyproxyBunTarget,
  polyproxyBunTwoWorkersTarget,
  nodePipeTarget,
  bunPipeTarget,
  cPipeTarget,
  baselineTarget,
];
