package io.dozor.server.notify;

import io.dozor.server.outbox.Backoff;
import io.dozor.server.outbox.Delivery;
import io.dozor.server.outbox.OutboxItem;
import io.dozor.server.outbox.Sink;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Sends launches to one chat through the Bot API, one message at a time and in order. Plain text (no
 * parse mode), so any name arrives verbatim. A 429 defers this and the following messages by its
 * {@code retry_after}; 5xx and network errors back off; 400/403 (chat not found, bot blocked) park.
 */
final class TelegramSink implements Sink {
  static final String PREFIX = "telegram:";
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

  private final WebClient client;
  private final String sendMessageUri;
  private final long chatId;
  private final MessageFormatter formatter;

  TelegramSink(WebClient client, URI apiUrl, String botToken, long chatId, MessageFormatter formatter) {
    this.client = client;
    this.sendMessageUri = apiUrl + "/bot" + botToken + "/sendMessage";
    this.chatId = chatId;
    this.formatter = formatter;
  }

  static String sinkName(long chatId) {
    return PREFIX + chatId;
  }

  @Override
  public String name() {
    return sinkName(chatId);
  }

  @Override
  public int batchSize() {
    return 20;
  }

  @Override
  public Future<List<Delivery>> deliver(List<OutboxItem> items) {
    return sendFrom(items, 0, new ArrayList<>(items.size()));
  }

  private Future<List<Delivery>> sendFrom(List<OutboxItem> items, int index, List<Delivery> out) {
    if (index == items.size()) {
      return Future.succeededFuture(out);
    }
    OutboxItem item = items.get(index);
    JsonObject body = new JsonObject()
        .put("chat_id", chatId)
        .put("text", formatter.format(item.event()))
        .put("link_preview_options", new JsonObject().put("is_disabled", true));
    return client.postAbs(sendMessageUri).timeout(REQUEST_TIMEOUT.toMillis()).sendJsonObject(body)
        .map(response -> outcome(item, response))
        .otherwise(err -> Delivery.retry(item.event().id(), Backoff.after(item.attempts()),
            "telegram unreachable: " + err.getMessage()))
        .compose(delivery -> {
          out.add(delivery);
          if (delivery.outcome() == Delivery.Outcome.DONE) {
            return sendFrom(items, index + 1, out);
          }
          // The chat is throttled, down or gone: the rest of the batch shares the fate, unsent.
          for (int i = index + 1; i < items.size(); i++) {
            long pk = items.get(i).event().id();
            out.add(delivery.outcome() == Delivery.Outcome.PARK
                ? Delivery.park(pk, delivery.error())
                : Delivery.retry(pk, delivery.retryAfter(), delivery.error()));
          }
          return Future.succeededFuture(out);
        });
  }

  private static Delivery outcome(OutboxItem item, HttpResponse<Buffer> response) {
    long pk = item.event().id();
    int status = response.statusCode();
    if (status == 200) {
      return Delivery.done(pk);
    }
    JsonObject answer = parse(response);
    String description = answer.getString("description", "HTTP " + status);
    if (status == 429) {
      JsonObject parameters = answer.getJsonObject("parameters", new JsonObject());
      long retryAfter = parameters.getLong("retry_after", 1L);
      return Delivery.retry(pk, Duration.ofSeconds(Math.max(1, retryAfter)), "429 " + description);
    }
    if (status >= 500) {
      return Delivery.retry(pk, Backoff.after(item.attempts()), status + " " + description);
    }
    return Delivery.park(pk, status + " " + description);
  }

  private static JsonObject parse(HttpResponse<Buffer> response) {
    try {
      JsonObject json = response.bodyAsJsonObject();
      return json == null ? new JsonObject() : json;
    } catch (RuntimeException e) {
      return new JsonObject();
    }
  }
}
