package io.dozor.server.notify;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import org.junit.jupiter.api.Test;

class BotApiTest {
  @Test
  void errorDescriptionsNeverCarryTheBotToken() {
    BotApi api = new BotApi(null, null, URI.create("https://api.telegram.org"), "123456:AAE-secret_token", null);
    String described = api.describe(new RuntimeException(
        "The timeout period of 10000ms has been exceeded while executing POST /bot123456:AAE-secret_token/sendMessage"));
    assertThat(described).doesNotContain("AAE-secret_token")
        .isEqualTo("The timeout period of 10000ms has been exceeded while executing POST /bot<bot-token>/sendMessage");
  }
}
