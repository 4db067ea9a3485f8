//! The clocks of a run: the card's core clock and, for an external PHY chip, the PHY's
//! clock, free-running at their own periods (a ppm offset between them is what the
//! clock-domain crossing must absorb). Only rising edges matter to the model: each one is a
//! whole clock cycle of its domain.

/// Which clock rises next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tick {
    Core,
    Phy,
}

#[derive(Clone, Debug)]
pub struct Clocks {
    period_fs: [u64; 2],
    next_fs: [u64; 2],
    has_phy: bool,
}

impl Clocks {
    /// A core clock and an optional PHY clock, periods in ps (fractions kept to the fs).
    pub fn new(core_ps: f64, phy_ps: Option<f64>) -> Clocks {
        let fs = |p: f64| {
            assert!(p.is_finite() && p > 0.0, "clock period must be positive, got {p}");
            (p * 1000.0).round() as u64
        };
        let core = fs(core_ps);
        let phy = phy_ps.map(fs).unwrap_or(u64::MAX);
        Clocks { period_fs: [core, phy], next_fs: [core, phy.saturating_add(phy / 3)], has_phy: phy_ps.is_some() }
    }

    /// The next rising edge, advanced past; the core clock first on a tie.
    pub fn next_tick(&mut self) -> Tick {
        let i = usize::from(self.has_phy && self.next_fs[1] < self.next_fs[0]);
        self.next_fs[i] += self.period_fs[i];
        if i == 0 {
            Tick::Core
        } else {
            Tick::Phy
        }
    }

    /// Simulated time of the last core edge, ns.
    pub fn now_ns(&self) -> f64 {
        (self.next_fs[0] - self.period_fs[0]) as f64 / 1e6
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_interleave_by_period() {
        // 8 ns and 40 ns: five core edges per PHY edge.
        let mut c = Clocks::new(8000.0, Some(40000.0));
        let ticks: Vec<Tick> = (0..600).map(|_| c.next_tick()).collect();
        let phy = ticks.iter().filter(|t| **t == Tick::Phy).count();
        assert!((99..=100).contains(&phy), "{phy} PHY edges in 600");
        assert!(ticks.windows(2).all(|w| w != [Tick::Phy, Tick::Phy]), "never two PHY edges in a row");
        let mut c = Clocks::new(50000.0, None);
        assert!((0..10).all(|_| c.next_tick() == Tick::Core));
        assert!((c.now_ns() - 500.0).abs() < 1e-9, "the tenth edge of a 50 ns clock is at 500 ns");
    }
}
