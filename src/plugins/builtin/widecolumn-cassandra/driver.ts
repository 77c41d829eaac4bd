// The driver client: connected on first use, so a Cassandra outage fails statements (08006), never the proxy's start.
import cassandra from 'cassandra-driver';
import type { ConsistencyName, WidecolumnConfig } from './config.js';
import type { CqlPage, CqlRunner } from './handler.js';
import type { CqlStatement } from './plans.js';

const levels = cassandra.types.consistencies;
const consistencyOf = (name: ConsistencyName): number =>
  ({
    any: levels.any,
    one: levels.one,
    two: levels.two,
    three: levels.three,
    quorum: levels.quorum,
    all: levels.all,
    local_quorum: levels.localQuorum,
    each_quorum: levels.eachQuorum,
    local_one: levels.localOne,
  })[name];

/** A page's rows as arrays in selector order, read by position (Row.values() walks each row's own keys). */
function rowValues(result: cassandra.types.ResultSet): unknown[][] {
  const names = (result.columns ?? []).map((c) => c.name);
  const rows: unknown[][] = new Array<unknown[]>(result.rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = result.rows[i] as unknown as Record<string, unknown>;
    const values: unknown[] = new Array<unknown>(names.length);
    for (let c = 0; c < names.length; c++) values[c] = row[names[c]];
    rows[i] = values;
  }
  return rows;
}

export class DriverRunner implements CqlRunner {
  private client: cassandra.Client | null = null;
  private connecting: Promise<cassandra.Client> | null = null;
  /** The query options of each consistency level, built once rather than per statement. */
  private readonly options = new Map<ConsistencyName, cassandra.QueryOptions>();

  constructor(private readonly config: WidecolumnConfig) {}

  private optionsFor(consistency: ConsistencyName): cassandra.QueryOptions {
    let options = this.options.get(consistency);
    if (!options) {
      options = { prepare: true, consistency: consistencyOf(consistency), fetchSize: this.config.page_size };
      this.options.set(consistency, options);
    }
    return options;
  }

  private connected(): Promise<cassandra.Client> {
    this.connecting ??= this.connect().catch((err: unknown) => {
      this.connecting = null;
      throw err;
    });
    return this.connecting;
  }

  private async connect(): Promise<cassandra.Client> {
    const { config } = this;
    const client = new cassandra.Client({
      contactPoints: config.contact_points,
      localDataCenter: config.local_datacenter,
      applicationName: 'polyproxy',
      authProvider:
        config.user !== undefined
          ? new cassandra.auth.PlainTextAuthProvider(config.user, config.password ?? '')
          : undefined,
      socketOptions: { connectTimeout: config.connect_timeout, readTimeout: config.request_timeout },
      // Maps keyed by numbers, uuids or dates keep their keys' types.
      encoding: { map: Map },
      // A node back from an outage is retried within seconds (the default waits up to ten minutes).
      policies: {
        reconnection: new cassandra.policies.reconnection.ExponentialReconnectionPolicy(500, 10_000, false),
      },
    });
    try {
      await client.connect();
    } catch (err) {
      // A client whose first connect failed does not retry: the next statement builds a new one.
      await client.shutdown().catch(() => undefined);
      throw err;
    }
    this.client = client;
    return client;
  }

  async rows(statement: CqlStatement, consistency: ConsistencyName): Promise<unknown[][]> {
    const client = this.client ?? (await this.connected());
    const result = await client.execute(
      statement.cql,
      statement.params as unknown[],
      this.optionsFor(consistency),
    );
    const rows: unknown[][] = [];
    // Iterating the result set fetches the following pages with the driver's paging state.
    for await (const row of result) rows.push(row.values());
    return rows;
  }

  async page(statement: CqlStatement, consistency: ConsistencyName, pageState?: string): Promise<CqlPage> {
    // A connected client is used as it is: no wait on the connection's promise per statement.
    const client = this.client ?? (await this.connected());
    const options = this.optionsFor(consistency);
    const result = await client.execute(
      statement.cql,
      statement.params as unknown[],
      pageState === undefined ? options : { ...options, pageState },
    );
    return {
      rows: rowValues(result),
      ...(result.pageState ? { pageState: result.pageState } : {}),
    };
  }

  async batch(statements: readonly CqlStatement[], consistency: ConsistencyName): Promise<void> {
    const client = this.client ?? (await this.connected());
    await client.batch(
      statements.map((s) => ({ query: s.cql, params: s.params as unknown[] })),
      { prepare: true, logged: true, consistency: consistencyOf(consistency) },
    );
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    this.connecting = null;
    await client?.shutdown();
  }
}
