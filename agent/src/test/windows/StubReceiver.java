import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * A stand-in for the Dozor server in the Windows end-to-end test (e2e.ps1): HTTPS on 127.0.0.1, checks the
 * bearer token, appends the body of every {@code POST /api/v1/events} as one line to a file and answers 200;
 * heartbeats get 204. Not the real server (no PostgreSQL): it checks what the agent sends, nothing more.
 *
 * <p>{@code java StubReceiver.java PORT KEYSTORE.p12 STOREPASS TOKEN EVENTS_FILE} (single-file source launch).
 */
public final class StubReceiver {

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        String password = args[2];
        String expected = "Bearer " + args[3];
        Path events = Path.of(args[4]);
        Files.deleteIfExists(events);
        Files.createFile(events);

        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = new FileInputStream(args[1])) {
            keys.load(in, password.toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, password.toCharArray());
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(kmf.getKeyManagers(), null, null);

        HttpsServer server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 16);
        server.setHttpsConfigurator(new HttpsConfigurator(tls));
        server.createContext("/api/v1/events", exchange -> handle(exchange, expected, () -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            String line = new String(body, StandardCharsets.UTF_8).replace("\r", "").replace("\n", "") + "\n";
            synchronized (StubReceiver.class) {
                Files.writeString(events, line, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
            }
            System.out.println("events: " + line.strip());
            return 200;
        }));
        server.createContext("/api/v1/heartbeat", exchange -> handle(exchange, expected, () -> {
            exchange.getRequestBody().readAllBytes();
            return 204;
        }));
        server.start();
        System.out.println("listening on https://127.0.0.1:" + port);
    }

    private interface Answer {
        int status() throws IOException;
    }

    private static void handle(HttpExchange exchange, String expected, Answer answer) throws IOException {
        try (exchange) {
            int status;
            if (!"POST".equals(exchange.getRequestMethod())) {
                status = 405;
            } else if (!expected.equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
                status = 401;
            } else {
                status = answer.status();
            }
            byte[] body = status == 200 ? "{}".getBytes(StandardCharsets.UTF_8) : new byte[0];
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(status, status == 204 || body.length == 0 ? -1 : body.length);
            if (body.length > 0 && status != 204) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
        }
    }
}
