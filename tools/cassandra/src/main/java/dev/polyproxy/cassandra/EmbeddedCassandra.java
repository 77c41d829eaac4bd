// Starts an embedded single-node Cassandra 5.0 with CQL on 127.0.0.1:<port>, prints a ready line, and runs until stopped.
package dev.polyproxy.cassandra;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import org.apache.cassandra.service.CassandraDaemon;

public final class EmbeddedCassandra {
  /** The line the launcher waits for before it connects. */
  static final String READY = "polyproxy-cassandra ready on 127.0.0.1:";

  private EmbeddedCassandra() {}

  public static void main(String[] args) throws IOException, InterruptedException {
    if (args.length != 3) {
      System.err.println("usage: EmbeddedCassandra <dir> <native transport port> <storage port>");
      System.exit(2);
    }
    Path dir = Path.of(args[0]).toAbsolutePath();
    int nativePort = Integer.parseInt(args[1]);
    int storagePort = Integer.parseInt(args[2]);
    Files.createDirectories(dir);
    Path yaml = dir.resolve("cassandra.yaml");
    Files.writeString(yaml, config(dir, nativePort, storagePort), StandardCharsets.UTF_8);
    Path logback = dir.resolve("logback.xml");
    Files.writeString(logback, LOGBACK, StandardCharsets.UTF_8);
    // Set before any Cassandra class loads: they read these once, in static initialisers.
    System.setProperty("cassandra.config", yaml.toUri().toString());
    System.setProperty("cassandra.storagedir", dir.toString());
    System.setProperty("logback.configurationFile", logback.toString());
    // Without it the daemon closes stdout and stderr once started, and the ready line is never seen.
    System.setProperty("cassandra-foreground", "yes");
    // A single node has no peers to wait for: skip the ring and gossip settling delays (30 s and more).
    System.setProperty("cassandra.ring_delay_ms", "0");
    System.setProperty("cassandra.skip_wait_for_gossip_to_settle", "0");
    System.setProperty("cassandra.superuser_setup_delay_ms", "0");

    CassandraDaemon daemon = new CassandraDaemon(true);
    daemon.activate();
    if (!daemon.isNativeTransportRunning()) {
      System.err.println("polyproxy-cassandra: the native transport did not start");
      System.exit(1);
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  daemon.deactivate();
                  stopped.countDown();
                }));
    // On stderr: the launcher keeps the tail of stderr for error messages and reads the ready line from it.
    System.err.println(READY + nativePort);
    System.err.flush();
    stopped.await();
  }

  private static String config(Path dir, int nativePort, int storagePort) {
    return String.join(
        "\n",
        "cluster_name: polyproxy-test",
        "num_tokens: 1",
        "initial_token: 0",
        "auto_bootstrap: false",
        "partitioner: org.apache.cassandra.dht.Murmur3Partitioner",
        "endpoint_snitch: SimpleSnitch",
        "authenticator: AllowAllAuthenticator",
        "authorizer: AllowAllAuthorizer",
        "data_file_directories: [" + quoted(dir.resolve("data")) + "]",
        "commitlog_directory: " + quoted(dir.resolve("commitlog")),
        "saved_caches_directory: " + quoted(dir.resolve("saved_caches")),
        "hints_directory: " + quoted(dir.resolve("hints")),
        "cdc_raw_directory: " + quoted(dir.resolve("cdc_raw")),
        "commitlog_sync: periodic",
        "commitlog_sync_period: 10000ms",
        "commitlog_segment_size: 8MiB",
        "seed_provider:",
        "  - class_name: org.apache.cassandra.locator.SimpleSeedProvider",
        "    parameters:",
        "      - seeds: \"127.0.0.1:" + storagePort + "\"",
        "listen_address: 127.0.0.1",
        "rpc_address: 127.0.0.1",
        "storage_port: " + storagePort,
        "native_transport_port: " + nativePort,
        "start_native_transport: true",
        // Tests run several servers on a small machine: small memtables, few threads, no caches.
        "memtable_heap_space: 32MiB",
        "memtable_offheap_space: 32MiB",
        "concurrent_reads: 4",
        "concurrent_writes: 4",
        "concurrent_counter_writes: 4",
        "concurrent_materialized_view_writes: 2",
        "key_cache_size: 0MiB",
        "counter_cache_size: 0MiB",
        "prepared_statements_cache_size: 8MiB",
        "native_transport_max_threads: 16",
        // A test server writes little and is thrown away: no durable waits, no snapshots on drop.
        "auto_snapshot: false",
        "snapshot_before_compaction: false",
        "",
        "");
  }

  private static String quoted(Path path) {
    return "\"" + path.toString().replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  private static final String LOGBACK =
      String.join(
          "\n",
          "<configuration>",
          "  <appender name=\"STDERR\" class=\"ch.qos.logback.core.ConsoleAppender\">",
          "    <target>System.err</target>",
          "    <encoder><pattern>%level %logger{20} %msg%n</pattern></encoder>",
          "  </appender>",
          "  <root level=\"WARN\"><appender-ref ref=\"STDERR\"/></root>",
          "</configuration>",
          "");
}
