package io.dozor.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whether the agent's {@link ServerClient} keeps its connection across an idle gap longer than the JDK's default
 * 5 s (a heartbeat interval, on a real fleet), so that a fleet does not make a TLS handshake per heartbeat. A raw
 * HTTP/1.1 server counts the TCP connections it accepts.
 */
class ServerClientKeepAliveTest {

    private static final Duration IDLE = Duration.ofMillis(6_500);
    private static final byte[] BEAT = "{}".getBytes(StandardCharsets.UTF_8);

    /** Answers every request 204 with {@code headers}, on as many requests per connection as the client sends. */
    static final class CountingServer implements AutoCloseable {
        final ServerSocket socket;
        final AtomicInteger accepted = new AtomicInteger();
        final AtomicInteger requests = new AtomicInteger();
        final List<SSLSession> sessions = new CopyOnWriteArrayList<>();
        private final List<String> headers;
        private final Thread acceptor;

        CountingServer(ServerSocket socket, String... headers) {
            this.socket = socket;
            this.headers = List.of(headers);
            this.acceptor = Thread.ofVirtual().start(this::accept);
        }

        static CountingServer http(String... headers) throws IOException {
            return new CountingServer(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()), headers);
        }

        static CountingServer https(String... headers) throws Exception {
            SSLServerSocket socket = (SSLServerSocket) TestServer.serverTls()
                    .getServerSocketFactory()
                    .createServerSocket(0, 50, InetAddress.getLoopbackAddress());
            return new CountingServer(socket, headers);
        }

        URI url() {
            String scheme = socket instanceof SSLServerSocket ? "https" : "http";
            return URI.create(scheme + "://localhost:" + socket.getLocalPort());
        }

        private void accept() {
            while (!socket.isClosed()) {
                try {
                    Socket s = socket.accept();
                    accepted.incrementAndGet();
                    Thread.ofVirtual().start(() -> serve(s));
                } catch (IOException e) {
                    return; // closed
                }
            }
        }

        private void serve(Socket s) {
            try (s) {
                if (s instanceof SSLSocket tls) {
                    tls.startHandshake();
                    sessions.add(tls.getSession());
                }
                InputStream in = new BufferedInputStream(s.getInputStream());
                OutputStream out = s.getOutputStream();
                while (true) {
                    int length = -1;
                    String line = readLine(in);
                    if (line == null) {
                        return; // the client closed it
                    }
                    while (!(line = readLine(in)).isEmpty()) {
                        if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                            length = Integer.parseInt(line.substring(15).trim());
                        }
                    }
                    in.readNBytes(Math.max(0, length));
                    requests.incrementAndGet();
                    StringBuilder answer = new StringBuilder("HTTP/1.1 204 No Content\r\n");
                    headers.forEach(h -> answer.append(h).append("\r\n"));
                    out.write(answer.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                }
            } catch (IOException e) {
                // the connection ended
            }
        }

