//! A Linux TAP interface as the far end of a card's line: frames Linux sends on the TAP go
//! through the line model into the card's receive pins; frames the card transmits are
//! decoded from its transmit pins, checked, and written to the TAP.
//!
//! The TAP must exist already (`ip tuntap add dev NAME mode tap`), in the current network
//! namespace; the process needs `CAP_NET_ADMIN` (root) to attach to it.
use super::frames::{PinDecoder, PinEncoder, TxFrame};
use nic_hdl::model::pins::PinSample;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;

/// Impairments the line model applies to frames in both directions (for when the Linux
/// side cannot, e.g. a kernel without `sch_netem`).
#[derive(Clone, Copy, Debug, Default)]
pub struct TapImpairments {
    /// Probability that a frame is lost.
    pub loss: f64,
    /// Probability that a frame is held back and delivered after the next one.
    pub reorder: f64,
    pub seed: u64,
}

/// Loss and reordering of whole frames, seeded.
struct FrameImpairer {
    cfg: TapImpairments,
    rng: ChaCha8Rng,
    held: Option<Vec<u8>>,
}

impl FrameImpairer {
    fn new(cfg: TapImpairments, stream: u64) -> Self {
        FrameImpairer { cfg, rng: ChaCha8Rng::seed_from_u64(cfg.seed ^ stream), held: None }
    }

    /// The frames to deliver now, in order, for one frame offered.
    fn pass(&mut self, frame: Vec<u8>, lost: &mut u64) -> Vec<Vec<u8>> {
        if self.cfg.loss > 0.0 && self.rng.gen_bool(self.cfg.loss.min(1.0)) {
            *lost += 1;
            return Vec::new();
        }
        if let Some(h) = self.held.take() {
            return vec![frame, h];
        }
        if self.cfg.reorder > 0.0 && self.rng.gen_bool(self.cfg.reorder.min(1.0)) {
            self.held = Some(frame);
            return Vec::new();
        }
        vec![frame]
    }
}

/// Counters of the TAP side.
#[derive(Clone, Copy, Debug, Default)]
pub struct TapStats {
    /// Frames read from Linux and put on the line.
    pub from_linux: u64,
    /// Frames the card sent, written to Linux.
    pub to_linux: u64,
    /// Frames from Linux dropped because the line's queue was full.
    pub queue_drops: u64,
    /// Malformed transmissions from the card (never expected).
    pub bad_tx: u64,
    /// Frames the line model lost on purpose (`TapImpairments::loss`), both directions.
    pub impaired_lost: u64,
}

pub struct TapLine {
    file: File,
    name: String,
    enc: PinEncoder,
    dec: PinDecoder,
    /// PHY clocks until the TAP is read again when the line is idle.
    idle_countdown: u32,
    buf: Vec<u8>,
    to_card: FrameImpairer,
    to_linux: FrameImpairer,
    pub stats: TapStats,
}

/// Read the TAP at most every this many PHY clocks while the line is idle (a read is a
/// system call; the line model runs millions of clocks a second).
const IDLE_READ_EVERY: u32 = 64;
/// Frames from Linux waiting for the line, at most (samples: about 64 full frames).
const MAX_BACKLOG: usize = 64 * 1538;

const IFF_TAP: libc::c_short = 0x0002;
const IFF_NO_PI: libc::c_short = 0x1000;
const TUNSETIFF: libc::c_ulong = 0x4004_54CA;

#[repr(C)]
struct IfReq {
    name: [u8; libc::IFNAMSIZ],
    flags: libc::c_short,
    _pad: [u8; 22],
}

