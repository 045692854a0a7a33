package io.dozor.server.notify;

import io.dozor.server.config.ServerConfig;
import io.dozor.server.outbox.OutboxWorker;
import io.dozor.server.outbox.Sink;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.sqlclient.Pool;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Feeds every configured Telegram chat (or, with no bot token, the log) from the outbox. */
public final class NotifierVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(NotifierVerticle.class);

  private final ServerConfig.Telegram config;
  private final Pool pool;
  private final Duration pollInterval;
  private WebClient client;

  public NotifierVerticle(ServerConfig.Telegram config, Pool pool, Duration pollInterval) {
    this.config = config;
    this.pool = pool;
    this.pollInterval = pollInterval;
  }

  /** The outbox sinks this configuration feeds; the persistence verticle queues each new event for each. */
  public static List<String> sinkNames(ServerConfig.Telegram config) {
    if (config.botToken().isEmpty()) {
      return List.of(LogSink.NAME);
    }
    return config.chatIds().stream().map(TelegramSink::sinkName).toList();
  }

  @Override
  public Future<?> start() {
    var formatter = new MessageFormatter(config.template(), config.timeZone());
    List<Sink> sinks = new ArrayList<>();
    if (config.botToken().isEmpty()) {
      log.info("no telegram bot token: notifications go to the log");
      sinks.add(new LogSink(formatter));
    } else {
      client = WebClient.create(vertx, new WebClientOptions().setUserAgent("dozor-server").setConnectTimeout(5_000));
      String token = config.botToken().get();
      for (long chat : config.chatIds()) {
        sinks.add(new TelegramSink(client, config.apiUrl(), token, chat, formatter));
      }
      if (sinks.isEmpty()) {
        log.warn("telegram bot token set but no chat ids: nobody will be notified");
      }
    }
    return Future.all(sinks.stream().map(s -> new OutboxWorker(vertx, pool, s, pollInterval).start()).toList());
  }
}
