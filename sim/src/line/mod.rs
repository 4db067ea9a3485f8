//! The far ends of a card's line other than another card: frames in and out of the PHY pins.
//!
//! | file | what |
//! |---|---|
//! | `frames.rs` | frames ⇄ GMII/MII pin samples: an encoder for the receive pins, a decoder of the transmit pins |
//! | `tap.rs` | a Linux TAP interface as the far end |
pub mod frames;
pub mod tap;
