//! Two stacks on their own threads joined by the stack's in-memory channel device pair
//! (as the stack's own `tests/threaded.rs`), and temporary docroots.
#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use nic_stack::device::DeviceCaps;
use nic_stack::threaded::{channel_pair, NetThread, Runtime};
use nic_stack::{Interface, InterfaceConfig, MacAddr, Stack};

/// Every socket operation in the tests waits at most this long.
pub const TIMEOUT: Duration = Duration::from_secs(5);

pub fn ip(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(198, 18, 0, n)
}

/// Host 1 (198.18.0.1, the client) and host 2 (198.18.0.2, the server).
pub fn two_stacks() -> (NetThread, NetThread) {
    let (dev_a, dev_b) = channel_pair(DeviceCaps::default());
    let stack = |n: u8| {
        let cfg = InterfaceConfig::new(MacAddr([2, 0, 0, 0, 0, n]), ip(n), 24);
        Stack::new(Interface::new(cfg, DeviceCaps::default(), 40 + u64::from(n)))
    };
    let a = NetThread::spawn(stack(1), dev_a, Runtime::os()).expect("start the stack thread");
    let b = NetThread::spawn(stack(2), dev_b, Runtime::os()).expect("start the stack thread");
    (a, b)
}

/// The server's address on host 2.
pub fn server_addr(port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(ip(2), port)
}

pub fn any(port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port)
}

/// A directory removed again on drop.
pub struct TempDir {
    pub path: PathBuf,
}

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("nic-apps-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
