//! MAC receive: PHY byte stream in, frame stream out (see the conventions in `lib.rs`).
//!
//! ```text
//!  phy_valid/data/error/end ─► hunt (skip 0x55, wait for 0xD5) ─► frame bytes ─┬─► frame_valid/data
//!                                                                              ├─► Crc32Byte ─► FCS residue
//!                                                                              └─► MacFilter ─► accept, verdict
//!  phy_end ─► decision ─► frame_commit + frame_verdict, or frame_abort; one counter per reason
//! ```
//!
//! * **Hunting.** 0x55 bytes are skipped, however many (a PHY may eat all of them); 0xD5
//!   starts the frame. Any other byte, or a byte flagged with `phy_error`, discards the rest
//!   of the burst and counts `bad_preamble`: nothing started, so neither commit nor abort.
//! * **Frame.** Every byte after the SFD is forwarded (FCS included) and folded into the
//!   CRC; the filter looks at the first 6. Once `max_len` bytes are forwarded, further bytes
//!   are swallowed (the FIFO behind never sees more than `max_len`) and the frame is a giant.
//! * **Decision at `phy_end`**, one reason per frame in this precedence (the reference
//!   `model::rx_reference::receive` applies the same): PHY error (on any frame byte or with
//!   `end`) > giant > runt (< 64 bytes) > FCS (CRC register ≠ residue) > filtered.
//!   A good frame gets `frame_commit` with `frame_verdict` and counts `frames_ok`; anything
//!   else gets `frame_abort` and its counter.
//!
//! Outputs are registered: a byte appears on the frame stream the clock after it arrived,
//! commit/abort the clock after `phy_end`. The block is back in the hunt on the clock after
//! `phy_end`, so the next burst may start right away.
use super::crc::{Crc32Byte, CRC32_RESIDUE};
use super::filter::MacFilter;
use crate::counter::SatCounter32;
use crate::model::rx_reference::{MIN_FRAME_LEN, PREAMBLE, SFD};
use rust_hdl::prelude::*;

#[derive(Copy, Clone, PartialEq, Debug, LogicState)]
pub enum RxState {
    /// Between frames: skipping preamble, waiting for the SFD.
    Hunt,
    /// After the SFD: forwarding frame bytes until `phy_end`.
    Frame,
    /// A bad byte came before the SFD: ignore the burst until `phy_end`.
    Discard,
}

#[derive(LogicBlock)]
pub struct MacRx {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    // PHY byte stream (lib.rs).
    pub phy_valid: Signal<In, Bit>,
    pub phy_data: Signal<In, Bits<8>>,
    pub phy_error: Signal<In, Bit>,
    pub phy_end: Signal<In, Bit>,
    // Configuration.
    /// Longest accepted frame in bytes, FCS included (1522 for VLAN-tagged Ethernet).
    pub max_len: Signal<In, Bits<16>>,
    /// Station address, first wire byte in bits 7:0 (see `mac::filter`).
    pub station_mac: Signal<In, Bits<48>>,
    pub mcast_hash: Signal<In, Bits<64>>,
    pub all_multicast: Signal<In, Bit>,
    pub promisc: Signal<In, Bit>,
    // Frame stream (lib.rs).
    pub frame_valid: Signal<Out, Bit>,
    pub frame_data: Signal<Out, Bits<8>>,
    pub frame_commit: Signal<Out, Bit>,
    pub frame_abort: Signal<Out, Bit>,
    pub frame_verdict: Signal<Out, Bits<2>>,
    // Counters, 32-bit saturating.
    pub frames_ok: Signal<Out, Bits<32>>,
    pub fcs_errors: Signal<Out, Bits<32>>,
    pub runts: Signal<Out, Bits<32>>,
    pub giants: Signal<Out, Bits<32>>,
    pub phy_errors: Signal<Out, Bits<32>>,
    pub bad_preamble: Signal<Out, Bits<32>>,
    pub filtered: Signal<Out, Bits<32>>,
    /// The counters' events as they count (a bit high for the one clock): bit 0 frames_ok,
    /// 1 fcs_errors, 2 runts, 3 giants, 4 phy_errors, 5 bad_preamble, 6 filtered. For the
    /// card's statistics table, which counts them itself.
    pub events: Signal<Out, Bits<7>>,
    fcs_crc: Crc32Byte,
    filter: MacFilter,
    cnt_ok: SatCounter32,
    cnt_fcs: SatCounter32,
    cnt_runt: SatCounter32,
    cnt_giant: SatCounter32,
    cnt_phy: SatCounter32,
    cnt_preamble: SatCounter32,
    cnt_filtered: SatCounter32,
    state: DFF<RxState>,
    /// Frame bytes forwarded so far; stops at `max_len`.
    count: DFF<Bits<16>>,
    /// A frame byte came with `phy_error`.
    had_error: DFF<Bit>,
    /// A byte arrived after `max_len` were forwarded.
    too_long: DFF<Bit>,
    valid_q: DFF<Bit>,
    data_q: DFF<Bits<8>>,
    commit_q: DFF<Bit>,
    abort_q: DFF<Bit>,
    verdict_q: DFF<Bits<2>>,
    preamble: Constant<Bits<8>>,
    sfd: Constant<Bits<8>>,
    min_len: Constant<Bits<16>>,
    residue: Constant<Bits<32>>,
}

