package io.dozor.server.rules;

import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Optional;

/**
 * Who may command the bot, decided from the message alone (no Bot API call, so nothing to cache or to fail).
 * A message is obeyed only when its chat is in {@code telegram.chat_ids} and it comes from a person:
 * never without {@code from}, from a bot, on behalf of a chat ({@code sender_chat}: a channel or an anonymous
 * admin), or from Telegram's own senders (id 0, {@link #TELEGRAM_SERVICE} that forwards a linked channel's posts
 * into its discussion group, {@link #GROUP_ANONYMOUS_BOT} that stands for anonymous group admins). In a group or
 * supergroup every member can write, so only the users of {@code telegram.admin_user_ids} are obeyed there (none
 * when it is empty); in a private chat, anyone in it unless {@code admin_user_ids} is set.
 */
public record Senders(List<Long> chatIds, List<Long> adminUserIds) {
    static final long TELEGRAM_SERVICE = 777_000L;
    static final long GROUP_ANONYMOUS_BOT = 1_087_968_824L;

    /** Why {@code message} (a {@code Message} of the Bot API) must not be obeyed; empty when it may be. */
    public Optional<String> refusal(JsonObject message) {
        JsonObject chat = message.getValue("chat") instanceof JsonObject c ? c : new JsonObject();
        if (!(chat.getValue("id") instanceof Number chatId) || !chatIds.contains(chatId.longValue())) {
            return Optional.of("chat not in telegram.chat_ids");
        }
        if (message.getValue("sender_chat") != null) {
            return Optional.of("sent on behalf of a chat");
        }
        if (!(message.getValue("from") instanceof JsonObject from) || !(from.getValue("id") instanceof Number id)) {
            return Optional.of("no sender");
        }
        long user = id.longValue();
        if (Boolean.TRUE.equals(from.getValue("is_bot"))) {
            return Optional.of("sender is a bot");
        }
        if (isTelegramItself(user)) {
            return Optional.of("sender is Telegram itself, not a person");
        }
        boolean group = !"private".equals(chat.getValue("type"));
        if ((group || !adminUserIds.isEmpty()) && !adminUserIds.contains(user)) {
            return Optional.of(
                    adminUserIds.isEmpty()
                            ? "a group chat, and telegram.admin_user_ids is empty"
                            : "sender not in telegram.admin_user_ids");
        }
        return Optional.empty();
    }

    /** Telegram's own senders, which {@code admin_user_ids} must not list: they are never a person. */
    public static boolean isTelegramItself(long user) {
        return user <= 0 || user == TELEGRAM_SERVICE || user == GROUP_ANONYMOUS_BOT;
    }
}
