//! Both directions of one StageLinQ TCP connection. The side that opens a service connection
//! sends the hello, the other side may start with anything (`stagelinq.md` 1.4), so whichever
//! direction is recognised first tells the other what it carries.

use super::classify::StreamKind;
use super::stream::{StreamDecoder, StreamMessage};

/// Which end of the connection sent the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The side that opened the connection (sent the SYN).
    Client,
    Server,
}

/// A decoder per direction that share what they recognise.
#[derive(Debug, Clone)]
pub struct ConnectionDecoder {
    client: StreamDecoder,
    server: StreamDecoder,
}

impl ConnectionDecoder {
    /// `announced` is the service the directory announced for the server port, if known.
    pub fn new(announced: Option<&str>, detail: impl Into<crate::dissect::Depth>) -> Self {
        let detail = detail.into();
        ConnectionDecoder {
            client: StreamDecoder::auto(announced).with_detail(detail),
            server: StreamDecoder::auto(announced).with_detail(detail),
        }
    }

    /// The connection's kind, once either direction is recognised.
    pub fn kind(&self) -> Option<StreamKind> {
        self.client.kind().or(self.server.kind())
    }

    pub fn decoder(&mut self, side: Side) -> &mut StreamDecoder {
        match side {
            Side::Client => &mut self.client,
            Side::Server => &mut self.server,
        }
    }

    /// Add bytes sent by `side`; returns every message completed on either side (the other
    /// side may complete messages that waited for the connection to be recognised).
    pub fn push(&mut self, side: Side, data: &[u8]) -> Vec<(Side, StreamMessage)> {
        self.decoder(side).push(data);
        self.share_kind();
        self.drain()
    }

    /// Bytes sent by `side` are missing here.
    pub fn gap(&mut self, side: Side) -> Vec<(Side, StreamMessage)> {
        self.decoder(side).gap();
        self.share_kind();
        self.drain()
    }

    /// `len` bytes sent by `side` are missing here (see `StreamDecoder::gap_len`).
    pub fn gap_len(&mut self, side: Side, len: u64) -> Vec<(Side, StreamMessage)> {
        self.decoder(side).gap_len(len);
        self.share_kind();
        self.drain()
    }

    /// End of capture: whatever is left, as unknown pieces.
    pub fn finish(&mut self) -> Vec<(Side, StreamMessage)> {
        let mut v: Vec<_> = self.drain();
        v.extend(self.client.finish().into_iter().map(|m| (Side::Client, m)));
        v.extend(self.server.finish().into_iter().map(|m| (Side::Server, m)));
        v
    }

    fn share_kind(&mut self) {
        let known = |k: Option<StreamKind>| k.filter(|k| *k != StreamKind::Unknown);
        if let (None, Some(k)) = (self.server.kind(), known(self.client.kind())) {
            self.server.set_kind(k);
        }
        if let (None, Some(k)) = (self.client.kind(), known(self.server.kind())) {
            self.client.set_kind(k);
        }
    }

    fn drain(&mut self) -> Vec<(Side, StreamMessage)> {
        let mut v = Vec::new();
        while let Some(m) = self.client.next_message() {
            v.push((Side::Client, m));
        }
        while let Some(m) = self.server.next_message() {
            v.push((Side::Server, m));
        }
        v
    }
}
