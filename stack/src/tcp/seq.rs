//! Sequence-number arithmetic modulo 2^32 (RFC 9293 section 3.4).
//!
//! Sequence numbers wrap, so `a < b` means "a comes before b within half the space",
//! computed on the signed difference. Every comparison in the engine goes through
//! this type so that a connection whose ISN sits just below 2^32 behaves like any other.

use core::fmt;
use core::ops::{Add, AddAssign, Sub};

/// A TCP sequence (or acknowledgement) number.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Seq(pub u32);

impl Seq {
    /// `self - other` as a signed distance (positive when `self` is after `other`).
    pub fn diff(self, other: Seq) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }
    pub fn lt(self, other: Seq) -> bool {
        self.diff(other) < 0
    }
    pub fn le(self, other: Seq) -> bool {
        self.diff(other) <= 0
    }
    pub fn gt(self, other: Seq) -> bool {
        self.diff(other) > 0
    }
    pub fn ge(self, other: Seq) -> bool {
        self.diff(other) >= 0
    }
    /// `low <= self < high`, the half-open window test used all over RFC 9293.
    pub fn in_window(self, low: Seq, high: Seq) -> bool {
        self.ge(low) && self.lt(high)
    }
    /// The later of two sequence numbers.
    pub fn max(self, other: Seq) -> Seq {
        if self.ge(other) {
            self
        } else {
            other
        }
    }
    /// The earlier of two sequence numbers.
    pub fn min(self, other: Seq) -> Seq {
        if self.le(other) {
            self
        } else {
            other
        }
    }
}

impl Add<u32> for Seq {
    type Output = Seq;
    fn add(self, rhs: u32) -> Seq {
        Seq(self.0.wrapping_add(rhs))
    }
}

impl AddAssign<u32> for Seq {
    fn add_assign(&mut self, rhs: u32) {
        self.0 = self.0.wrapping_add(rhs);
    }
}

impl Sub<u32> for Seq {
    type Output = Seq;
    fn sub(self, rhs: u32) -> Seq {
        Seq(self.0.wrapping_sub(rhs))
    }
}

/// Distance in bytes from `earlier` to `self`; callers only use it when the order is known.
impl Sub<Seq> for Seq {
    type Output = u32;
    fn sub(self, earlier: Seq) -> u32 {
        self.0.wrapping_sub(earlier.0)
    }
}

impl fmt::Debug for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordering_holds_across_the_wrap() {
        let near_top = Seq(u32::MAX - 10);
        let wrapped = near_top + 20; // 9
        assert_eq!(wrapped, Seq(9));
        assert!(near_top.lt(wrapped));
        assert!(wrapped.gt(near_top));
        assert_eq!(wrapped - near_top, 20);
        assert_eq!(wrapped.diff(near_top), 20);
        assert_eq!(near_top.diff(wrapped), -20);
        assert_eq!(near_top.max(wrapped), wrapped);
        assert_eq!(near_top.min(wrapped), near_top);
    }

    #[test]
    fn window_test_is_half_open_and_wraps() {
        let low = Seq(u32::MAX - 1);
        let high = low + 4; // 2
        assert!(Seq(u32::MAX - 1).in_window(low, high));
        assert!(Seq(0).in_window(low, high));
        assert!(Seq(1).in_window(low, high));
        assert!(!Seq(2).in_window(low, high));
        assert!(!Seq(u32::MAX - 2).in_window(low, high));
        // An empty window contains nothing.
        assert!(!low.in_window(low, low));
    }
}
