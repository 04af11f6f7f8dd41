package dev.heysh.neo4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;

/**
 * Runs a Neo4j Community DBMS in this JVM with only the Bolt connector open.
 *
 * <p>Usage: {@code java -jar heysh-neo4j-server.jar HOME_DIR [HOST] [BOLT_PORT]}
 * (defaults 127.0.0.1 and 57687). The store lives under HOME_DIR/data. With the
 * environment variable NEO4J_PASSWORD set, authentication is on and the user
 * "neo4j" gets that password; without it, authentication is off (a test server
 * bound to the loopback interface). Prints one line "READY bolt://HOST:PORT" on
 * stdout once Bolt accepts connections, and shuts the DBMS down cleanly on
 * SIGTERM or SIGINT so that a restart finds a consistent store.
 */
public final class EmbeddedBoltServer {

    private EmbeddedBoltServer() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: EmbeddedBoltServer HOME_DIR [HOST] [BOLT_PORT]");
            System.exit(2);
        }
        Path home = Path.of(args[0]).toAbsolutePath();
        String host = args.length > 1 ? args[1] : "127.0.0.1";
        int port = args.length > 2 ? Integer.parseInt(args[2]) : 57687;
        String password = System.getenv("NEO4J_PASSWORD");
        boolean authEnabled = password != null && !password.isEmpty();
        Files.createDirectories(home);

        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress(host, port))
                .setConfig(BoltConnector.advertised_address, new SocketAddress(host, port))
                .setConfig(BoltConnector.encryption_level,
                        BoltConnector.EncryptionLevel.DISABLED)
                .setConfig(HttpConnector.enabled, false)
                .setConfig(HttpsConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.auth_enabled, authEnabled)
                // A test server shares a small machine: keep the page cache small.
                .setConfig(GraphDatabaseSettings.pagecache_memory, 128L * 1024 * 1024)
                .build();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("heysh-neo4j: shutting down");
            dbms.shutdown();
            stopped.countDown();
        }, "heysh-neo4j-shutdown"));

        if (authEnabled) {
            // Embedded transactions bypass authentication, so the system
            // database can set the password without knowing the old one.
            dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME).executeTransactionally(
                    "ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED",
                    Map.of("password", password));
        }
        // Waits until the default database is available before announcing.
        dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME)
                .executeTransactionally("RETURN 1");
        System.out.println("READY bolt://" + host + ":" + port);
        System.out.flush();
        stopped.await();
    }
}
