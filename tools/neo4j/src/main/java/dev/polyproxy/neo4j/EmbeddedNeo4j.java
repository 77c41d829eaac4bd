// Starts an embedded Neo4j with Bolt on 127.0.0.1:<port> and no auth, prints a ready line, and runs until stopped.
package dev.polyproxy.neo4j;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.BoltConnectorInternalSettings;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;

public final class EmbeddedNeo4j {
  /** The line the launcher waits for before it connects. */
  static final String READY = "polyproxy-neo4j ready on bolt://127.0.0.1:";

  private EmbeddedNeo4j() {}

  public static void main(String[] args) throws InterruptedException {
    if (args.length != 2) {
      System.err.println("usage: EmbeddedNeo4j <home dir> <bolt port>");
      System.exit(2);
    }
    Path home = Path.of(args[0]);
    int port = Integer.parseInt(args[1]);
    DatabaseManagementService dbms =
        new DatabaseManagementServiceBuilder(home)
            .setConfig(BoltConnector.enabled, true)
            .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
            .setConfig(GraphDatabaseSettings.auth_enabled, false)
            // Tests start several of these on a small machine: keep the page cache small.
            .setConfig(GraphDatabaseSettings.pagecache_memory, 32L * 1024 * 1024)
            // A test server is stopped with clients still connected: do not wait for their transactions.
            .setConfig(GraphDatabaseSettings.shutdown_transaction_end_timeout, Duration.ofSeconds(1))
            // Bolt otherwise waits about ten seconds for idle threads after the databases have already stopped.
            .setConfig(BoltConnectorInternalSettings.thread_pool_shutdown_wait_time, Duration.ZERO)
            .setConfig(BoltConnectorInternalSettings.connection_shutdown_wait_time, Duration.ZERO)
            .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0)
            .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_timeout, Duration.ofSeconds(1))
            .build();
    // A fresh store is created on first start; wait until the default database answers before saying ready.
    dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME).executeTransactionally("RETURN 1");
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  dbms.shutdown();
                  stopped.countDown();
                }));
    // On stderr: the launcher keeps the tail of stderr for error messages and reads the ready line from it.
    System.err.println(READY + port);
    System.err.flush();
    stopped.await();
  }
}
