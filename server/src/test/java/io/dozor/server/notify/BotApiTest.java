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

  /** A 400 about the chat parks the chat's whole backlog; any other 400 only the message refused. */
  @Test
  void a400AboutTheChatIsTheChatsAnyOtherIsTheMessages() {
    for (String chat : new String[] {"Bad Request: chat not found", "Bad Request: PEER_ID_INVALID",
        "Bad Request: group chat was upgraded to a supergroup chat", "Bad Request: CHAT_WRITE_FORBIDDEN",
        "Bad Request: not enough rights to send text messages to the chat"}) {
      assertThat(BotApi.aboutTheChat(chat)).as(chat).isTrue();
    }
    for (String message : new String[] {"Bad Request: message is too long", "Bad Request: message text is empty",
        "Bad Request: can't parse entities: unsupported start tag", "Bad Request: TEXT_INVALID"}) {
      assertThat(BotApi.aboutTheChat(message)).as(message).isFalse();
    }
  }
}
