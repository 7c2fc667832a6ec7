//! rustls scaffolding shared by the tests that use it as an independent TLS peer: a
//! certificate verifier that takes the test certificates without a CA (the handshake
//! signatures are still checked), the NSS key log line, the test certificates.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use rustls::DigitallySignedStruct;
use rustls::SignatureScheme;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

/// One NSS key log line (RFC 9850), newline included.
pub fn nss_line(label: &str, client_random: &[u8], secret: &[u8]) -> String {
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    format!("{label} {} {}\n", hex(client_random), hex(secret))
}

/// rustls's key log, gathered in memory.
#[derive(Debug, Default)]
pub struct KeyLines(pub Mutex<String>);

impl rustls::KeyLog for KeyLines {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        self.0
            .lock()
            .unwrap()
            .push_str(&nss_line(label, client_random, secret));
    }
}

/// Accepts any certificate but checks the handshake signatures (the tests are about records).
#[derive(Debug)]
pub struct AnyCert(pub Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A test certificate and its key (`rsa` or `ec`, in tests/tls_peer/).
pub fn cert(kind: &str) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tls_peer");
    let crt = std::fs::read(format!("{dir}/{kind}.crt.der")).unwrap();
    let key = std::fs::read(format!("{dir}/{kind}.key.der")).unwrap();
    (
        CertificateDer::from(crt),
        PrivateKeyDer::try_from(key).unwrap(),
    )
}
