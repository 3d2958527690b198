//! The dissection engine: frames in, [`Record`]s out.
//!
//! One engine serves `read` (files) and `live` (interfaces). It is two stages:
//! * the network stage ([`NetDecoder`]): link, IP, UDP and TCP headers, IPv4 fragment
//!   reassembly; for each frame a [`Transport`] or the [`Skip`] saying why there is none;
//! * the protocol stage (`protocols.rs`): classifies UDP by destination port and TCP by what the
//!   conversation itself announces, reassembles TCP, runs the protocol decoders and counts what
//!   it skips.
//!
//! [`Engine::frame`] runs both stages in turn on one thread; [`Engine::run_pipelined`]
//! (`pipeline.rs`) runs reading and the network stage on a thread of their own.

mod dbserver_stream;
mod pipeline;
mod protocols;
mod stats;
mod tcp;

use std::ops::ControlFlow;

pub use pipeline::{Consumer, FrameSource};
pub use protocols::FrameStamp;
pub use stats::ReadStats;

use crate::capture::Frame;
use crate::dissect::Depth;
use crate::net::defrag::DefragLimits;
use crate::net::NetDecoder;
#[cfg(doc)]
use crate::net::{Skip, Transport};
use crate::record::Record;
use protocols::ProtocolStage;

/// What the engine should do beyond decoding.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// How much of each message to dissect: the head only, fields (as values or as JSON), or
    /// fields with meanings and unknown ranges (detail views).
    pub depth: Depth,
    pub defrag: DefragLimits,
    pub tcp: crate::net::tcp_reassembly::Limits,
}

/// Receives each record; `Break` stops the engine (e.g. `-c N` reached, or a closed pipe).
pub type Sink<'s> = dyn FnMut(&Record<'_>) -> ControlFlow<()> + 's;

pub struct Engine {
    net: NetDecoder,
    protocols: ProtocolStage,
}

impl Engine {
    pub fn new(opts: EngineOptions) -> Self {
        Engine {
            net: NetDecoder::new(opts.defrag).with_udp_filter(protocols::udp_worth_reassembling),
            protocols: ProtocolStage::new(opts),
        }
    }

    pub fn stats(&self) -> &ReadStats {
        &self.protocols.stats
    }

    /// Decode one frame, handing every record it yields to `sink`.
    pub fn frame(&mut self, frame: &Frame<'_>, sink: &mut Sink<'_>) -> ControlFlow<()> {
        let Engine { net, protocols } = self;
        let at = FrameStamp::of(frame);
        match net.decode(frame, |t| protocols.frame(&at, Ok(t), &mut None, sink)) {
            Ok(flow) => flow,
            Err(skip) => protocols.frame(&at, Err(&skip), &mut None, sink),
        }
    }

    /// End of input: flush what the reassembler still holds, drop partial fragments (counted).
    pub fn finish(&mut self, sink: &mut Sink<'_>) -> ControlFlow<()> {
        self.net.finish();
        self.protocols.finish(self.net.defrag_stats(), sink)
    }
}
