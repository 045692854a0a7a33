package io.dozor.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP forwarder on 127.0.0.1 in front of a real service, to take the service away from the system
 * under test without stopping it: {@link #cut()} drops every connection and refuses new ones,
 * {@link #blackhole()} accepts connections and never answers (a hung service), {@link #restore()} ends
 * either.
 */
public final class TcpProxy implements AutoCloseable {
    public enum Mode {
        FORWARD,
        CUT,
        BLACKHOLE
    }

    private final ServerSocket server;
    private final InetSocketAddress target;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private volatile Mode mode = Mode.FORWARD;
    private volatile boolean closed;

    private TcpProxy(InetSocketAddress target) throws IOException {
        this.target = target;
        this.server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::acceptLoop, "tcp-proxy-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public static TcpProxy to(String host, int port) {
        try {
            return new TcpProxy(new InetSocketAddress(host, port));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public int port() {
        return server.getLocalPort();
    }

    /** The service is gone: open connections are reset and new ones closed at once. */
    public void cut() {
        mode = Mode.CUT;
        dropAll();
    }

    /** The service hangs: open connections are dropped, new ones are accepted and never answered. */
    public void blackhole() {
        mode = Mode.BLACKHOLE;
        dropAll();
    }

    /** Forwards again; connections held by a blackhole are reset, as a restarted service would. */
    public void restore() {
        if (mode == Mode.BLACKHOLE) {
            dropAll();
        }
        mode = Mode.FORWARD;
    }

    private void dropAll() {
        for (Socket s : open) {
            closeQuietly(s);
        }
        open.clear();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return;
            }
            switch (mode) {
                case CUT -> closeQuietly(client);
                case BLACKHOLE -> open.add(client);
                case FORWARD -> forward(client);
            }
        }
    }

    private void forward(Socket client) {
        try {
            Socket upstream = new Socket();
            upstream.connect(target, 5_000);
            open.add(client);
            open.add(upstream);
            pump(client, upstream);
            pump(upstream, client);
        } catch (IOException e) {
            closeQuietly(client);
        }
    }

    private void pump(Socket from, Socket to) {
        Thread t = new Thread(
                () -> {
                    byte[] buffer = new byte[16 * 1024];
                    try (InputStream in = from.getInputStream();
                            OutputStream out = to.getOutputStream()) {
                        int n;
                        while ((n = in.read(buffer)) >= 0) {
                            out.write(buffer, 0, n);
                            out.flush();
                        }
                    } catch (IOException ignored) {
                        // either side closed
                    } finally {
                        closeQuietly(from);
                        closeQuietly(to);
                        open.remove(from);
                        open.remove(to);
                    }
                },
                "tcp-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.setSoLinger(true, 0);
            s.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        dropAll();
    }
}
