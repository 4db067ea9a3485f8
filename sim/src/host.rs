//! One host: a card (simulated or a board) + the driver + the stack on its own thread,
//! woken by the card's interrupts. Applications use the returned [`NetHandle`] with the
//! std-style sockets of `nic_stack::threaded`.
use nic_driver::{Backend, IrqDevice, Nic, NicConfig};
use nic_stack::device::Device;
use nic_stack::tcp::{TcpConfig, TcpStats};
use nic_stack::threaded::{NetHandle, NetThread};
use nic_stack::{Interface, InterfaceConfig, MacAddr, Stack, Stats};
use std::net::Ipv4Addr;

#[derive(Clone, Debug)]
pub struct HostConfig {
    pub name: String,
    pub mac: [u8; 6],
    pub ip: Ipv4Addr,
    pub prefix: u8,
    /// The stack's randomness (ISNs, ephemeral ports).
    pub seed: u64,
    /// TCP's settings (timers, buffers, Nagle).
    pub tcp: TcpConfig,
}

impl HostConfig {
    /// A locally administered MAC made from an IPv4 address: `02:4e:` and its four bytes.
    pub fn mac_for_ip(ip: Ipv4Addr) -> [u8; 6] {
        let b = ip.octets();
        [0x02, 0x4E, b[0], b[1], b[2], b[3]]
    }

    /// `198.18.0.<n>/24` with MAC `02:00:00:00:00:<n>`.
    pub fn numbered(name: &str, n: u8, seed: u64) -> HostConfig {
        HostConfig {
            name: name.into(),
            mac: [0x02, 0, 0, 0, 0, n],
            ip: Ipv4Addr::new(198, 18, 0, n),
            prefix: 24,
            seed,
            tcp: TcpConfig::default(),
        }
    }
}

pub struct Host {
    pub config: HostConfig,
    net: NetThread,
}

impl Host {
    /// The driver's settings for a host: moderation of an interrupt per 8 frames or 20 µs,
    /// whichever comes first.
    pub fn nic_config(config: &HostConfig) -> NicConfig {
        NicConfig { mac: config.mac, irq_mod_frames: 8, irq_mod_time_us: 20, ..NicConfig::default() }
    }

    /// Bring the card up with the driver and start the stack on it.
    pub fn start<B: Backend + 'static>(backend: B, config: HostConfig) -> Result<Host, String> {
        let nic_cfg = Self::nic_config(&config);
        // The card brings its clock: simulated time on the simulated runtime, else the OS's.
        let rt = backend.runtime();
        let nic = Nic::new(backend, nic_cfg).map_err(|e| format!("{}: bring-up: {e}", config.name))?;
        let dev = IrqDevice::new(nic).map_err(|e| format!("{}: {e}", config.name))?;
        let iface = Interface::new(
            InterfaceConfig {
                tcp: config.tcp.clone(),
                ..InterfaceConfig::new(MacAddr(config.mac), config.ip, config.prefix)
            },
            dev.caps(),
            config.seed,
        );
        let net = NetThread::spawn(Stack::new(iface), dev, rt)
            .map_err(|e| format!("{}: cannot start the stack thread: {e}", config.name))?;
        Ok(Host { config, net })
    }

    pub fn net(&self) -> NetHandle {
        self.net.handle()
    }

    /// The stack's counters (every layer) and TCP's.
    pub fn stack_stats(&self) -> (Stats, TcpStats) {
        self.net.handle().with_stack(|s| (s.iface().stats().clone(), s.iface().tcp().stats().clone()))
    }
}
