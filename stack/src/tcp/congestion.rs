//! Congestion control behind a trait, with NewReno (RFC 5681 + RFC 6582) as the default.
//!
//! The connection owns loss detection (duplicate-ACK counting, the `recover` point of
//! RFC 6582, the retransmission timer); the controller only owns the window arithmetic.
//! That split lets another algorithm (CUBIC, say) replace NewReno by implementing this
//! trait, without touching the state machine.

use core::fmt::Debug;

pub trait CongestionControl: Debug + Send {
    /// The connection is established and knows its MSS: start from the initial window.
    fn reset(&mut self, mss: u32);
    /// Congestion window in bytes.
    fn window(&self) -> u32;
    /// Slow-start threshold in bytes.
    fn ssthresh(&self) -> u32;
    /// `acked` bytes of new data were acknowledged outside of fast recovery.
    fn on_ack(&mut self, acked: u32, mss: u32);
    /// Third duplicate ACK: `flight` bytes were outstanding. (RFC 5681 section 3.2 steps 2-3)
    fn on_fast_retransmit(&mut self, flight: u32, mss: u32);
    /// Another duplicate ACK during fast recovery: a segment has left the network.
    fn on_recovery_dup_ack(&mut self, mss: u32);
    /// An ACK below the recovery point acknowledged `acked` bytes (RFC 6582 step 3, partial).
    fn on_partial_ack(&mut self, acked: u32, mss: u32);
    /// An ACK at or beyond the recovery point ended fast recovery (RFC 6582 step 3, full).
    fn on_recovery_exit(&mut self, flight: u32, mss: u32);
    /// The retransmission timer expired with `flight` bytes outstanding (RFC 5681 (4)).
    fn on_timeout(&mut self, flight: u32, mss: u32);
}

/// The initial window of RFC 6928: min(10*MSS, max(2*MSS, 14600)).
pub fn initial_window(mss: u32) -> u32 {
    (10 * mss).min((2 * mss).max(14_600))
}

/// NewReno: slow start, congestion avoidance by byte counting, fast recovery.
#[derive(Debug, Clone)]
pub struct NewReno {
    cwnd: u32,
    ssthresh: u32,
    /// Bytes acknowledged since cwnd last grew in congestion avoidance (RFC 3465).
    acked_in_avoidance: u32,
}

impl NewReno {
    pub fn new() -> Self {
        NewReno { cwnd: initial_window(536), ssthresh: u32::MAX, acked_in_avoidance: 0 }
    }

    /// The factory used by [`super::TcpConfig::default`].
    pub fn boxed() -> Box<dyn CongestionControl> {
        Box::new(NewReno::new())
    }
}

impl Default for NewReno {
    fn default() -> Self {
        NewReno::new()
    }
}

fn half_flight(flight: u32, mss: u32) -> u32 {
    (flight / 2).max(2 * mss)
}

impl CongestionControl for NewReno {
    fn reset(&mut self, mss: u32) {
        self.cwnd = initial_window(mss);
        self.acked_in_avoidance = 0;
    }

    fn window(&self) -> u32 {
        self.cwnd
    }

    fn ssthresh(&self) -> u32 {
        self.ssthresh
    }

    fn on_ack(&mut self, mut acked: u32, mss: u32) {
        if self.cwnd < self.ssthresh {
            // Slow start counts the bytes acknowledged, up to ssthresh (RFC 3465's byte
            // counting without its per-ACK limit L, as Linux's tcp_slow_start). RFC 5681's
            // one MSS per ACK assumes an ACK every segment or two; a receiver that
            // acknowledges a whole receive batch at once (ours, or Linux's after GRO)
            // would hold the window to one MSS more per round trip instead of doubling it.
            let grow = acked.min(self.ssthresh - self.cwnd);
            self.cwnd = self.cwnd.saturating_add(grow);
            acked -= grow;
            if acked == 0 {
                return;
            }
        }
        // Congestion avoidance, by byte counting: one MSS per window's worth acknowledged.
        self.acked_in_avoidance = self.acked_in_avoidance.saturating_add(acked);
        if self.acked_in_avoidance >= self.cwnd {
            self.acked_in_avoidance -= self.cwnd;
            self.cwnd = self.cwnd.saturating_add(mss);
        }
    }

    fn on_fast_retransmit(&mut self, flight: u32, mss: u32) {
        self.ssthresh = half_flight(flight, mss);
        self.cwnd = self.ssthresh + 3 * mss;
        self.acked_in_avoidance = 0;
    }

