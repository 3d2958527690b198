//! Running the engine over a whole source of frames: on the calling thread ([`Engine::run`]),
//! or on two threads ([`Engine::run_pipelined`]).
//!
//! The pipelined run reads frames and runs the network stage (link, IP, UDP and TCP headers,
//! IPv4 defragmentation) on a reader thread, while the calling thread runs the protocol stage
//! (TCP reassembly, decoders) and the consumer (session, output). The reader thread copies each
//! frame's transport payload into a [`Batch`] (one byte arena plus a small entry per frame,
//! including the frames that carried nothing, so that statistics stay exact) and hands full
//! batches over a bounded channel; emptied batches come back through a second channel, so
//! memory is bounded by [`BATCHES_IN_FLIGHT`] and the steady state allocates nothing.
//!
//! Both runs give the consumer the same calls in the same order: records, per-frame calls and
//! the source's errors (after every record of the frames before the damage).

use std::ops::{ControlFlow, Range};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread;

use super::protocols::{self, FrameStamp, ProtocolStage};
use super::Engine;
use crate::capture::{CaptureError, CaptureReader, Frame};
use crate::dissect::{Depth, Dissection};
use crate::net::{NetDecoder, Skip, Transport};
use crate::record::Record;

/// Where frames come from: a capture file, standard input, a live interface.
pub trait FrameSource {
    type Error;

    /// The next frame, `Ok(None)` at the end of the input.
    fn next_frame(&mut self) -> Result<Option<Frame<'_>>, Self::Error>;

    /// True when reading can go on after `error` (damage that was skipped).
    fn is_resumable(error: &Self::Error) -> bool;
}

impl FrameSource for CaptureReader {
    type Error = CaptureError;

    fn next_frame(&mut self) -> Result<Option<Frame<'_>>, CaptureError> {
        CaptureReader::next_frame(self)
    }

    fn is_resumable(error: &CaptureError) -> bool {
        error.is_resumable()
    }
}

/// What a run produces, in order.
pub trait Consumer<E> {
    /// A frame is about to be decoded; its records follow (progress, relative times).
    fn frame(&mut self, _at: &FrameStamp) {}

    /// A record; `Break` stops the run (nothing more is read and the engine is not finished).
    fn record(&mut self, r: &Record<'_>) -> ControlFlow<()>;

    /// The source reported damage, after every record of the frames before it. Reading goes on
    /// when the error is resumable and ends otherwise (the engine is then finished as at the
    /// end of the input: nothing already read is lost).
    fn source_error(&mut self, error: E);
}

/// Frames per batch (a batch is also sent when its payload bytes reach [`BATCH_BYTES`]).
const BATCH_FRAMES: usize = 512;
const BATCH_BYTES: usize = 256 * 1024;
/// Full batches waiting for the protocol stage; the reader thread waits when there are more.
/// With the one being filled and the one being decoded, at most five batches (~350 KiB each)
/// exist at once.
const BATCHES_IN_FLIGHT: usize = 3;

impl Engine {
    /// Read `source` to its end (or until `out` breaks), decoding on this thread, then finish.
    /// Returns `Break` when `out` stopped the run.
    pub fn run<S: FrameSource>(
        &mut self,
        source: &mut S,
        out: &mut impl Consumer<S::Error>,
    ) -> ControlFlow<()> {
        loop {
            match source.next_frame() {
                Ok(Some(frame)) => {
                    out.frame(&FrameStamp::of(&frame));
                    self.frame(&frame, &mut |r| out.record(r))?;
                }
                Ok(None) => break,
                Err(e) => {
                    let resumable = S::is_resumable(&e);
                    out.source_error(e);
                    if !resumable {
                        break;
                    }
                }
            }
        }
        self.finish(&mut |r| out.record(r))
    }

    /// As [`Engine::run`], with reading and the network stage on a second thread. `out` is
    /// called on this thread only, with exactly the calls `run` makes. When `out` breaks, the
    /// reader thread stops after the frame it is reading (it is joined before this returns).
    pub fn run_pipelined<S>(
        &mut self,
        source: &mut S,
        out: &mut impl Consumer<S::Error>,
    ) -> ControlFlow<()>
    where
        S: FrameSource + Send,
        S::Error: Send,
    {
        let (net, protocols) = (&mut self.net, &mut self.protocols);
        let depth = protocols.depth();
        let reading = &mut *source;
        let stop = AtomicBool::new(false);
        let stop = &stop;
        let waiting = AtomicUsize::new(0);
        let waiting = &waiting;
        let piped = thread::scope(|scope| {
            let (to_protocols, from_net) = mpsc::sync_channel(BATCHES_IN_FLIGHT);
            let (recycle, recycled) = mpsc::channel();
            let reader = thread::Builder::new()
                .name("djdissect-net".into())
                .spawn_scoped(scope, move || {
                    let to = Sending {
                        channel: to_protocols,
                        waiting,
                    };
                    read_and_slice(reading, net, depth, to, recycled, stop)
                });
            // Without a second thread (the system refused one), run on this one instead.
            reader.ok()?;
            let flow = decode_batches(protocols, from_net, waiting, recycle, out);
            stop.store(true, Ordering::Relaxed);
            Some(flow)
        });
        match piped {
            Some(ControlFlow::Continue(())) => self.finish(&mut |r| out.record(r)),
            Some(ControlFlow::Break(())) => ControlFlow::Break(()),
            None => self.run(source, out),
        }
    }
}

/// Frames of the network stage's output, owned, to cross to the protocol stage.
struct Batch {
    /// The transport payloads of every entry, one after the other.
    payloads: Vec<u8>,
    entries: Vec<Entry>,
}

/// One frame: its transport headers (payload detached) or why it has none.
struct Entry {
    at: FrameStamp,
    transport: Result<Transport<'static>, Skip>,
    /// Where the payload is in [`Batch::payloads`].
    payload: Range<usize>,
    /// A Pro DJ Link datagram's dissection, which depends on the datagram alone: the reader
    /// thread makes it so that both cores dissect. It comes back with the batch and is dropped
    /// on the reader thread, so its memory is freed by the thread that allocated it (freeing
    /// across threads made the allocator the bottleneck).
    datagram: Option<Dissection>,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            payloads: Vec::with_capacity(BATCH_BYTES + 2048),
            entries: Vec::with_capacity(BATCH_FRAMES),
        }
    }

    /// Run the network stage on `frame` and keep what it yields; with `depth`, also dissect a
    /// Pro DJ Link datagram.
    fn push(&mut self, net: &mut NetDecoder, frame: &Frame<'_>, depth: Option<Depth>) {
        let payloads = &mut self.payloads;
        let start = payloads.len();
        let mut datagram = None;
        let transport = net.decode(frame, |t| {
            datagram = depth.and_then(|depth| protocols::dissect_datagram(&t, depth));
            payloads.extend_from_slice(t.payload());
            t.with_payload(&[])
        });
        self.entries.push(Entry {
            at: FrameStamp::of(frame),
            transport,
            payload: start..payloads.len(),
            datagram,
        });
    }

    fn is_full(&self) -> bool {
        self.entries.len() >= BATCH_FRAMES || self.payloads.len() >= BATCH_BYTES
    }

    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn clear(&mut self) {
        self.payloads.clear();
        self.entries.clear();
    }
}