impl TapLine {
    /// Attach to the existing TAP interface `name`. The error is one line saying what to do.
    pub fn open(name: &str, mii: bool, impair: TapImpairments) -> Result<TapLine, String> {
        if name.is_empty() || name.len() >= libc::IFNAMSIZ || name.contains('/') {
            return Err(format!("`{name}` is not an interface name (1 to 15 characters, no '/')"));
        }
        if !std::path::Path::new("/sys/class/net").join(name).exists() {
            return Err(format!("no interface {name} in this network namespace: create it with `ip tuntap add dev {name} mode tap && ip link set {name} up`"));
        }
        let file =
            OpenOptions::new().read(true).write(true).custom_flags(libc::O_NONBLOCK).open("/dev/net/tun").map_err(
                |e| match e.kind() {
                    std::io::ErrorKind::NotFound => "no /dev/net/tun: load the tun module (`modprobe tun`)".to_string(),
                    std::io::ErrorKind::PermissionDenied => {
                        "cannot open /dev/net/tun: permission denied (run as root or with CAP_NET_ADMIN)".to_string()
                    }
                    _ => format!("cannot open /dev/net/tun: {e}"),
                },
            )?;
        let mut req = IfReq { name: [0; libc::IFNAMSIZ], flags: IFF_TAP | IFF_NO_PI, _pad: [0; 22] };
        req.name[..name.len()].copy_from_slice(name.as_bytes());
        // SAFETY: TUNSETIFF reads and writes one `struct ifreq` (name + flags, 40 bytes), which
        // `IfReq` lays out with #[repr(C)] and the right size; `req` outlives the call.
        let rc = unsafe { libc::ioctl(file.as_raw_fd(), TUNSETIFF as _, &mut req as *mut IfReq) };
        if rc < 0 {
            let e = std::io::Error::last_os_error();
            return Err(match e.raw_os_error() {
                Some(libc::EPERM) => {
                    format!("cannot attach to TAP {name}: operation not permitted (run as root or with CAP_NET_ADMIN)")
                }
                Some(libc::EBUSY) => format!("TAP {name} is in use by another process"),
                Some(libc::EINVAL) => {
                    format!("{name} is not a TAP interface (create one with `ip tuntap add dev {name} mode tap`)")
                }
                _ => format!("cannot attach to TAP {name}: {e}"),
            });
        }
        Ok(TapLine {
            file,
            name: name.to_string(),
            enc: PinEncoder::new(mii),
            dec: PinDecoder::new(mii),
            idle_countdown: 0,
            buf: vec![0; 65536],
            to_card: FrameImpairer::new(impair, 1),
            to_linux: FrameImpairer::new(impair, 2),
            stats: TapStats::default(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Take every frame Linux has queued (non-blocking).
    fn read_frames(&mut self) {
        loop {
            match self.file.read(&mut self.buf) {
                Ok(n) if n >= 14 => {
                    if self.enc.backlog() > MAX_BACKLOG {
                        self.stats.queue_drops += 1;
                        continue;
                    }
                    self.stats.from_linux += 1;
                    // Linux hands over frames unpadded (an ARP request is 42 bytes); the
                    // sending MAC pads to the 60-byte minimum, as a real NIC would.
                    let mut frame = self.buf[..n].to_vec();
                    frame.resize(n.max(60), 0);
                    for f in self.to_card.pass(frame, &mut self.stats.impaired_lost) {
                        self.enc.push_frame(&f);
                    }
                }
                Ok(_) => {}
                Err(_) => break, // WouldBlock: nothing more now
            }
        }
    }

    /// The card's receive pins for the coming PHY clock.
    pub fn rx_sample(&mut self) -> PinSample {
        if self.enc.backlog() == 0 {
            if self.idle_countdown == 0 {
                self.read_frames();
                self.idle_countdown = IDLE_READ_EVERY;
            } else {
                self.idle_countdown -= 1;
            }
        }
        self.enc.next_sample()
    }

    /// The card's transmit pins of the last PHY clock.
    pub fn tx_sample(&mut self, s: PinSample) {
        match self.dec.push(s) {
            Some(TxFrame::Good(frame)) => {
                for f in self.to_linux.pass(frame, &mut self.stats.impaired_lost) {
                    // A full TAP queue drops the frame, as a congested link would.
                    if self.file.write(&f).is_ok() {
                        self.stats.to_linux += 1;
                    }
                }
            }
            Some(TxFrame::Bad { why, .. }) => {
                self.stats.bad_tx += 1;
                tracing::warn!(why, "the card transmitted a malformed frame");
            }
            None => {}
        }
    }
}