impl Default for MacRx {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            phy_valid: Default::default(),
            phy_data: Default::default(),
            phy_error: Default::default(),
            phy_end: Default::default(),
            max_len: Default::default(),
            station_mac: Default::default(),
            mcast_hash: Default::default(),
            all_multicast: Default::default(),
            promisc: Default::default(),
            frame_valid: Default::default(),
            frame_data: Default::default(),
            frame_commit: Default::default(),
            frame_abort: Default::default(),
            frame_verdict: Default::default(),
            frames_ok: Default::default(),
            fcs_errors: Default::default(),
            runts: Default::default(),
            giants: Default::default(),
            phy_errors: Default::default(),
            bad_preamble: Default::default(),
            filtered: Default::default(),
            events: Default::default(),
            fcs_crc: Default::default(),
            filter: Default::default(),
            cnt_ok: Default::default(),
            cnt_fcs: Default::default(),
            cnt_runt: Default::default(),
            cnt_giant: Default::default(),
            cnt_phy: Default::default(),
            cnt_preamble: Default::default(),
            cnt_filtered: Default::default(),
            state: Default::default(),
            count: Default::default(),
            had_error: Default::default(),
            too_long: Default::default(),
            valid_q: Default::default(),
            data_q: Default::default(),
            commit_q: Default::default(),
            abort_q: Default::default(),
            verdict_q: Default::default(),
            preamble: Constant::new(PREAMBLE.to_bits()),
            sfd: Constant::new(SFD.to_bits()),
            min_len: Constant::new((MIN_FRAME_LEN as u64).to_bits()),
            residue: Constant::new(u64::from(CRC32_RESIDUE).to_bits()),
        }
    }
}

