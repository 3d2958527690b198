//! Crafted TCP conversations written into an in-memory pcapng: for end-to-end tests of
//! reassembly and the stream decoders on top of it.

use djdissect::capture::{writer::PcapNgWriter, LinkType};

pub struct Conversation {
    w: PcapNgWriter<Vec<u8>>,
    eth: u32,
    client: ([u8; 4], u16),
    server: ([u8; 4], u16),
    /// Next sequence number of each side (client, server).
    seq: [u32; 2],
    t: i128,
    /// Segments held back to be written later (out-of-order tests).
    held: Vec<Vec<u8>>,
}

impl Conversation {
    pub fn new(client: ([u8; 4], u16), server: ([u8; 4], u16)) -> Self {
        let mut w = PcapNgWriter::new(Vec::new(), "test").unwrap();
        let eth = w.add_interface(LinkType::Ethernet, "eth0", 9).unwrap();
        Conversation {
            w,
            eth,
            client,
            server,
            seq: [1000, 9000],
            t: 1_700_000_000_000_000_000,
            held: Vec::new(),
        }
    }

    fn frame(&mut self, from_client: bool, payload: &[u8]) -> Vec<u8> {
        let i = usize::from(!from_client);
        let ((src, sp), (dst, dp)) = if from_client {
            (self.client, self.server)
        } else {
            (self.server, self.client)
        };
        let b = etherparse::PacketBuilder::ethernet2([2; 6], [4; 6])
            .ipv4(src, dst, 64)
            .tcp(sp, dp, self.seq[i], 65535)
            .ack(self.seq[1 - i]);
        let mut frame = Vec::new();
        b.write(&mut frame, payload).unwrap();
        self.seq[i] = self.seq[i].wrapping_add(payload.len() as u32);
        frame
    }

    fn write(&mut self, frame: &[u8]) {
        self.t += 1_000_000;
        self.w.write_packet(self.eth, self.t, frame).unwrap();
    }

    /// A segment, captured.
    pub fn send(&mut self, from_client: bool, payload: &[u8]) {
        let f = self.frame(from_client, payload);
        self.write(&f);
    }

    /// A segment the capture missed (its sequence space is used, no frame is written).
    pub fn lose(&mut self, from_client: bool, payload: &[u8]) {
        let _ = self.frame(from_client, payload);
    }

    /// A segment captured later than it was sent (written at the next `release`).
    pub fn hold(&mut self, from_client: bool, payload: &[u8]) {
        let f = self.frame(from_client, payload);
        self.held.push(f);
    }

    /// Write the held segments now.
    pub fn release(&mut self) {
        for f in std::mem::take(&mut self.held) {
            self.write(&f);
        }
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.release();
        self.w.into_inner().unwrap()
    }
}
