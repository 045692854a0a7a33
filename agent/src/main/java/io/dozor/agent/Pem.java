package io.dozor.agent;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** Trust built from a PEM file: only the certificates in that file are trusted. */
public final class Pem {

    private Pem() {}

    /** Every X.509 certificate in a PEM (or DER) file; empty if the file holds none. */
    public static List<X509Certificate> readCertificates(Path file) throws IOException, CertificateException {
        byte[] bytes = Files.readAllBytes(file);
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        return factory.generateCertificates(new ByteArrayInputStream(bytes)).stream()
                .map(X509Certificate.class::cast)
                .toList();
    }

    /**
     * A TLS context whose trust store holds exactly {@code certificates}: the JDK's default CAs are not
     * trusted. Host name verification is left to the client (the JDK HTTP client keeps it on).
     */
    public static SSLContext trustOnly(List<X509Certificate> certificates) throws GeneralSecurityException {
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            for (int i = 0; i < certificates.size(); i++) {
                store.setCertificateEntry("ca-" + i, certificates.get(i));
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            return context;
        } catch (IOException e) {
            throw new GeneralSecurityException("cannot build trust store", e);
        }
    }
}
