//! nic-stack: the card's IP/TCP stack.
//!
//! Receive path, in the order a frame meets it:
//!
//! ```text
//! Device::receive ─► PacketBuf ─► Ethernet ─┬─► ARP (cache, pending queue)
//!                                           └─► IPv4 (validate, reassemble) ─┬─► ICMP
//!                                                                           ├─► UDP sockets
//!                                                                           └─► TcpEngine
//! ```
//!
//! Within a receive batch, a TCP segment that continues the one before it (same flow, next
//! sequence number, same headers) skips Ethernet, IPv4 and the demultiplexer: `gro::Run`
//! recognises it from the headers and the engine takes the run together
//! (`TcpEngine::on_run_in`), each segment still checked and acknowledged as alone.
//! On transmit, the send buffer keeps application bytes in frame buffers and sends them as
//! they are, headers pushed in front (`tcp::RunHeader`, `iface::LowerHeaders`).
//!
//! `Interface::poll(now, device)` drives all of it; `socket::Stack` puts small integer
//! descriptors and an epoll-like `wait` on top; `threaded` runs a stack on its own thread
//! behind `TcpListener` / `TcpStream` / `UdpSocket`. Time (milliseconds, `u64`) and
//! randomness (a seed) are always passed in, so a run is reproducible.
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod arp_cache;
pub mod buf;
pub mod device;
pub mod gro;
pub mod iface;
pub mod memnet;
pub mod prefetch;
pub mod ratelimit;
pub mod reassembly;
pub mod runtime;
pub mod socket;
pub mod stats;
pub mod tcp;
pub mod threaded;
pub mod udp;
pub mod wire;

pub use buf::PacketBuf;
pub use device::{Device, DeviceCaps};
pub use iface::{Interface, InterfaceConfig};
pub use socket::{Event, Fd, Interest, SocketError, SocketType, Stack};
pub use stats::Stats;
pub use wire::ethernet::MacAddr;
