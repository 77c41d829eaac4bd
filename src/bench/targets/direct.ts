// Target "direct": pgbench straight to PostgreSQL, the baseline both poolers are measured against.
import type { Target } from './target.js';

export const directTarget: Target = {
  name: 'direct',
  start: async (env) => ({
    connectionFor: async () => ({ endpoint: env.direct }),
    notes: () => [],
    stop: async () => {},
  }),
};
