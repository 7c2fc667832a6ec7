//! The handshake messages whose contents matter for decryption: ClientHello, ServerHello
//! (and HelloRetryRequest), EncryptedExtensions (RFC 8446 §4.1-4.3, RFC 5246 §7.4.1).
//! Read with bounds-checked cursors: a malformed message is an error, never a panic.

/// A cursor over a message body.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }
    fn u16(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_be_bytes(b.try_into().ok()?))
    }
    fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()?;
        self.take(n.into())
    }
    fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()?;
        self.take(n.into())
    }
    fn random(&mut self) -> Option<[u8; 32]> {
        self.take(32)?.try_into().ok()
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Extension numbers (IANA TLS ExtensionType Values).
mod ext {
    pub const SERVER_NAME: u16 = 0;
    pub const ALPN: u16 = 16;
    pub const SESSION_TICKET: u16 = 35;
    pub const PRE_SHARED_KEY: u16 = 41;
    pub const EARLY_DATA: u16 = 42;
    pub const SUPPORTED_VERSIONS: u16 = 43;
    pub const ENCRYPTED_CLIENT_HELLO: u16 = 0xfe0d;
}

/// RFC 8446 §4.1.3: a ServerHello with this random is a HelloRetryRequest
/// (SHA-256 of "HelloRetryRequest").
pub const HRR_RANDOM: [u8; 32] = [
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
];

pub const TLS12: u16 = 0x0303;
pub const TLS13: u16 = 0x0304;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientHello {
    pub random: [u8; 32],
    pub session_id: Vec<u8>,
    /// server_name (RFC 6066 §3), host_name entry.
    pub sni: Option<String>,
    pub alpn: Vec<String>,
    /// supported_versions (RFC 8446 §4.2.1); empty when absent.
    pub versions: Vec<u16>,
    /// pre_shared_key offered (TLS 1.3 resumption).
    pub psk: bool,
    /// early_data offered (0-RTT).
    pub early_data: bool,
    /// A non-empty session ticket offered (RFC 5077 resumption).
    pub ticket: bool,
    /// encrypted_client_hello present: real ECH or GREASE, this may be the outer hello.
    pub ech: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerHello {
    pub random: [u8; 32],
    pub session_id: Vec<u8>,
    pub suite: u16,
    /// The version chosen: supported_versions when present, else legacy_version.
    pub version: u16,
    /// ALPN (TLS 1.2 carries it here; TLS 1.3 in EncryptedExtensions).
    pub alpn: Option<String>,
    /// The server accepted a PSK (TLS 1.3 resumption).
    pub psk: bool,
    pub retry: bool,
}

/// What EncryptedExtensions says (RFC 8446 §4.3.1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Encrypted {
    pub alpn: Option<String>,
    /// The server accepted 0-RTT data.
    pub early_data: bool,
}

fn extensions<'a>(
    r: &mut Reader<'a>,
    mut each: impl FnMut(u16, &'a [u8]) -> Option<()>,
) -> Option<()> {
    // RFC 5246 §7.4.1.2: extensions may be absent altogether.
    if r.is_empty() {
        return Some(());
    }
    let mut list = Reader(r.vec16()?);
    while !list.is_empty() {
        let typ = list.u16()?;
        let body = list.vec16()?;
        each(typ, body)?;
    }
    Some(())
}

/// RFC 7301 §3.1: ProtocolNameList, each a non-empty vec8.
fn alpn_list(body: &[u8]) -> Option<Vec<String>> {
    let mut r = Reader(body);
    let mut list = Reader(r.vec16()?);
    let mut names = Vec::new();
    while !list.is_empty() {
        names.push(String::from_utf8_lossy(list.vec8()?).into_owned());
    }
    Some(names)
}

pub fn client_hello(body: &[u8]) -> Option<ClientHello> {
    let mut r = Reader(body);
    let _legacy_version = r.u16()?;
    let random = r.random()?;
    let session_id = r.vec8()?.to_vec();
    let _suites = r.vec16()?;
    let _compression = r.vec8()?;
    let mut hello = ClientHello {
        random,
        session_id,
        ..ClientHello::default()
    };
    extensions(&mut r, |typ, body| {
        match typ {
            ext::SERVER_NAME => {
                // RFC 6066 §3: ServerNameList of (type, vec16); type 0 is host_name.
                let mut r = Reader(body);
                let mut list = Reader(r.vec16()?);
                while !list.is_empty() {
                    let kind = list.u8()?;
                    let name = list.vec16()?;
                    if kind == 0 && hello.sni.is_none() {
                        hello.sni = Some(String::from_utf8_lossy(name).into_owned());
                    }
                }
            }
            ext::ALPN => hello.alpn = alpn_list(body)?,
            ext::SUPPORTED_VERSIONS => {
                let mut r = Reader(body);
                let mut list = Reader(r.vec8()?);
                while !list.is_empty() {
                    hello.versions.push(list.u16()?);
                }
            }
            ext::PRE_SHARED_KEY => hello.psk = true,
            ext::EARLY_DATA => hello.early_data = true,
            ext::SESSION_TICKET => hello.ticket = !body.is_empty(),
            ext::ENCRYPTED_CLIENT_HELLO => hello.ech = true,
            _ => {}
        }
        Some(())
    })?;
    Some(hello)
}

pub fn server_hello(body: &[u8]) -> Option<ServerHello> {
    let mut r = Reader(body);
    let legacy_version = r.u16()?;
    let random = r.random()?;
    let session_id = r.vec8()?.to_vec();
    let suite = r.u16()?;
    let _compression = r.u8()?;
    let mut hello = ServerHello {
        random,
        session_id,
        suite,
        version: legacy_version,
        retry: random == HRR_RANDOM,
        ..ServerHello::default()
    };
    extensions(&mut r, |typ, body| {
        match typ {
            // RFC 8446 §4.2.1: the server's supported_versions holds the one version chosen.
            ext::SUPPORTED_VERSIONS => hello.version = Reader(body).u16()?,
            ext::ALPN => hello.alpn = alpn_list(body)?.into_iter().next(),
            ext::PRE_SHARED_KEY => hello.psk = true,
            _ => {}
        }
        Some(())
    })?;
    Some(hello)
}

pub fn encrypted_extensions(body: &[u8]) -> Option<Encrypted> {
    let mut r = Reader(body);
    let mut out = Encrypted::default();
    let mut list = Reader(r.vec16()?);
    while !list.is_empty() {
        let typ = list.u16()?;
        let body = list.vec16()?;
        match typ {
            ext::ALPN => out.alpn = alpn_list(body)?.into_iter().next(),
            ext::EARLY_DATA => out.early_data = true,
            _ => {}
        }
    }
    Some(out)
}