impl Logic for MacRx {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, state, count, had_error, too_long, valid_q, data_q, commit_q, abort_q, verdict_q);
        clock!(self, clock, fcs_crc, filter, cnt_ok, cnt_fcs, cnt_runt, cnt_giant, cnt_phy, cnt_preamble, cnt_filtered);
        self.cnt_ok.reset.next = self.reset.val();
        self.cnt_ok.inc.next = false;
        self.cnt_fcs.reset.next = self.reset.val();
        self.cnt_fcs.inc.next = false;
        self.cnt_runt.reset.next = self.reset.val();
        self.cnt_runt.inc.next = false;
        self.cnt_giant.reset.next = self.reset.val();
        self.cnt_giant.inc.next = false;
        self.cnt_phy.reset.next = self.reset.val();
        self.cnt_phy.inc.next = false;
        self.cnt_preamble.reset.next = self.reset.val();
        self.cnt_preamble.inc.next = false;
        self.cnt_filtered.reset.next = self.reset.val();
        self.cnt_filtered.inc.next = false;
        // Defaults: nothing leaves this clock; the CRC and filter idle.
        self.fcs_crc.init.next = false;
        self.fcs_crc.enable.next = false;
        self.fcs_crc.data.next = self.phy_data.val();
        self.filter.reset.next = self.reset.val();
        self.filter.clear.next = false;
        self.filter.valid.next = false;
        self.filter.data.next = self.phy_data.val();
        self.filter.crc_next.next = self.fcs_crc.crc_next.val();
        self.filter.station_mac.next = self.station_mac.val();
        self.filter.mcast_hash.next = self.mcast_hash.val();
        self.filter.all_multicast.next = self.all_multicast.val();
        self.filter.promisc.next = self.promisc.val();
        self.valid_q.d.next = false;
        self.data_q.d.next = self.phy_data.val();
        self.commit_q.d.next = false;
        self.abort_q.d.next = false;
        self.verdict_q.d.next = self.filter.verdict.val();

        match self.state.q.val() {
            RxState::Hunt => {
                // Keep the per-frame state fresh so the SFD clock needs no extra work.
                self.fcs_crc.init.next = true;
                self.filter.clear.next = true;
                self.count.d.next = 0.into();
                self.had_error.d.next = false;
                self.too_long.d.next = false;
                if self.phy_valid.val() {
                    if self.phy_error.val()
                        | ((self.phy_data.val() != self.preamble.val()) & (self.phy_data.val() != self.sfd.val()))
                    {
                        self.state.d.next = RxState::Discard;
                        self.cnt_preamble.inc.next = true;
                    } else if self.phy_data.val() == self.sfd.val() {
                        self.state.d.next = RxState::Frame;
                    }
                }
            }
            RxState::Discard => {
                if self.phy_end.val() {
                    self.state.d.next = RxState::Hunt;
                }
            }
            RxState::Frame => {
                if self.phy_end.val() {
                    self.state.d.next = RxState::Hunt;
                    self.abort_q.d.next = true;
                    if self.had_error.q.val() | self.phy_error.val() {
                        self.cnt_phy.inc.next = true;
                    } else if self.too_long.q.val() {
                        self.cnt_giant.inc.next = true;
                    } else if self.count.q.val() < self.min_len.val() {
                        self.cnt_runt.inc.next = true;
                    } else if self.fcs_crc.crc.val() != self.residue.val() {
                        self.cnt_fcs.inc.next = true;
                    } else if !self.filter.accept.val() {
                        self.cnt_filtered.inc.next = true;
                    } else {
                        self.abort_q.d.next = false;
                        self.commit_q.d.next = true;
                        self.cnt_ok.inc.next = true;
                    }
                } else if self.phy_valid.val() {
                    self.fcs_crc.enable.next = true;
                    self.filter.valid.next = true;
                    self.had_error.d.next = self.had_error.q.val() | self.phy_error.val();
                    if self.count.q.val() >= self.max_len.val() {
                        self.too_long.d.next = true;
                    } else {
                        self.count.d.next = self.count.q.val() + 1;
                        self.valid_q.d.next = true;
                    }
                }
            }
            _ => {
                self.state.d.next = RxState::Hunt;
            }
        }
        if self.reset.val() {
            self.state.d.next = RxState::Hunt;
            self.valid_q.d.next = false;
            self.commit_q.d.next = false;
            self.abort_q.d.next = false;
        }

        self.frame_valid.next = self.valid_q.q.val();
        self.frame_data.next = self.data_q.q.val();
        self.frame_commit.next = self.commit_q.q.val();
        self.frame_abort.next = self.abort_q.q.val();
        self.frame_verdict.next = self.verdict_q.q.val();
        self.frames_ok.next = self.cnt_ok.count.val();
        self.fcs_errors.next = self.cnt_fcs.count.val();
        self.runts.next = self.cnt_runt.count.val();
        self.giants.next = self.cnt_giant.count.val();
        self.phy_errors.next = self.cnt_phy.count.val();
        self.bad_preamble.next = self.cnt_preamble.count.val();
        self.filtered.next = self.cnt_filtered.count.val();
        self.events.next = 0.into();
        self.events.next = self.events.val().replace_bit(0, self.cnt_ok.inc.val());
        self.events.next = self.events.val().replace_bit(1, self.cnt_fcs.inc.val());
        self.events.next = self.events.val().replace_bit(2, self.cnt_runt.inc.val());
        self.events.next = self.events.val().replace_bit(3, self.cnt_giant.inc.val());
        self.events.next = self.events.val().replace_bit(4, self.cnt_phy.inc.val());
        self.events.next = self.events.val().replace_bit(5, self.cnt_preamble.inc.val());
        self.events.next = self.events.val().replace_bit(6, self.cnt_filtered.inc.val());
    }
}

