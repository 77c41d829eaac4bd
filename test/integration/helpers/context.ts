// What the integration global setup hands to every test file through vitest's provide/inject.

/** The shared PostgreSQL primary (database `app` exists) and its streaming replica, superuser `postgres`. */
export interface PgContext {
  host: string;
  port: number;
  password: string;
  replicaPort: number;
  /** A directory inside the sandbox's temp dir where tests may start more servers. */
  baseDir: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    pg: PgContext;
  }
}
