//! Key schedule against published vectors.

use super::h;
use crate::tls::schedule::{expand_label, prf};
use crate::tls::suite::Hash;

/// The TLS 1.2 PRF test vectors posted to the IETF TLS list (msg03416, 2009), confirmed by
/// OASIS PKCS#11 (2014): P_SHA256 and P_SHA384 with label "test label".
#[test]
fn tls12_prf_sha256_vector() {
    let mut out = [0u8; 100];
    prf(
        Hash::Sha256,
        &h("9bbe436ba940f017b17652849a71db35"),
        b"test label",
        &h("a0ba9f936cda311827a6f796ffd5198c"),
        &mut out,
    );
    assert_eq!(
        out.to_vec(),
        h(
            "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a
           6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab
           4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701
           87347b66"
        )
    );
}

#[test]
fn tls12_prf_sha384_vector() {
    let mut out = [0u8; 148];
    prf(
        Hash::Sha384,
        &h("b80b733d6ceefcdc71566ea48e5567df"),
        b"test label",
        &h("cd665cf6a8447dd6ff8b27555edb7465"),
        &mut out,
    );
    assert_eq!(
        out.to_vec(),
        h(
            "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd
           e9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd
           8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425
           9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6
           91c8f3a26854308d5eaa3be85e0990703d73e56f"
        )
    );
}

/// RFC 8448 §3: traffic secrets → write keys and IVs (HKDF-Expand-Label, SHA-256).
#[test]
fn rfc8448_traffic_keys() {
    let cases = [
        // {server} handshake, {client} handshake, {server} application, {client} application
        (
            "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38",
            "3fce516009c21727d0f2e4e86ee403bc",
            "5d313eb2671276ee13000b30",
        ),
        (
            "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21",
            "dbfaa693d1762c5b666af5d950258d01",
            "5bd3c71b836e0b76bb73265f",
        ),
        (
            "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643",
            "9f02283b6c9c07efc26bb9f2ac92e356",
            "cf782b88dd83549aadf1e984",
        ),
        (
            "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5",
            "17422dda596ed5d9acd890e3c63f5051",
            "5b78923dee08579033e523d9",
        ),
    ];
    for (secret, key, iv) in cases {
        let mut k = [0u8; 16];
        let mut i = [0u8; 12];
        expand_label(Hash::Sha256, &h(secret), b"key", b"", &mut k).unwrap();
        expand_label(Hash::Sha256, &h(secret), b"iv", b"", &mut i).unwrap();
        assert_eq!(k.to_vec(), h(key), "key of {secret}");
        assert_eq!(i.to_vec(), h(iv), "iv of {secret}");
    }
}

/// RFC 8448 §3: the server's Finished key, another HKDF-Expand-Label with a different label
/// and length, checks the label encoding independently of "key"/"iv".
#[test]
fn rfc8448_finished_key() {
    let mut out = [0u8; 32];
    let s_hs = h("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38");
    expand_label(Hash::Sha256, &s_hs, b"finished", b"", &mut out).unwrap();
    assert_eq!(
        out.to_vec(),
        h("008d3b66f816ea559f96b537e885c31fc068bf492c652f01f288a1d8cdc19fc8")
    );
}
