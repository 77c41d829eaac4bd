// The bench's flags: the help text lists every registered target and workload; the warm-up is a bound in seconds.
import { describe, expect, it } from 'vitest';
import { parseOptions, usage } from '../../../src/bench/options.js';
import { pluginWorkloads } from '../../../src/bench/plugins/index.js';
import { targets } from '../../../src/bench/targets/index.js';
import { workloads } from '../../../src/bench/workloads.js';

const names = {
  workloads: workloads.map((w) => w.name),
  optInWorkloads: pluginWorkloads.map((w) => w.name),
  targets: targets.map((t) => t.name),
};

describe('bench options', () => {
  it('lists every registered target and workload in --help', () => {
    const text = usage(names);
    for (const name of [...names.targets, ...names.workloads, ...names.optInWorkloads])
      expect(text).toMatch(new RegExp(`(^|[ ,])${name}([ ,]|$)`, 'm'));
    for (const name of ['polyproxy-bun', 'polyproxy-bun-2w', 'bun-pipe', 'baseline', 'mysql-point'])
      expect(names.targets.includes(name) || names.optInWorkloads.includes(name)).toBe(true);
  });

  it('bounds the warm-up at 30 s, 10 s with --quick, and takes 0 for none', () => {
    const parse = (argv: string[]) =>
      parseOptions(argv, {}, names.workloads, names.targets, names.optInWorkloads);
    expect(parse([])).toMatchObject({ warmupS: 30 });
    expect(parse(['--quick'])).toMatchObject({ warmupS: 10 });
    expect(parse(['--warmup', '0'])).toMatchObject({ warmupS: 0 });
  });
});
