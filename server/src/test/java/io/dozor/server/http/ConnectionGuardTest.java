package io.dozor.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ConnectionGuardTest {

    @Test
    void theAnnouncedKeepAliveIsShorterThanTheServersSoClientsCloseFirst() {
        assertThat(ConnectionGuard.announcedSeconds(Duration.ofSeconds(120))).isEqualTo(115);
        assertThat(ConnectionGuard.announcedSeconds(Duration.ofSeconds(10))).isEqualTo(5);
        assertThat(ConnectionGuard.announcedSeconds(Duration.ofSeconds(5))).isEqualTo(2);
        assertThat(ConnectionGuard.announcedSeconds(Duration.ofMillis(2500))).isEqualTo(1);
        assertThat(ConnectionGuard.announcedSeconds(Duration.ofMillis(500))).isEqualTo(1);
    }
}