    fn on_recovery_dup_ack(&mut self, mss: u32) {
        self.cwnd = self.cwnd.saturating_add(mss);
    }

    fn on_partial_ack(&mut self, acked: u32, mss: u32) {
        // Deflate by what was acknowledged, add back one MSS (RFC 6582 step 3).
        self.cwnd = self.cwnd.saturating_sub(acked).saturating_add(mss).max(mss);
    }

    fn on_recovery_exit(&mut self, flight: u32, mss: u32) {
        // RFC 6582 step 3, option (1): min(ssthresh, FlightSize + SMSS).
        self.cwnd = self.ssthresh.min(flight.saturating_add(mss)).max(mss);
    }

    fn on_timeout(&mut self, flight: u32, mss: u32) {
        self.ssthresh = half_flight(flight, mss);
        self.cwnd = mss; // the loss window
        self.acked_in_avoidance = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: u32 = 1000;

    #[test]
    fn initial_window_follows_rfc_6928() {
        assert_eq!(initial_window(1460), 14_600);
        assert_eq!(initial_window(536), 5_360);
        assert_eq!(initial_window(9000), 18_000);
    }

    #[test]
    fn slow_start_then_linear_growth() {
        let mut cc = NewReno::new();
        cc.reset(MSS);
        assert_eq!(cc.window(), 10 * MSS);
        cc.on_ack(5 * MSS, MSS); // a stretch ACK grows the window by what it acknowledges
        assert_eq!(cc.window(), 15 * MSS);
        cc.on_timeout(20 * MSS, MSS);
        assert_eq!((cc.window(), cc.ssthresh()), (MSS, 10 * MSS));
        for _ in 0..9 {
            cc.on_ack(MSS, MSS);
        }
        assert_eq!(cc.window(), 10 * MSS, "slow start up to ssthresh");
        // Congestion avoidance: one MSS per window's worth of ACKed bytes.
        for _ in 0..9 {
            cc.on_ack(MSS, MSS);
        }
        assert_eq!(cc.window(), 10 * MSS);
        cc.on_ack(MSS, MSS);
        assert_eq!(cc.window(), 11 * MSS);
    }

    /// One ACK per receive batch: the window still doubles every round trip, and a
    /// stretch ACK that crosses ssthresh takes only the rest into congestion avoidance.
    #[test]
    fn stretch_acks_double_the_window_per_round_trip_up_to_ssthresh() {
        let mut cc = NewReno::new();
        cc.reset(MSS);
        for round_trip in 0..3 {
            let window = cc.window();
            cc.on_ack(window, MSS); // the whole window acknowledged in one ACK
            assert_eq!(cc.window(), 2 * window, "round trip {round_trip}");
        }
        assert_eq!(cc.window(), 80 * MSS);
        cc.on_timeout(60 * MSS, MSS);
        assert_eq!(cc.ssthresh(), 30 * MSS);
        cc.on_ack(25 * MSS, MSS); // from 1 MSS: 24 to reach 25, all of it slow start
        assert_eq!(cc.window(), 26 * MSS);
        cc.on_ack(4 * MSS + 30 * MSS, MSS); // 4 to ssthresh, then a whole window of 30 beyond it
        assert_eq!(cc.window(), 31 * MSS, "up to 30, then one MSS for the window after");
    }

    #[test]
    fn fast_recovery_inflates_deflates_and_exits() {
        let mut cc = NewReno::new();
        cc.reset(MSS);
        cc.on_fast_retransmit(10 * MSS, MSS);
        assert_eq!(cc.ssthresh(), 5 * MSS);
        assert_eq!(cc.window(), 8 * MSS);
        cc.on_recovery_dup_ack(MSS);
        assert_eq!(cc.window(), 9 * MSS);
        cc.on_partial_ack(3 * MSS, MSS);
        assert_eq!(cc.window(), 7 * MSS);
        cc.on_recovery_exit(2 * MSS, MSS);
        assert_eq!(cc.window(), 3 * MSS, "min(ssthresh, flight + mss)");
    }

    #[test]
    fn ssthresh_never_below_two_segments() {
        let mut cc = NewReno::new();
        cc.reset(MSS);
        cc.on_timeout(MSS, MSS);
        assert_eq!(cc.ssthresh(), 2 * MSS);
    }
}
