//! SIGINT and SIGTERM as a flag, for the long-running subcommands (`nic tap`, `nic host`):
//! the first signal asks for a clean stop (counters printed, devices released); the main
//! loop polls [`stop_requested`].
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    STOP.store(true, Ordering::SeqCst);
}

/// Route SIGINT and SIGTERM to the flag.
pub fn install() {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: `on_signal` is an `extern "C" fn(c_int)` that only stores to an atomic, which
        // is async-signal-safe; `signal` replaces the default disposition for `sig` only.
        unsafe {
            libc::signal(sig, on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t);
        }
    }
}

pub fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// Route the signals to the flag and block until one comes or `duration` passes (`None`:
/// only a signal). Returns how long it waited.
pub fn wait_for_stop(duration: Option<Duration>) -> Duration {
    install();
    let start = Instant::now();
    while !stop_requested() && duration.is_none_or(|d| start.elapsed() < d) {
        std::thread::sleep(Duration::from_millis(50));
    }
    start.elapsed()
}
