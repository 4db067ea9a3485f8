//! PLACEHOLDER, owned by Engineer T: the real sans-IO TCP engine replaces this file at
//! merge. It mirrors the engine's public shape (names, signatures, `Readiness` bits,
//! `TcpError` variants) so the interface and socket layer compile unchanged; every
//! operation reports `TcpError::InvalidState` and segments are ignored.

use std::net::Ipv4Addr;

pub type Instant = u64;

/// Sends one finished segment (checksum included) from `src` to `dst`.
pub type Output<'a> = dyn FnMut(Ipv4Addr, Ipv4Addr, &[u8]) + 'a;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TcpHandle(pub u32);

#[derive(Clone, Debug, Default)]
pub struct TcpConfig {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpError {
    InvalidHandle,
    WouldBlock,
    AddrInUse,
    NoEphemeralPorts,
    InvalidState,
    WriteClosed,
    ConnectionRefused,
    ConnectionReset,
    TimedOut,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TcpState {
    Closed,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Readiness(pub u8);

impl Readiness {
    pub fn readable(self) -> bool {
        false
    }
    pub fn writable(self) -> bool {
        false
    }
    pub fn acceptable(self) -> bool {
        false
    }
    pub fn hup(self) -> bool {
        false
    }
    pub fn error(self) -> bool {
        false
    }
}

#[derive(Clone, Debug, Default)]
pub struct TcpStats {}

pub struct TcpEngine {
    stats: TcpStats,
}

impl TcpEngine {
    pub fn new(_cfg: TcpConfig, _seed: u64) -> Self {
        TcpEngine { stats: TcpStats::default() }
    }
    pub fn on_segment(&mut self, _now: Instant, _src: Ipv4Addr, _dst: Ipv4Addr, _seg: &[u8], _out: &mut Output) {}
    pub fn poll_timers(&mut self, _now: Instant, _out: &mut Output) {}
    pub fn next_timer(&self) -> Option<Instant> {
        None
    }
    pub fn listen(&mut self, _local: (Ipv4Addr, u16), _backlog: usize) -> Result<TcpHandle, TcpError> {
        Err(TcpError::InvalidState)
    }
    pub fn accept(&mut self, _l: TcpHandle) -> Result<Option<TcpHandle>, TcpError> {
        Err(TcpError::InvalidState)
    }
    pub fn connect(&mut self, _now: Instant, _ip: Ipv4Addr, _r: (Ipv4Addr, u16), _out: &mut Output) -> Result<TcpHandle, TcpError> {
        Err(TcpError::InvalidState)
    }
    pub fn connect_from(&mut self, _now: Instant, _l: (Ipv4Addr, u16), _r: (Ipv4Addr, u16), _out: &mut Output) -> Result<TcpHandle, TcpError> {
        Err(TcpError::InvalidState)
    }
    pub fn send(&mut self, _now: Instant, _h: TcpHandle, _d: &[u8], _out: &mut Output) -> Result<usize, TcpError> {
        Err(TcpError::InvalidState)
    }
    pub fn recv(&mut self, _h: TcpHandle, _buf: &mut [u8]) -> Result<usize, TcpError> {
        Err(TcpError::InvalidState)
    }
    pub fn shutdown_write(&mut self, _now: Instant, _h: TcpHandle, _out: &mut Output) -> Result<(), TcpError> {
        Err(TcpError::InvalidState)
    }
    pub fn close(&mut self, _now: Instant, _h: TcpHandle, _out: &mut Output) -> Result<(), TcpError> {
        Err(TcpError::InvalidState)
    }
    pub fn abort(&mut self, _now: Instant, _h: TcpHandle, _out: &mut Output) {}
    pub fn readiness(&self, _h: TcpHandle) -> Readiness {
        Readiness::default()
    }
    pub fn drain_events(&mut self, _f: impl FnMut(TcpHandle)) {}
    pub fn state(&self, _h: TcpHandle) -> Option<TcpState> {
        None
    }
    pub fn set_path_mtu(&mut self, _remote: Ipv4Addr, _mtu: u16) {}
    pub fn stats(&self) -> &TcpStats {
        &self.stats
    }
    pub fn set_mtu(&mut self, _mtu: u16) {}
    pub fn idle_connection_bytes(&self, _h: TcpHandle) -> Option<usize> {
        None
    }
    pub fn syn_queue_entry_bytes() -> usize {
        0
    }
}
