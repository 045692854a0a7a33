package io.netty.handler.ssl;

/** A task of Netty's TLS package, as {@code SslHandler}'s delegated tasks are, for HandshakePoolTest. */
public final class DozorHandshakeStepForTests implements Runnable {
    private final Runnable body;

    public DozorHandshakeStepForTests(Runnable body) {
        this.body = body;
    }

    @Override
    public void run() {
        body.run();
    }
}
