// Embedded PGlite (PostgreSQL compiled to WebAssembly) behind a TCP port: the sandbox when PostgreSQL is not installed.
import { freePort } from './ports.js';

export interface PgliteServer {
  host: '127.0.0.1';
  port: number;
  /** PGlite has a single database; the name in a client's startup message is ignored. */
  database: 'postgres';
  user: 'postgres';
  stop(): Promise<void>;
}

/** Serves an in-memory PGlite with trust authentication; every connection shares its one session. */
export async function startPglite(
  opts: { port?: number; maxConnections?: number } = {},
): Promise<PgliteServer> {
  // Imported lazily: loading the WebAssembly build is only worth it when this fallback is used.
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const port = opts.port ?? (await freePort());
  const db = await PGlite.create();
  const server = new PGLiteSocketServer({
    db,
    host: '127.0.0.1',
    port,
    maxConnections: opts.maxConnections ?? 16,
  });
  try {
    await server.start();
  } catch (err) {
    await db.close();
    throw err;
  }
  return {
    host: '127.0.0.1',
    port,
    database: 'postgres',
    user: 'postgres',
    stop: async () => {
      await server.stop();
      await db.close();
    },
  };
}
