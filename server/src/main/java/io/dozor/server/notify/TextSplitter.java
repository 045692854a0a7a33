package io.dozor.server.notify;

import java.util.ArrayList;
import java.util.List;

/**
 * Cuts a text into Bot API sized pieces (4096 UTF-16 units), preferring a line break, then a space,
 * and never cutting a surrogate pair (an emoji) in half.
 */
public final class TextSplitter {
    public static final int TELEGRAM_LIMIT = 4096;

    private TextSplitter() {}

    public static List<String> split(String text, int limit) {
        List<String> parts = new ArrayList<>();
        String rest = text;
        while (rest.length() > limit) {
            int cut = rest.lastIndexOf('\n', limit);
            if (cut < limit / 2) {
                cut = rest.lastIndexOf(' ', limit);
            }
            if (cut < limit / 2) {
                cut = limit;
                if (Character.isHighSurrogate(rest.charAt(cut - 1))) {
                    cut--;
                }
                parts.add(rest.substring(0, cut));
                rest = rest.substring(cut);
            } else {
                parts.add(rest.substring(0, cut));
                rest = rest.substring(cut + 1);
            }
        }
        if (!rest.isEmpty() || parts.isEmpty()) {
            parts.add(rest);
        }
        return parts;
    }
}
