//! A progress bar on stderr for long reads: only on a terminal, only for files (not pipes), and
//! only once reading has taken more than a moment, so short reads and redirected runs print
//! nothing.

use std::io::{IsTerminal, Read};
use std::path::Path;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

const SHOW_AFTER: Duration = Duration::from_millis(400);

pub struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    shown: bool,
}

impl Progress {
    /// A bar for `path` (hidden for stdin, for non-terminal stderr, or when `quiet`).
    pub fn new(path: &Path, quiet: bool) -> Progress {
        let len = std::fs::metadata(path)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len());
        let bar = match len {
            Some(len) if !quiet && std::io::stderr().is_terminal() && path.as_os_str() != "-" => {
                let b = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
                b.set_style(
                    ProgressStyle::with_template(
                        "{bar:40} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                Some(b)
            }
            _ => None,
        };
        Progress {
            bar,
            started: Instant::now(),
            shown: false,
        }
    }

    /// Wrap the file's byte stream so the bar follows what has been read.
    pub fn wrap(&self, r: Box<dyn Read + Send>) -> Box<dyn Read + Send> {
        match &self.bar {
            Some(b) => Box::new(b.wrap_read(r)),
            None => r,
        }
    }

    /// Call now and then (cheap): shows the bar once the read has lasted a moment.
    pub fn tick(&mut self) {
        if self.shown {
            return;
        }
        if let Some(b) = &self.bar {
            if self.started.elapsed() >= SHOW_AFTER {
                b.set_draw_target(ProgressDrawTarget::stderr());
                self.shown = true;
            }
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
