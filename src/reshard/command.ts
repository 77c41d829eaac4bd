// `polyproxy reshard --config FILE --database DB --to TARGET [--cancel]`: runs the phases of a reshard of a
// configured database, prints each phase's progress, verifies, then keeps streaming until interrupted.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { shardingSchema } from '../config/database-schema.js';
import { loadConfigFile } from '../config/load.js';
import type { DatabaseConfig } from '../config/schema.js';
import { createLogger } from '../logger.js';
import { loginOf, primariesOf } from './logins.js';
import type { ReshardPlan } from './plan.js';
import { Reshard } from './reshard.js';

export const reshardUsage =
  'polyproxy reshard --config FILE --database DB --to TARGET [--cancel]\n' +
  '    TARGET: a YAML file with the new `shards:` (and `sharding:`), or host:port[/database],... (same sharding)';

const option = (argv: string[], name: string) => {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
};

/** The new shard list and map: a YAML file (shards, sharding) or an inline list keeping the database's sharding. */
function targetOf(db: DatabaseConfig, to: string): Pick<ReshardPlan, 'target' | 'targetSharding'> {
  if (/\.ya?ml$/.test(to)) {
    const spec = parseYaml(readFileSync(to, 'utf8')) as {
      shards: { primary: string; database?: string }[];
      sharding?: unknown;
    };
    const sharding = spec.sharding ?? db.sharding;
    if (!sharding) throw new Error(`${to} needs a sharding: section (the database is not sharded yet)`);
    return {
      target: spec.shards.map((s) => loginOf(db, s.primary, s.database)),
      targetSharding: shardingSchema.parse(sharding),
    };
  }
  if (!db.sharding)
    throw new Error('the database is not sharded yet: give --to a YAML file with a sharding: section');
  const target = to.split(',').map((item) => {
    const [address, database] = item.split('/');
    return loginOf(db, address!, database);
  });
  return { target, targetSharding: db.sharding };
}

/** Where the command prints, and what ends its streaming (SIGINT unless told otherwise). */
export interface CommandIo {
  readonly write: (line: string) => void;
  readonly stopped: () => Promise<void>;
}

const processIo: CommandIo = {
  write: (line) => process.stdout.write(line),
  stopped: () => new Promise((resolve) => process.once('SIGINT', () => resolve())),
};

export async function reshardCommand(argv: string[], io: CommandIo = processIo): Promise<number> {
  const [path, name, to] = ['--config', '--database', '--to'].map((n) => option(argv, n));
  if (!path || !name || (!to && !argv.includes('--cancel'))) {
    process.stderr.write(`usage: ${reshardUsage}\n`);
    return 2;
  }
  const config = loadConfigFile(path);
  const db = config.databases[name];
  if (!db) throw new Error(`no database ${name} in ${path}`);
  const source = primariesOf(db);
  const plan: ReshardPlan = {
    database: name,
    source,
    sourceDefaultShard: db.sharding?.default_shard ?? 0,
    ...(to ? targetOf(db, to) : { target: [], targetSharding: shardingSchema.parse({ tables: {} }) }),
  };
  const print = (phase: string, message: string) => io.write(`[${phase}] ${message}\n`);
  const reshard = new Reshard(plan, createLogger(config.log), print);
  if (argv.includes('--cancel')) {
    await reshard.cancel();
    return 0;
  }
  await reshard.start();
  const checks = await reshard.verify().catch(async (error: unknown) => {
    await reshard.stop();
    throw error;
  });
  if (checks.some((c) => !c.equal)) {
    await reshard.stop();
    return 1;
  }
  print('stream', 'verified; streaming until interrupted (run again to resume, --cancel to drop the slots)');
  const timer = setInterval(() => {
    reshard
      .lag()
      .then(({ applied, lagBytes }) =>
        print('stream', `${applied} rows applied, lag ${lagBytes.join('/')} bytes`),
      )
      .catch(() => {});
  }, 5000);
  await io.stopped();
  clearInterval(timer);
  await reshard.stop();
  return 0;
}
