#!/usr/bin/env node
// Command line: `polyproxy --config FILE`, `polyproxy check-config FILE`, `polyproxy sandbox`.
import { checkConfigCommand } from './config/check.js';
import { ConfigError, loadConfigFile } from './config/load.js';
import { createLogger } from './logger.js';
import { startProxy } from './proxy.js';
import { workerCount } from './workers/worker-plan.js';

const usage = `usage:
  polyproxy --config FILE          start the proxy
  polyproxy check-config FILE      validate a config file
  polyproxy sandbox                start a local PostgreSQL topology with the proxy in front
  polyproxy reshard --config FILE --database DB --to TARGET [--cancel]
                                   copy, stream and verify a database onto new shards (README: Resharding)`;

async function serve(path: string): Promise<void> {
  let config;
  try {
    config = loadConfigFile(path);
  } catch (err) {
    process.stderr.write((err instanceof ConfigError ? err.message : String(err)) + '\n');
    process.exit(1);
  }
  const log = createLogger(config.log);
  const workers = workerCount(config);
  if (workers > 1) {
    const { runClustered } = await import('./workers/cluster.js');
    return runClustered(path, config, workers, log);
  }
  const proxy = await startProxy(config, { configPath: path, logger: log });
  process.on('SIGHUP', () => {
    try {
      const next = loadConfigFile(path);
      proxy.reload(next).catch((err: Error) => log.error('reload failed', { err: err.message }));
    } catch (err) {
      log.error('new configuration is invalid; keeping the current one', {
        errors: err instanceof ConfigError ? err.errors : [String(err)],
      });
    }
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info('shutting down', { signal });
    proxy.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

async function main(argv: string[]): Promise<void> {
  const [command, arg] = argv;
  if (command === 'check-config' && arg) process.exit(await checkConfigCommand(arg));
  if (command === 'reshard') {
    const { reshardCommand } = await import('./reshard/command.js');
    process.exit(await reshardCommand(argv.slice(1)));
  }
  if (command === 'sandbox') {
    const { runSandbox } = await import('./sandbox/sandbox.js');
    return runSandbox();
  }
  const configAt = argv.findIndex((a) => a === '--config' || a === '-c');
  const inline = argv.find((a) => a.startsWith('--config='));
  const path = inline ? inline.slice('--config='.length) : configAt >= 0 ? argv[configAt + 1] : undefined;
  if (!path) {
    process.stderr.write(usage + '\n');
    process.exit(2);
  }
  await serve(path);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`polyproxy: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