        private static String readLine(InputStream in) throws IOException {
            StringBuilder line = new StringBuilder();
            for (int c; (c = in.read()) != '\n'; ) {
                if (c < 0) {
                    return line.isEmpty() ? null : line.toString();
                }
                if (c != '\r') {
                    line.append((char) c);
                }
            }
            return line.toString();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static void beat(ServerClient client, CountingServer server) throws IOException {
        URI endpoint = server.url().resolve("/api/v1/heartbeat");
        assertThat(client.post(endpoint, BEAT, Duration.ofSeconds(5)).status()).isEqualTo(204);
    }

    /**
     * What the server's {@code Connection: keep-alive} + {@code Keep-Alive: timeout=30} does, whatever the JVM's
     * own default (the JDK takes the server's timeout then); and over TLS, that a new connection resumes the
     * session of the last one (one {@link SSLContext} per agent): its session keeps the first one's creation time.
     */
    @Test
    void theServersKeepAliveTimeoutKeepsOneConnectionAndAReconnectResumesTheTlsSession(@TempDir Path dir)
            throws Exception {
        SSLContext agentTls = EventShipper.sslContext(EventShipperTest.copy("/tls/server.pem", dir));
        try (CountingServer plain = CountingServer.http("Connection: keep-alive", "Keep-Alive: timeout=30");
                CountingServer tls = CountingServer.https("Connection: keep-alive", "Keep-Alive: timeout=30");
                CountingServer tlsClosing = CountingServer.https("Connection: close")) {
            List<CountingServer> servers = List.of(plain, tls, tlsClosing);
            List<ServerClient> clients = servers.stream()
                    .map(s ->
                            new ServerClient(s.url(), "tok", s.url().getScheme().equals("https") ? agentTls : null))
                    .toList();

            for (int i = 0; i < servers.size(); i++) {
                beat(clients.get(i), servers.get(i));
            }
            Thread.sleep(IDLE.toMillis()); // longer than the JDK's default keep-alive (5 s)
            for (int i = 0; i < servers.size(); i++) {
                beat(clients.get(i), servers.get(i));
            }

            assertThat(plain.accepted).as("http: one connection for both").hasValue(1);
            assertThat(tls.accepted).as("https: one connection for both").hasValue(1);
            assertThat(tlsClosing.accepted).as("closed after each answer").hasValue(2);
            assertThat(tlsClosing.sessions).hasSize(2);
            assertThat(tlsClosing.sessions.get(1).getCreationTime())
                    .as(
                            "resumed, not a new session (a full handshake %s ms later would make a new one)",
                            IDLE.toMillis())
                    .isEqualTo(tlsClosing.sessions.get(0).getCreationTime());
        }
    }

    /**
     * The agent as started ({@code dozor-agent run}, in its own JVM: the JDK reads its keep-alive property once)
     * against a server that says nothing of keep-alive, heartbeats {@value #BEAT_INTERVAL_S} s apart: one
     * connection for both. The control, the same agent with the JDK's 5 s ({@code -Dhttp.keepAlive.time.server=5}
     * on its command line, which the agent leaves alone), opens one per heartbeat.
     */
    @Test
    void theAgentKeepsAnIdleConnectionAcrossHeartbeatsWhenTheServerSaysNothing(@TempDir Path dir) throws Exception {
        try (CountingServer agentDefault = CountingServer.http();
                CountingServer jdkDefault = CountingServer.http()) {
            Process agent = agent(dir.resolve("agent"), agentDefault, List.of());
            Process control =
                    agent(dir.resolve("control"), jdkDefault, List.of("-D" + ServerClient.KEEP_ALIVE_PROPERTY + "=5"));
            try {
                TestServer.await(
                        "two heartbeats each",
                        Duration.ofSeconds(60),
                        () -> agentDefault.requests.get() >= 2 && jdkDefault.requests.get() >= 2);
            } finally {
                agent.destroy();
                control.destroy();
                agent.waitFor(10, TimeUnit.SECONDS);
                control.waitFor(10, TimeUnit.SECONDS);
            }

            assertThat(agentDefault.accepted).as("the agent's keep-alive").hasValue(1);
            assertThat(jdkDefault.accepted).as("the JDK's 5 s").hasValue(2);
        }
    }

    private static final int BEAT_INTERVAL_S = 7;

    private static Process agent(Path home, CountingServer server, List<String> jvmFlags) throws IOException {
        Files.createDirectories(home);
        Path ini = Files.writeString(home.resolve("agent.ini"), """
                [server]
                url = %s
                token = tok
                allow_insecure_http = true
                heartbeat_interval_s = %d
                [monitor]
                processes = nothing-watched
                [log]
                dir = logs
                """.formatted(server.url(), BEAT_INTERVAL_S));
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmFlags);
        command.addAll(List.of(
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "run", "--config", ini.toString()));
        return new ProcessBuilder(command)
                .directory(home.toFile())
                .redirectErrorStream(true)
                .redirectOutput(home.resolve("console.txt").toFile())
                .start();
    }
}
