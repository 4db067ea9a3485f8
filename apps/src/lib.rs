//! Applications on the card's stack, written against its std-style threaded API
//! (`nic_stack::threaded`): what the demo and `nic tap` run.
//!
//! - [`http`]: a static-file web server (HTTP/1.1 keep-alive, GET and HEAD, a pool of
//!   pre-started workers fed by one listener through a bounded queue) and a client;
//! - [`echo`]: TCP and UDP echo on one port;
//! - [`transfer`]: a file checked by CRC-32 end to end (a `NAME.crc32` sidecar).
#![forbid(unsafe_code)]

pub mod echo;
pub mod http;
pub mod transfer;