/// Test drivers shared with the FIFO's whole-path tests.
#[cfg(test)]
pub(crate) mod testbench {
    use super::MacRx;
    use crate::model::rx_reference::PhyBurst;

    /// What the PHY presents on one clock.
    #[derive(Copy, Clone, Debug, Default)]
    pub struct PhyClock {
        pub valid: bool,
        pub data: u8,
        pub error: bool,
        pub end: bool,
    }

    /// Clock-by-clock PHY inputs for `bursts`: each byte on its own clock, then `end`,
    /// then `gap(i)` idle clocks after burst `i` (0 = the next burst starts the clock after
    /// `end`). `stall(i)` idle clocks are inserted before byte `i` of a burst, as a slow PHY
    /// (e.g. MII at half the core clock) would.
    pub fn schedule(
        bursts: &[PhyBurst],
        mut gap: impl FnMut(usize) -> usize,
        mut stall: impl FnMut(usize) -> usize,
    ) -> Vec<PhyClock> {
        let mut s = Vec::new();
        for (n, b) in bursts.iter().enumerate() {
            for (i, &data) in b.bytes.iter().enumerate() {
                s.extend(std::iter::repeat_n(PhyClock::default(), stall(i)));
                let error = b.error_at.contains(&i);
                s.push(PhyClock { valid: true, data, error, end: false });
            }
            s.push(PhyClock { end: true, error: b.error_at_end, ..Default::default() });
            s.extend(std::iter::repeat_n(PhyClock::default(), gap(n)));
        }
        s
    }

    /// Drive the configuration inputs of any block that has MacRx's names for them
    /// (MacRx itself, or a wrapper that passes them through).
    macro_rules! drive_config {
        ($uut:expr, $cfg:expr) => {{
            let cfg: &$crate::model::rx_reference::MacConfig = $cfg;
            $uut.max_len.next = u64::from(cfg.max_len).to_bits();
            $uut.station_mac.next = $crate::model::rx_reference::station_bits(&cfg.station).to_bits();
            $uut.mcast_hash.next = cfg.mcast_hash.to_bits();
            $uut.all_multicast.next = cfg.all_multicast;
            $uut.promisc.next = cfg.promisc;
        }};
    }
    pub(crate) use drive_config;

    /// Drive the PHY byte stream inputs (MacRx's names) with one [`PhyClock`].
    macro_rules! drive_phy {
        ($uut:expr, $clock:expr) => {{
            let c: &$crate::mac::rx::testbench::PhyClock = $clock;
            $uut.phy_valid.next = c.valid;
            $uut.phy_data.next = c.data.to_bits();
            $uut.phy_error.next = c.error;
            $uut.phy_end.next = c.end;
        }};
    }
    pub(crate) use drive_phy;

    /// The MAC's seven counters, in `RxCounters` order.
    pub fn mac_counters(mac: &MacRx) -> [u32; 7] {
        [
            mac.frames_ok.val().to_u32(),
            mac.fcs_errors.val().to_u32(),
            mac.runts.val().to_u32(),
            mac.giants.val().to_u32(),
            mac.phy_errors.val().to_u32(),
            mac.bad_preamble.val().to_u32(),
            mac.filtered.val().to_u32(),
        ]
    }

    pub fn reference_mac_counters(c: &crate::model::rx_reference::RxCounters) -> [u32; 7] {
        [c.frames_ok, c.fcs_errors, c.runts, c.giants, c.phy_errors, c.bad_preamble, c.filtered]
    }
}

#[cfg(test)]
mod tests {
    use super::testbench::*;
    use super::*;
    use crate::model::rx_reference::*;
    use crate::sim::cycle;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// What the frame stream carried for one frame.
    #[derive(Debug, PartialEq, Eq)]
    enum Event {
        Commit(Vec<u8>, u8),
        Abort(usize),
    }

