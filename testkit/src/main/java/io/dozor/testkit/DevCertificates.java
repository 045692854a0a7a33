package io.dozor.testkit;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A development certificate authority and a server certificate it signed, valid for localhost,
 * 127.0.0.1, ::1 and this host's name. Files: {@code ca.pem} (what agents trust), {@code server.pem}
 * (certificate chain) and {@code server-key.pem} (PKCS#8 key).
 */
public record DevCertificates(Path caCert, Path serverCert, Path serverKey) {

    /** The algorithm of the CA's and the server's keys. */
    public enum KeyType {
        RSA_2048("RSA", 2048, "SHA256withRSA"),
        ECDSA_P256("EC", 256, "SHA256withECDSA");

        final String algorithm;
        final int size;
        final String signature;

        KeyType(String algorithm, int size, String signature) {
            this.algorithm = algorithm;
            this.size = size;
            this.signature = signature;
        }
    }

    public static DevCertificates generate(Path dir) {
        return generate(dir, KeyType.RSA_2048);
    }

    public static DevCertificates generate(Path dir, KeyType type) {
        try {
            Files.createDirectories(dir);
            KeyPair caKeys = keys(type);
            X500Name caName = new X500Name("CN=Dozor development CA");
            X509Certificate ca = sign(
                    new JcaX509v3CertificateBuilder(
                                    caName, serial(), notBefore(), notAfter(), caName, caKeys.getPublic())
                            .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                            .addExtension(
                                    Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign)),
                    caKeys,
                    type);

            KeyPair serverKeys = keys(type);
            var ext = new JcaX509ExtensionUtils();
            X509Certificate server = sign(
                    new JcaX509v3CertificateBuilder(
                                    ca,
                                    serial(),
                                    notBefore(),
                                    notAfter(),
                                    new X500Name("CN=localhost"),
                                    serverKeys.getPublic())
                            .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                            .addExtension(
                                    Extension.keyUsage,
                                    true,
                                    new KeyUsage(
                                            type == KeyType.RSA_2048
                                                    ? KeyUsage.digitalSignature | KeyUsage.keyEncipherment
                                                    : KeyUsage.digitalSignature))
                            .addExtension(
                                    Extension.extendedKeyUsage,
                                    false,
                                    new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
                            .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca))
                            .addExtension(Extension.subjectAlternativeName, false, subjectAltNames()),
                    caKeys,
                    type);

            var certs = new DevCertificates(
                    dir.resolve("ca.pem"), dir.resolve("server.pem"), dir.resolve("server-key.pem"));
            Files.writeString(certs.caCert(), pem(ca));
            Files.writeString(certs.serverCert(), pem(server) + pem(ca));
            // the key is created readable by its owner only, never with wider permissions first
            Files.deleteIfExists(certs.serverKey());
            Path key = dir.getFileSystem().supportedFileAttributeViews().contains("posix")
                    ? Files.createFile(
                            certs.serverKey(),
                            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
                    : Files.createFile(certs.serverKey());
            Files.writeString(key, pem(new JcaPKCS8Generator(serverKeys.getPrivate(), null)));
            return certs;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException | org.bouncycastle.operator.OperatorCreationException e) {
            throw new IllegalStateException("cannot generate development certificates: " + e.getMessage(), e);
        }
    }

    /** A TLS context that trusts only this CA: what an agent configured with {@code ca_file} does. */
    public SSLContext clientContext() {
        return trusting(caCert);
    }

    /** A TLS context trusting only the certificates in a PEM file. */
    public static SSLContext trusting(Path caPem) {
        try (var in = Files.newInputStream(caPem)) {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int i = 0;
            for (var cert : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                store.setCertificateEntry("ca-" + i++, cert);
            }
            var tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, tmf.getTrustManagers(), null);
            return ssl;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot trust " + caPem + ": " + e.getMessage(), e);
        }
    }

    private static GeneralNames subjectAltNames() {
        Set<String> dns = new LinkedHashSet<>(List.of("localhost"));
        try {
            dns.add(InetAddress.getLocalHost().getHostName());
        } catch (IOException ignored) {
            // no resolvable host name: localhost and the loopback addresses still work
        }
        List<GeneralName> names = new ArrayList<>();
        dns.forEach(n -> names.add(new GeneralName(GeneralName.dNSName, n)));
        names.add(new GeneralName(GeneralName.iPAddress, "127.0.0.1"));
        names.add(new GeneralName(GeneralName.iPAddress, "::1"));
        return new GeneralNames(names.toArray(GeneralName[]::new));
    }

    private static KeyPair keys(KeyType type) throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance(type.algorithm);
        generator.initialize(type.size);
        return generator.generateKeyPair();
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair issuer, KeyType type)
            throws GeneralSecurityException, org.bouncycastle.operator.OperatorCreationException {
        ContentSigner signer = new JcaContentSignerBuilder(type.signature).build(issuer.getPrivate());
        return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
    }

    private static BigInteger serial() {
        return new BigInteger(64, new SecureRandom()).abs().add(BigInteger.ONE);
    }

    private static Date notBefore() {
        return Date.from(Instant.now().minus(Duration.ofHours(1)));
    }

    private static Date notAfter() {
        return Date.from(Instant.now().plus(Duration.ofDays(825)));
    }

    private static String pem(org.bouncycastle.util.io.pem.PemObjectGenerator generator) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(generator);
        }
        return out.toString();
    }

    private static String pem(X509Certificate object) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(object);
        }
        return out.toString();
    }
}