/// The reader thread's end of the channel, counting the batches the protocol thread has not
/// taken yet.
struct Sending<'a, E> {
    channel: SyncSender<Message<E>>,
    waiting: &'a AtomicUsize,
}

impl<E> Sending<'_, E> {
    fn send(&self, m: Message<E>) -> Result<(), mpsc::SendError<Message<E>>> {
        let frames = matches!(m, Message::Frames(_));
        if frames {
            self.waiting.fetch_add(1, Ordering::Relaxed);
        }
        let sent = self.channel.send(m);
        if sent.is_err() && frames {
            self.waiting.fetch_sub(1, Ordering::Relaxed);
        }
        sent
    }
}

/// What the reader thread sends, in the order the source produced it.
enum Message<E> {
    Frames(Batch),
    SourceError(E),
}

/// The reader thread: read, run the network stage, send batches. Ends at the end of the
/// source, at an error it cannot read past, or when the protocol side is gone or says stop.
fn read_and_slice<S: FrameSource>(
    source: &mut S,
    net: &mut NetDecoder,
    depth: Depth,
    to_protocols: Sending<'_, S::Error>,
    recycled: Receiver<Batch>,
    stop: &AtomicBool,
) {
    // A recycled batch is emptied here, on the reader thread, which frees the dissections it
    // made for the batch's datagrams.
    let fresh = || {
        recycled.try_recv().map_or_else(
            |_| Batch::new(),
            |mut b| {
                b.clear();
                b
            },
        )
    };
    let mut batch = fresh();
    loop {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        match source.next_frame() {
            Ok(Some(frame)) => {
                // Dissecting datagrams here moves work off the protocol thread, which pays only
                // while that thread is behind (full batches wait for it); otherwise it would
                // make this thread the slower one.
                let behind = to_protocols.waiting.load(Ordering::Relaxed) > 0;
                batch.push(net, &frame, behind.then_some(depth));
                if batch.is_full() {
                    let full = std::mem::replace(&mut batch, fresh());
                    if to_protocols.send(Message::Frames(full)).is_err() {
                        return;
                    }
                }
            }
            Ok(None) => break,
            Err(e) => {
                let resumable = S::is_resumable(&e);
                // The frames before the damage first, then the damage.
                if !batch.is_empty() {
                    let before = std::mem::replace(&mut batch, fresh());
                    if to_protocols.send(Message::Frames(before)).is_err() {
                        return;
                    }
                }
                if to_protocols.send(Message::SourceError(e)).is_err() || !resumable {
                    return;
                }
            }
        }
    }
    if !batch.is_empty() {
        let _ = to_protocols.send(Message::Frames(batch));
    }
}

/// The protocol side: decode every batch in order and return the emptied batches.
fn decode_batches<E>(
    protocols: &mut ProtocolStage,
    from_net: Receiver<Message<E>>,
    waiting: &AtomicUsize,
    recycle: Sender<Batch>,
    out: &mut impl Consumer<E>,
) -> ControlFlow<()> {
    for message in from_net {
        match message {
            Message::Frames(mut batch) => {
                waiting.fetch_sub(1, Ordering::Relaxed);
                for e in &mut batch.entries {
                    out.frame(&e.at);
                    let transport = match &e.transport {
                        Ok(t) => Ok(t.with_payload(
                            batch.payloads.get(e.payload.clone()).unwrap_or_default(),
                        )),
                        Err(skip) => Err(skip),
                    };
                    protocols.frame(&e.at, transport, &mut e.datagram, &mut |r| out.record(r))?;
                }
                // The reader thread empties the batch before using it again. If it has finished
                // already, the batch is freed here.
                let _ = recycle.send(batch);
            }
            Message::SourceError(e) => out.source_error(e),
        }
    }
    ControlFlow::Continue(())
}
