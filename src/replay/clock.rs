//! Absolute deadlines on the monotonic clock.
//!
//! Every datagram's send time is computed from the replay's start (`start + (t - t0) / speed`),
//! never from the previous send, so lateness never accumulates: an hour of replay ends within
//! the last datagram's error of the hour. Waiting is `clock_nanosleep(CLOCK_MONOTONIC,
//! TIMER_ABSTIME)` to a little before the deadline, then a short spin: a plain sleep wakes
//! up to the timer slack late (50 us by default on Linux), so the slack is set to 1 ns with
//! `prctl(PR_SET_TIMERSLACK)` and the last [`SPIN_NS`] are spun (measured in BENCHMARKS.md,
//! "Replay timing").

/// Nanoseconds on CLOCK_MONOTONIC.
pub fn now_ns() -> i128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as i128 * 1_000_000_000 + ts.tv_nsec as i128
}

/// How long before a deadline sleeping stops and spinning starts. Waking from
/// `clock_nanosleep` takes 5-60 us on a busy 2-core machine; 100 us covers most wake-ups at
/// the price of that much CPU per datagram that waits at all.
pub const SPIN_NS: i128 = 100_000;

/// Ask the kernel for the tightest timer slack for this thread (the default 50 us would be
/// the error floor). Failure only costs accuracy, so it is not an error.
pub fn tighten_timer_slack() {
    // SAFETY: PR_SET_TIMERSLACK takes one unsigned long argument; the rest are ignored.
    unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0) };
}

/// Wait until `deadline` (from [`now_ns`]). Returns how late the wait ended (>= 0).
pub fn wait_until(deadline: i128) -> i128 {
    let sleep_to = deadline - SPIN_NS;
    if now_ns() < sleep_to {
        let ts = libc::timespec {
            tv_sec: (sleep_to / 1_000_000_000) as libc::time_t,
            tv_nsec: (sleep_to % 1_000_000_000) as libc::c_long,
        };
        // Interrupted by a signal (Ctrl-C): the loop below and the caller's stop flag decide.
        // SAFETY: `ts` is a valid timespec; a null remainder is allowed with TIMER_ABSTIME.
        unsafe {
            libc::clock_nanosleep(
                libc::CLOCK_MONOTONIC,
                libc::TIMER_ABSTIME,
                &ts,
                std::ptr::null_mut(),
            )
        };
    }
    loop {
        let now = now_ns();
        if now >= deadline {
            return now - deadline;
        }
        std::hint::spin_loop();
    }
}

/// The schedule: capture time -> monotonic deadline at a speed, with the offset of each loop.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// Monotonic time the replay started.
    pub start: i128,
    /// Capture time that maps to `start`.
    pub t0: i128,
    /// 1.0 = recorded speed.
    pub speed: f64,
    /// None: as fast as possible.
    pub top: bool,
}

impl Schedule {
    /// When the datagram recorded at `ts` is due; `offset` is the capture time the earlier
    /// loops took. Times before `t0` (a capture whose clock went backwards) are due at once.
    pub fn deadline(&self, ts: i128, offset: i128) -> i128 {
        let since = (ts - self.t0 + offset).max(0);
        self.start + (since as f64 / self.speed) as i128
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_are_absolute_and_scaled() {
        let s = Schedule {
            start: 1_000,
            t0: 5_000_000_000,
            speed: 2.0,
            top: false,
        };
        assert_eq!(s.deadline(5_000_000_000, 0), 1_000);
        assert_eq!(s.deadline(7_000_000_000, 0), 1_000 + 1_000_000_000);
        // An hour later: no accumulated drift, exactly half an hour of monotonic time.
        assert_eq!(
            s.deadline(5_000_000_000 + 3_600_000_000_000, 0),
            1_000 + 1_800_000_000_000
        );
        // The second loop continues after the first.
        assert_eq!(
            s.deadline(5_000_000_000, 10_000_000_000),
            1_000 + 5_000_000_000
        );
        // A clock that went backwards in the capture: due at once, not in the past.
        assert_eq!(s.deadline(0, 0), 1_000);
    }

    #[test]
    fn waiting_never_returns_early() {
        tighten_timer_slack();
        for _ in 0..20 {
            let d = now_ns() + 300_000;
            let late = wait_until(d);
            assert!(late >= 0);
            assert!(now_ns() >= d);
        }
    }
}
