//! 10BASE-T link integrity: normal link pulse (NLP) timing and the link monitor.
//!
//! A 10BASE-T transmitter that has nothing to send still proves the cable is there by
//! sending a single positive pulse, one bit time (100 ns) wide, every 16 ± 8 ms. A receiver
//! that sees neither pulses nor frames for the link-fail time (50–150 ms) declares the link
//! down. Both sides live here as two small blocks:
//! * [`LinkPulseGen`] says when the transmitter owes the line a pulse; `manchester_tx`
//!   shapes the pulse itself, because only it knows where the bit slots are.
//! * [`LinkMonitor`] turns "a pulse or a frame was seen" events (from `manchester_rx`,
//!   which recognises pulses on the sample stream) into `link_up`.
//!
//! All timings are constructor parameters in core clock cycles, so tests can scale them
//! down; the `DEFAULT_*` constants are the real values for the 20 MHz core clock.
use rust_hdl::prelude::*;

/// Core clock of the Manchester PHY: 16 samples per bit, 8 per clock, 10 Mb/s.
pub const CORE_CLOCK_HZ: u64 = 20_000_000;
/// NLP period: 16 ms (the standard allows 16 ± 8 ms).
pub const DEFAULT_NLP_PERIOD_CYCLES: u32 = (CORE_CLOCK_HZ * 16 / 1000) as u32;
/// Link-fail time: 100 ms (the standard allows 50–150 ms).
pub const DEFAULT_LINK_FAIL_CYCLES: u32 = (CORE_CLOCK_HZ * 100 / 1000) as u32;
/// Pulses (or frames) in a row, each within the link-fail time, before the link comes up.
/// One stray pulse on a noisy, unplugged cable should not bring the link up.
pub const DEFAULT_EVENTS_FOR_LINK_UP: u8 = 2;

/// Core clock cycles in `ms` milliseconds at the default core clock.
pub const fn ms_to_cycles(ms: u64) -> u64 {
    CORE_CLOCK_HZ * ms / 1000
}

/// Requests a link pulse every `period` cycles of continuous transmitter idle.
#[derive(LogicBlock)]
pub struct LinkPulseGen {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// The transmitter has nothing on the line (no frame, no TP_IDL). When low, the timer
    /// restarts: traffic itself keeps the link up at the far end.
    pub idle: Signal<In, Bit>,
    /// One-clock request: send a link pulse now.
    pub request: Signal<Out, Bit>,
    timer: DFF<Bits<32>>,
    period: Constant<Bits<32>>,
}

impl LinkPulseGen {
    pub fn new(period_cycles: u32) -> Self {
        assert!(period_cycles >= 2, "NLP period must be at least 2 cycles");
        Self {
            clock: Default::default(),
            reset: Default::default(),
            idle: Default::default(),
            request: Default::default(),
            timer: Default::default(),
            period: Constant::new((period_cycles as u64 - 1).to_bits()),
        }
    }
}

impl Default for LinkPulseGen {
    fn default() -> Self {
        Self::new(DEFAULT_NLP_PERIOD_CYCLES)
    }
}

impl Logic for LinkPulseGen {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, timer);
        self.request.next = false;
        if self.reset.val() | !self.idle.val() {
            self.timer.d.next = 0.into();
        } else if self.timer.q.val() == self.period.val() {
            self.request.next = true;
            self.timer.d.next = 0.into();
        } else {
            self.timer.d.next = self.timer.q.val() + 1;
        }
    }
}

/// Link integrity state from pulse/frame events.
#[derive(LogicBlock)]
pub struct LinkMonitor {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// A link pulse or a frame was received (one clock per event).
    pub activity: Signal<In, Bit>,
    pub link_up: Signal<Out, Bit>,
    /// Cycles since the last event, saturating at the link-fail time.
    since: DFF<Bits<32>>,
    /// Events in a row while the link is down.
    count: DFF<Bits<8>>,
    up: DFF<Bit>,
    fail: Constant<Bits<32>>,
    events_for_up: Constant<Bits<8>>,
}

impl LinkMonitor {
    pub fn new(link_fail_cycles: u32, events_for_up: u8) -> Self {
        assert!(events_for_up >= 1, "need at least one event to bring the link up");
        Self {
            clock: Default::default(),
            reset: Default::default(),
            activity: Default::default(),
            link_up: Default::default(),
            since: Default::default(),
            count: Default::default(),
            up: Default::default(),
            fail: Constant::new((link_fail_cycles as u64).to_bits()),
            events_for_up: Constant::new((events_for_up as u64 - 1).to_bits()),
        }
    }
}

