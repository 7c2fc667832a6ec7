//! Synthetic TCP conversations for tests: byte chunks each side wrote → Ethernet/IPv4/TCP
//! packets with correct sequence numbers, optionally written as a pcap file.
#![allow(dead_code)]

use std::net::SocketAddrV4;

use etherparse::PacketBuilder;

/// One TCP connection being written out as packets.
pub struct Conv {
    pub client: SocketAddrV4,
    pub server: SocketAddrV4,
    /// Next sequence number per side (0 = client).
    seq: [u32; 2],
    /// Microseconds since the start, advanced per packet.
    clock: u64,
    pub packets: Vec<(u64, Vec<u8>)>,
    /// Largest TCP payload per packet.
    pub mss: usize,
}

impl Conv {
    pub fn new(client: SocketAddrV4, server: SocketAddrV4, isn: [u32; 2]) -> Conv {
        Conv {
            client,
            server,
            seq: isn,
            clock: 0,
            packets: Vec::new(),
            mss: 1448,
        }
    }

    fn packet(&mut self, side: usize, flags: &str, payload: &[u8]) {
        let (src, dst) = if side == 0 {
            (self.client, self.server)
        } else {
            (self.server, self.client)
        };
        let ack = self.seq[1 - side];
        let mut b = PacketBuilder::ethernet2([0; 6], [0; 6])
            .ipv4(src.ip().octets(), dst.ip().octets(), 64)
            .tcp(src.port(), dst.port(), self.seq[side], 65535);
        if flags.contains('S') {
            b = b.syn();
        }
        if flags.contains('A') {
            b = b.ack(ack);
        }
        if flags.contains('F') {
            b = b.fin();
        }
        if flags.contains('R') {
            b = b.rst();
        }
        if flags.contains('P') {
            b = b.psh();
        }
        let mut out = Vec::with_capacity(payload.len() + 64);
        b.write(&mut out, payload).expect("build packet");
        self.clock += 10;
        self.packets.push((self.clock, out));
        let consumed =
            payload.len() as u32 + u32::from(flags.contains('S')) + u32::from(flags.contains('F'));
        self.seq[side] = self.seq[side].wrapping_add(consumed);
    }

    /// SYN, SYN-ACK, ACK.
    pub fn handshake(&mut self) {
        self.packet(0, "S", &[]);
        self.packet(1, "SA", &[]);
        self.packet(0, "A", &[]);
    }

    /// `data` written by `side`, cut into MSS-sized segments.
    pub fn send(&mut self, side: usize, data: &[u8]) {
        for chunk in data.chunks(self.mss.max(1)) {
            self.packet(side, "PA", chunk);
        }
    }

    /// FIN from both sides.
    pub fn close(&mut self) {
        self.packet(0, "FA", &[]);
        self.packet(1, "FA", &[]);
        self.packet(0, "A", &[]);
    }

    /// The packets as a classic pcap file (Ethernet, microseconds).
    pub fn pcap(&self) -> Vec<u8> {
        pcap_file(&self.packets)
    }
}

/// A classic little-endian pcap file of Ethernet packets `(micros, bytes)`.
pub fn pcap_file(packets: &[(u64, Vec<u8>)]) -> Vec<u8> {
    let mut out = super::forge::pcap_header(1, 262_144);
    for (micros, data) in packets {
        super::forge::pcap_record(&mut out, *micros, data);
    }
    out
}
