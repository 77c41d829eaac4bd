// Parse and classification cache lookups, read from the caches' own counters at scrape time.
import client from 'prom-client';
import { classifyCacheStats } from '../router/classify.js';
import { parseCacheStats } from '../sql/parser.js';

export function registerStatementCacheMetrics(registry: client.Registry): void {
  new client.Counter({
    name: 'polyproxy_statement_cache_lookups_total',
    help: 'Statement classification and parse cache lookups, by cache and result',
    labelNames: ['cache', 'result'],
    registers: [registry],
    collect() {
      this.reset();
      const classify = classifyCacheStats();
      const parse = parseCacheStats();
      this.inc({ cache: 'classify', result: 'hit' }, classify.hits);
      this.inc({ cache: 'classify', result: 'miss' }, classify.misses);
      this.inc({ cache: 'parse', result: 'hit' }, parse.hits);
      this.inc({ cache: 'parse', result: 'miss' }, parse.misses);
    },
  });
}