impl Default for LinkMonitor {
    fn default() -> Self {
        Self::new(DEFAULT_LINK_FAIL_CYCLES, DEFAULT_EVENTS_FOR_LINK_UP)
    }
}

impl Logic for LinkMonitor {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, since, count, up);
        self.link_up.next = self.up.q.val();
        if self.activity.val() {
            self.since.d.next = 0.into();
            if !self.up.q.val() {
                if self.count.q.val() == self.events_for_up.val() {
                    self.up.d.next = true;
                    self.count.d.next = 0.into();
                } else {
                    self.count.d.next = self.count.q.val() + 1;
                }
            }
        } else if self.since.q.val() == self.fail.val() {
            // Silence for the whole link-fail time: down, and start counting afresh.
            self.up.d.next = false;
            self.count.d.next = 0.into();
        } else {
            self.since.d.next = self.since.q.val() + 1;
        }
        if self.reset.val() {
            self.since.d.next = 0.into();
            self.count.d.next = 0.into();
            self.up.d.next = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::cycle;

    #[test]
    // Checking constants is the point: they are the product's defaults.
    #[allow(clippy::assertions_on_constants)]
    fn default_timings_are_inside_the_standard_windows() {
        let ms = |cycles: u32| cycles as f64 * 1000.0 / CORE_CLOCK_HZ as f64;
        let nlp = ms(DEFAULT_NLP_PERIOD_CYCLES);
        assert!((8.0..=24.0).contains(&nlp), "NLP period {nlp} ms");
        let fail = ms(DEFAULT_LINK_FAIL_CYCLES);
        assert!((50.0..=150.0).contains(&fail), "link fail {fail} ms");
        // Link fail must outlast several NLP periods, or a healthy link would flap.
        assert!(DEFAULT_LINK_FAIL_CYCLES > 3 * DEFAULT_NLP_PERIOD_CYCLES);
        // 20 MHz core clock × 8 samples per clock = 16 samples per bit at 10 Mb/s.
        assert_eq!(CORE_CLOCK_HZ * 8 / 16, 10_000_000);
        assert_eq!(ms_to_cycles(16), DEFAULT_NLP_PERIOD_CYCLES as u64);
    }

    #[test]
    fn generator_requests_every_period_while_idle_only() {
        let mut uut = LinkPulseGen::new(50);
        uut.connect_all();
        uut.reset.next = true;
        cycle(&mut uut, |u| &mut u.clock);
        uut.reset.next = false;
        uut.idle.next = true;
        let mut requests = vec![];
        for t in 0..400 {
            // Busy for a while in the middle: the timer restarts.
            uut.idle.next = !(200..230).contains(&t);
            crate::sim::settle(&mut uut);
            if uut.request.val() {
                requests.push(t);
            }
            cycle(&mut uut, |u| &mut u.clock);
        }
        // Reference: a request after every 50 idle cycles; idle restarts at 230.
        let mut expected = vec![];
        let mut idle_run = 0;
        for t in 0..400 {
            if (200..230).contains(&t) {
                idle_run = 0;
                continue;
            }
            idle_run += 1;
            if idle_run == 50 {
                expected.push(t);
                idle_run = 0;
            }
        }
        assert_eq!(requests, expected);
    }

    #[test]
    fn monitor_comes_up_on_events_and_fails_after_silence() {
        let fail = 100;
        let mut uut = LinkMonitor::new(fail, 2);
        uut.connect_all();
        uut.reset.next = true;
        cycle(&mut uut, |u| &mut u.clock);
        uut.reset.next = false;
        let mut up = vec![];
        // Events at these cycles; then silence.
        let events = [10, 150, 200, 260, 330];
        for t in 0..600 {
            uut.activity.next = events.contains(&t);
            cycle(&mut uut, |u| &mut u.clock);
            up.push(uut.link_up.val());
        }
        // The event at 10 is alone (the next comes after the fail time): still down.
        assert!(!up[149]);
        // 150 then 200: two in a row within the fail time: up from the clock after 200.
        assert!(!up[199] && up[200]);
        // Stays up across gaps shorter than the fail time.
        assert!(up[200..330 + fail as usize].iter().all(|&u| u));
        // Down after `fail` silent cycles following the last event.
        let down_at = up.iter().rposition(|&u| u).unwrap() + 1;
        assert_eq!(down_at, 330 + fail as usize + 1);
    }

    #[test]
    fn verilog_passes_yosys_and_verilator() {
        crate::verilog::assert_lints_and_checks("nlp_gen", &mut LinkPulseGen::default());
        crate::verilog::assert_lints_and_checks("link_monitor", &mut LinkMonitor::default());
    }
}
