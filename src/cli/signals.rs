//! SIGINT/SIGTERM (stop cleanly) and SIGHUP (reopen the output), as flags the capture loop
//! looks at between packets; it never blocks longer than the capture timeout.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::flag;

pub struct Signals {
    stop: Arc<AtomicBool>,
    hup: Arc<AtomicBool>,
}

impl Signals {
    pub fn register() -> io::Result<Signals> {
        let stop = Arc::new(AtomicBool::new(false));
        let hup = Arc::new(AtomicBool::new(false));
        for sig in [SIGINT, SIGTERM] {
            // A second signal while stopping means "now": exit at once with status 1.
            flag::register_conditional_shutdown(sig, 1, Arc::clone(&stop))?;
            flag::register(sig, Arc::clone(&stop))?;
        }
        flag::register(SIGHUP, Arc::clone(&hup))?;
        Ok(Signals { stop, hup })
    }

    pub fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// A SIGHUP arrived since the last call.
    pub fn take_hup(&self) -> bool {
        self.hup.swap(false, Ordering::Relaxed)
    }
}
