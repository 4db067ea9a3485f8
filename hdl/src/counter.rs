//! The event counter every block's statistics use.
use rust_hdl::prelude::*;

/// An event counter that sticks at all ones instead of wrapping, so a reader never mistakes
/// a flood for a quiet link. The NIC's counters are [`SatCounter32`].
#[derive(LogicBlock)]
pub struct SatCounter<const N: usize> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// Count one event on this clock edge.
    pub inc: Signal<In, Bit>,
    pub count: Signal<Out, Bits<N>>,
    value: DFF<Bits<N>>,
    ones: Constant<Bits<N>>,
}

pub type SatCounter32 = SatCounter<32>;

impl<const N: usize> Default for SatCounter<N> {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            inc: Default::default(),
            count: Default::default(),
            value: Default::default(),
            ones: Constant::new(Bits::<N>::mask()),
        }
    }
}

impl<const N: usize> Logic for SatCounter<N> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, value);
        self.count.next = self.value.q.val();
        if self.reset.val() {
            self.value.d.next = 0.into();
        } else if self.inc.val() & (self.value.q.val() != self.ones.val()) {
            self.value.d.next = self.value.q.val() + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::cycle;

    /// The counters' saturation, on a 3-bit instance (the 32-bit one would need 2^32 events).
    #[test]
    fn counter_saturates_and_resets() {
        let mut c = SatCounter::<3>::default();
        c.connect_all();
        let mut model = 0u32;
        for i in 0..20u32 {
            let inc = i % 3 != 1;
            c.inc.next = inc;
            cycle(&mut c, |u| &mut u.clock);
            model = (model + u32::from(inc)).min(7);
            assert_eq!(c.count.val().to_u32(), model, "after event {i}");
        }
        assert_eq!(model, 7, "the run must reach saturation");
        c.reset.next = true;
        cycle(&mut c, |u| &mut u.clock);
        assert_eq!(c.count.val().to_u32(), 0);
    }
}