    /// Run `bursts` through a fresh MacRx; return the frame-stream events and counters.
    fn run(cfg: &MacConfig, bursts: &[PhyBurst], gap: usize, stall: usize) -> (Vec<Event>, [u32; 7]) {
        let mut mac = MacRx::default();
        mac.connect_all();
        drive_config!(mac, cfg);
        mac.reset.next = true;
        cycle(&mut mac, |u| &mut u.clock);
        mac.reset.next = false;
        let mut events = Vec::new();
        let mut bytes = Vec::new();
        let idle = [PhyClock::default(); 3];
        for c in schedule(bursts, |_| gap, |i| if i % 2 == 1 { stall } else { 0 }).iter().chain(&idle) {
            drive_phy!(mac, c);
            cycle(&mut mac, |u| &mut u.clock);
            assert!(!(mac.frame_commit.val() && mac.frame_abort.val()), "commit and abort together");
            assert!(!(mac.frame_valid.val() && (mac.frame_commit.val() || mac.frame_abort.val())));
            if mac.frame_valid.val() {
                bytes.push(mac.frame_data.val().to_u8());
            }
            if mac.frame_commit.val() {
                events.push(Event::Commit(std::mem::take(&mut bytes), mac.frame_verdict.val().to_u8()));
            }
            if mac.frame_abort.val() {
                events.push(Event::Abort(std::mem::take(&mut bytes).len()));
            }
        }
        assert!(bytes.is_empty(), "bytes after the last decision: {}", bytes.len());
        (events, mac_counters(&mac))
    }

    /// The events the reference predicts: a commit with frame + FCS for an accepted frame,
    /// an abort (with the number of bytes forwarded, at most `max_len`) for every other
    /// frame that had an SFD, nothing for a burst without one.
    fn expected_events(cfg: &MacConfig, bursts: &[PhyBurst]) -> Vec<Event> {
        let mut v = Vec::new();
        for b in bursts {
            match receive(cfg, b) {
                RxOutcome::NoFrame | RxOutcome::BadPreamble => {}
                RxOutcome::Accepted(f) => v.push(Event::Commit(with_fcs(&f.bytes), f.verdict.code())),
                _ => {
                    let sfd = b.bytes.iter().position(|&x| x == SFD).unwrap_or(0);
                    let len = b.bytes.len() - sfd - 1;
                    v.push(Event::Abort(len.min(usize::from(cfg.max_len))));
                }
            }
        }
        v
    }

    fn check(cfg: &MacConfig, bursts: &[PhyBurst], gap: usize, stall: usize) {
        let (events, counters) = run(cfg, bursts, gap, stall);
        let want = expected_events(cfg, bursts);
        assert_eq!(events.len(), want.len(), "number of frame decisions");
        for (i, (g, w)) in events.iter().zip(&want).enumerate() {
            assert_eq!(g, w, "frame decision {i}");
        }
        let (_, c) = expected_rx(cfg, bursts);
        assert_eq!(counters, reference_mac_counters(&c), "counters [ok fcs runt giant phy preamble filtered]");
    }

    fn directed_bursts(cfg: &MacConfig, rng: &mut ChaCha8Rng) -> Vec<PhyBurst> {
        let mut ours = |len| random_frame_to(rng, &cfg.station, len);
        let min = ours(60);
        let runt = ours(59);
        let max = ours(1514);
        let vlan_max = ours(1518);
        let giant = ours(1519);
        let mut v = vec![
            burst(&min, 7),
            burst(&runt, 7),
            burst(&max, 7),
            burst(&vlan_max, 7),
            burst(&giant, 7),
            burst(&min, 1),
            burst(&min, 0),
            burst(&min, 20),
        ];
        let mut err_last = burst(&min, 7);
        err_last.error_at = vec![err_last.bytes.len() - 1];
        let mut err_end = burst(&min, 7);
        err_end.error_at_end = true;
        let mut bad_fcs = burst(&min, 7);
        bad_fcs.bytes[30] ^= 0x10;
        let mut bad_pre = burst(&min, 7);
        bad_pre.bytes[2] = 0x57;
        let mut err_pre = burst(&min, 7);
        err_pre.error_at = vec![6];
        let mut giant_err = burst(&giant, 7);
        giant_err.error_at = vec![1000];
        let mut runt_bad_fcs = burst(&runt, 7);
        runt_bad_fcs.bytes[20] ^= 1;
        // FCS error outranks the filter: a corrupted frame to someone else is an FCS error.
        let mut bad_fcs_other = burst(&random_frame(rng, cfg, DestClass::OtherUnicast, 70).unwrap(), 7);
        bad_fcs_other.bytes[40] ^= 0x80;
        v.extend([err_last, err_end, bad_fcs, bad_pre, err_pre, giant_err, runt_bad_fcs, bad_fcs_other]);
        v.push(PhyBurst { bytes: vec![PREAMBLE; 7], ..Default::default() });
        v.push(PhyBurst::default());
        v.push(PhyBurst { bytes: vec![SFD], ..Default::default() });
        v.push(burst(&min, 7));
        v
    }

