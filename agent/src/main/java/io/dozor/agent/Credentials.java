package io.dozor.agent;

import java.io.IOException;

/** Where the {@code Authorization} header of the agent's requests comes from. */
interface Credentials {
    /** The header value for the next request; may ask the server for a new access token first. */
    String authorization() throws IOException;

    /**
     * The server answered 401 to {@code authorization}: true when asking again may give a better one (an
     * enrolled agent renews its access token once), false for a fixed token.
     */
    boolean rejected(String authorization);

    /** The server refused the credential itself (revoked or expired, or enrolment refused): no retry helps now. */
    final class Refused extends IOException {
        Refused(String message) {
            super(message);
        }
    }

    /** A token from the INI file ({@code [server] token}), sent as it is. */
    static Credentials fixed(String token) {
        String header = "Bearer " + token;
        return new Credentials() {
            @Override
            public String authorization() {
                return header;
            }

            @Override
            public boolean rejected(String authorization) {
                return false;
            }
        };
    }
}
