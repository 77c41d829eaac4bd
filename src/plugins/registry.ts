// Loads the plugins named in the config (built-ins by name, others by module path) and registers their hooks.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import semver from 'semver';
import type { Logger } from '../logger.js';
import { proxyVersion } from '../version.js';
import type { Config } from '../config/schema.js';
import { parseHostPort } from '../config/host-port.js';
import type { PluginContext, PluginDatabase, PluginMetrics, PolyproxyPlugin } from './api.js';
import { PluginHost, messageOf, type PluginCallRecorder } from './host.js';

/** Built-in plugins by the name they are enabled with in YAML. */
const builtins: Record<string, string> = {
  cache: './builtin/cache-redis/index.js',
  documents: './builtin/documents-mongodb/index.js',
  graph: './builtin/graph-neo4j/index.js',
  mysql: './builtin/mysql/index.js',
  publish: './builtin/publish/index.js',
  widecolumn: './builtin/widecolumn-cassandra/index.js',
};

export interface PluginLoadOptions {
  /** Module paths of third-party plugins are relative to the config file's folder. */
  configDir: string;
  log: Logger;
  metricsFor(plugin: string): PluginMetrics;
  record?: PluginCallRecorder;
  databases?: readonly PluginDatabase[];
}

interface PluginEntry {
  name: string;
  module: string;
  options: unknown;
}

/** Reads `plugins:`: `{ cache: {...} }` for a built-in, `{ mine: { module: ./x.js, options: {...} } }` for others. */
export function pluginEntries(plugins: Record<string, unknown>, configDir: string): PluginEntry[] {
  const entries: PluginEntry[] = [];
  for (const [name, raw] of Object.entries(plugins)) {
    const slice = (raw ?? {}) as Record<string, unknown>;
    if (typeof slice !== 'object' || Array.isArray(slice))
      throw new Error(
        `plugins.${name}: expected a mapping of the plugin's settings, got ${JSON.stringify(raw)}`,
      );
    const { enabled, module, options, ...rest } = slice;
    if (enabled === false) continue;
    if (typeof module === 'string') {
      const resolved = module.startsWith('.') ? path.resolve(configDir, module) : module;
      const specifier = path.isAbsolute(resolved) ? pathToFileURL(resolved).href : resolved;
      entries.push({ name, module: specifier, options: options ?? {} });
      continue;
    }
    const builtin = builtins[name];
    if (!builtin) {
      throw new Error(
        `plugins.${name}: unknown built-in plugin; built-ins are ${Object.keys(builtins).join(', ')}, ` +
          'and other plugins need `module: <path>`',
      );
    }
    entries.push({ name, module: new URL(builtin, import.meta.url).href, options: rest });
  }
  return entries;
}

async function importPlugin(entry: PluginEntry): Promise<PolyproxyPlugin> {
  let mod: { default?: PolyproxyPlugin };
  try {
    mod = (await import(entry.module)) as { default?: PolyproxyPlugin };
  } catch (err) {
    throw new Error(`plugins.${entry.name}: cannot load module ${entry.module}: ${messageOf(err)}`, {
      cause: err,
    });
  }
  const plugin = mod.default;
  if (!plugin || typeof plugin.register !== 'function' || typeof plugin.name !== 'string')
    throw new Error(`plugins.${entry.name}: the module's default export is not a polyproxy plugin`);
  if (!semver.satisfies(proxyVersion, plugin.polyproxy, { includePrerelease: true })) {
    throw new Error(
      `plugins.${entry.name}: plugin "${plugin.name}" supports polyproxy ${plugin.polyproxy}, this is ${proxyVersion}`,
    );
  }
  return plugin;
}

/** Validates one plugin's options with its own schema; errors name the key path under plugins.<name>. */
function pluginConfig(entry: PluginEntry, plugin: PolyproxyPlugin): unknown {
  if (!plugin.configSchema) return entry.options;
  const parsed = plugin.configSchema.safeParse(entry.options);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const where = ['plugins', entry.name, ...issue.path.map(String)].join('.');
    return `${where}: ${issue.message}`;
  });
  throw new Error(problems.join('\n'));
}

/** Checks every plugin section without starting anything: for `polyproxy check-config`. */
export async function checkPlugins(plugins: Record<string, unknown>, configDir: string): Promise<string[]> {
  const problems: string[] = [];
  let entries: PluginEntry[];
  try {
    entries = pluginEntries(plugins, configDir);
  } catch (err) {
    return [messageOf(err)];
  }
  for (const entry of entries) {
    try {
      pluginConfig(entry, await importPlugin(entry));
    } catch (err) {
      problems.push(messageOf(err));
    }
  }
  return problems;
}

/** What plugins see of `databases:`. */
export function pluginDatabases(databases: Config['databases']): PluginDatabase[] {
  return Object.entries(databases).map(([name, db]) => ({
    name,
    user: db.backend.user,
    password: db.backend.password,
    connectTimeoutMs: db.backend.connect_timeout,
    primaries: db.shards.map((shard) => ({
      ...parseHostPort(shard.primary),
      database: shard.database ?? db.backend.database,
    })),
  }));
}

/** Loads and registers every enabled plugin. Throws, naming the plugin, when one cannot be set up. */
export async function loadPlugins(
  plugins: Record<string, unknown>,
  opts: PluginLoadOptions,
): Promise<PluginHost> {
  const host = new PluginHost(opts.log, opts.record);
  for (const entry of pluginEntries(plugins, opts.configDir)) {
    const plugin = await importPlugin(entry);
    const config = pluginConfig(entry, plugin);
    const name = entry.name;
    const ctx: PluginContext<unknown> = {
      config,
      log: opts.log.child({ plugin: name }),
      metrics: opts.metricsFor(name),
      proxyVersion,
      databases: opts.databases ?? [],
      claim: (claim, handler) => host.addClaim(name, claim, handler),
      beforeStatement: (hook) => host.addBefore(name, hook),
      onCommit: (hook) => host.addCommit(name, hook),
      onStart: (hook) => host.addStart(name, hook),
      onStop: (hook) => host.addStop(name, hook),
    };
    try {
      await plugin.register(ctx);
    } catch (err) {
      throw new Error(`plugins.${name}: ${messageOf(err)}`, { cause: err });
    }
    host.addName(name);
  }
  return host;
}
