package io.dozor.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.MultiMap;
import org.junit.jupiter.api.Test;

class AdminRoutesTest {
    static MultiMap params(String name, String value) {
        return MultiMap.caseInsensitiveMultiMap().add(name, value);
    }

    @Test
    void filtersWithControlCharactersOrLoneSurrogatesAreRefusedNamingTheParameter() {
        for (String name : new String[] {"user", "process", "agent"}) {
            for (String bad :
                    new String[] {"iva\u0000nov", "a\nb", "\r", "x\u0085", "\u007f", "\ud800", "a\udc00b", ""}) {
                assertThatThrownBy(() -> AdminRoutes.query(params(name, bad)))
                        .as(name + " " + bad.codePoints().boxed().toList())
                        .isInstanceOf(BadRequest.class)
                        .satisfies(e -> assertThat(((BadRequest) e).field()).isEqualTo(name));
            }
        }
    }

    @Test
    void ordinaryNamesPassAsTheyAre() {
        assertThat(AdminRoutes.query(params("user", "<b>Иванов</b> 😀 \u202Eevil"))
                        .user())
                .isEqualTo("<b>Иванов</b> 😀 \u202Eevil");
        assertThat(AdminRoutes.query(params("process", "chrome.exe")).process()).isEqualTo("chrome.exe");
    }
}