    #[test]
    fn directed_corner_cases_back_to_back() {
        let cfg = MacConfig::default();
        let bursts = directed_bursts(&cfg, &mut ChaCha8Rng::seed_from_u64(10));
        // gap 0: the next burst's first byte on the clock right after `end`.
        check(&cfg, &bursts, 0, 0);
        check(&cfg, &bursts, 1, 0);
    }

    #[test]
    fn slow_phy_with_idle_clocks_inside_frames() {
        let cfg = MacConfig::default();
        let bursts = directed_bursts(&cfg, &mut ChaCha8Rng::seed_from_u64(11));
        check(&cfg, &bursts, 3, 1);
    }

    #[test]
    fn each_filter_mode_and_verdict() {
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        let mut cfg = MacConfig::default();
        cfg.join(&[0x01, 0x00, 0x5E, 0x00, 0x00, 0x01]);
        cfg.join(&[0x33, 0x33, 0x00, 0x00, 0x00, 0x01]);
        for (all_multicast, promisc) in [(false, false), (true, false), (false, true), (true, true)] {
            cfg.all_multicast = all_multicast;
            cfg.promisc = promisc;
            let bursts: Vec<PhyBurst> = DestClass::ALL
                .iter()
                .map(|&class| burst(&random_frame(&mut rng, &cfg, class, 80).unwrap(), 7))
                .collect();
            check(&cfg, &bursts, 0, 0);
            let (frames, c) = expected_rx(&cfg, &bursts);
            // The vectors really exercise what they claim to.
            let want_filtered = if promisc {
                0
            } else if all_multicast {
                1
            } else {
                2
            };
            assert_eq!(c.filtered, want_filtered);
            assert!(frames.iter().any(|f| f.verdict == Verdict::Multicast));
            assert_eq!(frames.iter().any(|f| f.verdict == Verdict::Promiscuous), promisc);
        }
    }

    #[test]
    fn max_len_is_configurable() {
        let mut rng = ChaCha8Rng::seed_from_u64(13);
        let mut cfg = MacConfig::default();
        cfg.max_len = 100;
        let bursts: Vec<PhyBurst> = [95usize, 96, 97, 200]
            .iter()
            .map(|&len| burst(&random_frame(&mut rng, &cfg, DestClass::Broadcast, len).unwrap(), 7))
            .collect();
        check(&cfg, &bursts, 0, 0);
        assert_eq!(expected_rx(&cfg, &bursts).1.giants, 2);
        // Below the minimum frame size, too long means giant, not runt.
        cfg.max_len = 40;
        let short: Vec<PhyBurst> = [30usize, 36, 37, 50]
            .iter()
            .map(|&len| burst(&random_frame(&mut rng, &cfg, DestClass::Broadcast, len).unwrap(), 7))
            .collect();
        check(&cfg, &short, 0, 0);
        let (_, c) = expected_rx(&cfg, &short);
        assert_eq!((c.runts, c.giants), (2, 2));
    }

    #[test]
    fn random_bursts_match_reference() {
        let mut rng = ChaCha8Rng::seed_from_u64(14);
        let mut cfg = MacConfig::default();
        cfg.mcast_hash = rng.gen::<u64>() & rng.gen::<u64>();
        let bursts: Vec<PhyBurst> = (0..60).map(|_| random_burst(&mut rng, &cfg, 60..=400, 0.25)).collect();
        check(&cfg, &bursts, 0, 0);
    }

    #[test]
    fn verilog_passes_yosys_and_verilator() {
        crate::verilog::assert_lints_and_checks("nic_macrx_rx", &mut MacRx::default());
    }
}
