//! Retransmission timeout per RFC 6298.
//!
//! SRTT and RTTVAR are kept in milliseconds scaled by 8 and 4 (as in the classic BSD code)
//! so that the 1/8 and 1/4 gains stay exact in integers. Karn's rule (RFC 6298 section 3)
//! is the caller's job: samples are only taken from segments that were not retransmitted,
//! or from timestamps, which identify the segment being acknowledged (RFC 7323 section 4).

/// RFC 6298 (2.4) says 1 s; like Linux we allow a lower floor, configured in `TcpConfig`.
#[derive(Clone, Copy, Debug)]
pub struct RtoBounds {
    pub initial_ms: u32,
    pub min_ms: u32,
    pub max_ms: u32,
}

#[derive(Clone, Debug)]
pub struct RtoEstimator {
    /// Smoothed RTT x 8, 0 before the first sample.
    srtt_x8: u32,
    /// RTT variation x 4.
    rttvar_x4: u32,
    /// The current timeout, including exponential backoff.
    rto_ms: u32,
    /// How many times the timer expired without progress.
    backoffs: u8,
}

/// RFC 6298 (5.7).
const HANDSHAKE_TIMEOUT_RTO_MS: u32 = 3000;

/// The clock granularity G of RFC 6298 (2.2): one millisecond here.
const GRANULARITY_MS: u32 = 1;

impl RtoEstimator {
    pub fn new(bounds: &RtoBounds) -> Self {
        RtoEstimator { srtt_x8: 0, rttvar_x4: 0, rto_ms: bounds.initial_ms, backoffs: 0 }
    }

    pub fn rto_ms(&self) -> u32 {
        self.rto_ms
    }

    pub fn srtt_ms(&self) -> Option<u32> {
        (self.srtt_x8 != 0).then_some(self.srtt_x8 / 8)
    }

    #[cfg(test)]
    pub fn backoffs(&self) -> u8 {
        self.backoffs
    }

    /// A new round-trip measurement (RFC 6298 (2.2) and (2.3)).
    pub fn on_sample(&mut self, rtt_ms: u32, bounds: &RtoBounds) {
        let rtt = rtt_ms.max(1).min(bounds.max_ms);
        if self.srtt_x8 == 0 {
            self.srtt_x8 = rtt * 8;
            self.rttvar_x4 = rtt * 2; // R/2, x4
        } else {
            let srtt = self.srtt_x8 / 8;
            let error = srtt.abs_diff(rtt);
            // RTTVAR <- 3/4 RTTVAR + 1/4 |SRTT - R|, both x4.
            self.rttvar_x4 = self.rttvar_x4 - self.rttvar_x4 / 4 + error;
            // SRTT <- 7/8 SRTT + 1/8 R, x8.
            self.srtt_x8 = self.srtt_x8 - self.srtt_x8 / 8 + rtt;
        }
        self.backoffs = 0;
        self.rto_ms = self.computed(bounds);
    }

    /// The timer expired: back off (RFC 6298 (5.5)).
    pub fn on_timeout(&mut self, bounds: &RtoBounds) {
        self.backoffs = self.backoffs.saturating_add(1);
        self.rto_ms = self.rto_ms.saturating_mul(2).min(bounds.max_ms);
    }

    /// New data was acknowledged: drop the backoff even without an RTT sample, so a
    /// connection that recovered is not stuck with a huge timeout (RFC 6298 (5.7) spirit).
    pub fn on_progress(&mut self, bounds: &RtoBounds) {
        if self.backoffs != 0 {
            self.backoffs = 0;
            self.rto_ms = if self.srtt_x8 == 0 { bounds.initial_ms } else { self.computed(bounds) };
        }
    }

    /// RFC 6298 (5.7): the SYN (or SYN-ACK) had to be retransmitted and no RTT is known,
    /// so data starts with a conservative 3 s timeout rather than the initial one.
    pub fn after_handshake_timeout(&mut self) {
        if self.srtt_x8 == 0 {
            self.rto_ms = self.rto_ms.max(HANDSHAKE_TIMEOUT_RTO_MS);
        }
    }

    fn computed(&self, bounds: &RtoBounds) -> u32 {
        let rto = self.srtt_x8 / 8 + GRANULARITY_MS.max(self.rttvar_x4);
        rto.clamp(bounds.min_ms, bounds.max_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDS: RtoBounds = RtoBounds { initial_ms: 1000, min_ms: 200, max_ms: 60_000 };

    #[test]
    fn first_sample_sets_srtt_and_rttvar() {
        let mut rto = RtoEstimator::new(&BOUNDS);
        assert_eq!(rto.rto_ms(), 1000);
        rto.on_sample(100, &BOUNDS);
        // SRTT = 100, RTTVAR = 50, RTO = 100 + 4 * 50 = 300.
        assert_eq!(rto.srtt_ms(), Some(100));
        assert_eq!(rto.rto_ms(), 300);
    }

    #[test]
    fn later_samples_are_smoothed() {
        let mut rto = RtoEstimator::new(&BOUNDS);
        rto.on_sample(100, &BOUNDS);
        rto.on_sample(200, &BOUNDS);
        // RTTVAR = 3/4*50 + 1/4*100 = 62.5 ; SRTT = 7/8*100 + 1/8*200 = 112.5
        assert_eq!(rto.srtt_ms(), Some(112));
        assert_eq!(rto.rto_ms(), 112 + 250);
    }

    #[test]
    fn floor_and_ceiling_apply() {
        let mut rto = RtoEstimator::new(&BOUNDS);
        rto.on_sample(1, &BOUNDS);
        assert_eq!(rto.rto_ms(), 200);
        for _ in 0..20 {
            rto.on_timeout(&BOUNDS);
        }
        assert_eq!(rto.rto_ms(), 60_000);
        assert_eq!(rto.backoffs(), 20);
    }

    #[test]
    fn a_retransmitted_handshake_without_sample_starts_at_3_s() {
        let mut rto = RtoEstimator::new(&BOUNDS);
        rto.after_handshake_timeout();
        assert_eq!(rto.rto_ms(), 3000);
        let mut measured = RtoEstimator::new(&BOUNDS);
        measured.on_sample(100, &BOUNDS);
        measured.after_handshake_timeout();
        assert_eq!(measured.rto_ms(), 300, "a measured RTT wins");
    }

    #[test]
    fn timeout_doubles_and_progress_restores() {
        let mut rto = RtoEstimator::new(&BOUNDS);
        rto.on_sample(100, &BOUNDS);
        rto.on_timeout(&BOUNDS);
        assert_eq!(rto.rto_ms(), 600);
        rto.on_timeout(&BOUNDS);
        assert_eq!(rto.rto_ms(), 1200);
        rto.on_progress(&BOUNDS);
        assert_eq!(rto.rto_ms(), 300);
        assert_eq!(rto.backoffs(), 0);
    }
}
