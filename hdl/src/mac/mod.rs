//! The MAC: CRC, receive framing and checks, address filter, transmit framing.
pub mod crc;
pub mod filter;
pub mod rx;
pub mod tx;
