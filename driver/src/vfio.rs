//! The VFIO backend: a real card on PCIe, driven from userspace through the kernel's VFIO
//! (`vfio-ioctls`, without its KVM feature).
//!
//! Opening `0000:03:00.0`:
//! 1. **Pre-flight** ([`preflight`]), on sysfs and `/dev/vfio` only, so every usual mistake
//!    gets a one-line message saying what to run: no `/dev/vfio`, no IOMMU group (IOMMU
//!    off), device not bound to vfio-pci, a group that is not viable, memlock too low. The
//!    sysfs root, `/dev/vfio` and the `/proc` files are injectable ([`VfioPaths`]) so the
//!    messages are tested on a fake tree.
//! 2. Container, group (viability checked by the kernel too) and device (`vfio-ioctls`).
//! 3. Bus mastering and memory decoding on in the PCI command register (config region).
//! 4. BAR0 mmapped over the device fd at the region's offset (`memmap2`); registers are
//!    accessed with volatile 32-bit loads and stores ([`RegisterBlock`] is the typed view,
//!    laid out from `nic_regs`).
//! 5. DMA memory: `memmap2` anonymous memory (2 MiB huge pages when available), mapped in
//!    the IOMMU with `VFIO_IOMMU_MAP_DMA` at IOVAs from 4 GiB up (above the x86 MSI window).
//! 6. MSI (or MSI-X) with one eventfd per vector.
//!
//! Teardown (`Drop`): interrupts off, bus mastering off, BAR unmapped, then the device fd
//! closed before its group and container (field order). DMA regions unmap themselves when
//! their last user goes (the `Nic` drops its rings and pool before its backend).
use std::fs;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use vfio_bindings::bindings::vfio::{
    VFIO_PCI_BAR0_REGION_INDEX, VFIO_PCI_CONFIG_REGION_INDEX, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX,
    VFIO_REGION_INFO_FLAG_MMAP,
};
use vfio_ioctls::{VfioContainer, VfioDevice, VfioOps};
use vmm_sys_util::eventfd::{EventFd, EFD_NONBLOCK};
use volatile_register::{RO, RW};

use crate::backend::{anon_memory, Backend, DmaRegion, IRQ_VECTORS};
use crate::Error;

/// Where the pre-flight looks; the defaults are the real system's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VfioPaths {
    /// The sysfs mount (`/sys`).
    pub sysfs: PathBuf,
    /// The VFIO device directory (`/dev/vfio`).
    pub dev_vfio: PathBuf,
    /// This process's resource limits (`/proc/self/limits`).
    pub proc_limits: PathBuf,
    /// This process's status (`/proc/self/status`, for the effective uid).
    pub proc_status: PathBuf,
}

impl Default for VfioPaths {
    fn default() -> Self {
        VfioPaths {
            sysfs: "/sys".into(),
            dev_vfio: "/dev/vfio".into(),
            proc_limits: "/proc/self/limits".into(),
            proc_status: "/proc/self/status".into(),
        }
    }
}

/// Drivers a device may have while another device of its IOMMU group is used through VFIO.
const VIABLE_DRIVERS: [&str; 3] = ["vfio-pci", "pci-stub", "pcieport"];

fn vfio_err(msg: String) -> Error {
    Error::Vfio(msg)
}

/// The driver a sysfs device is bound to, if any.
fn driver_of(dev: &Path) -> Option<String> {
    let link = fs::read_link(dev.join("driver")).ok()?;
    Some(link.file_name()?.to_string_lossy().into_owned())
}

fn bind_commands(addr: &str, driver: Option<&str>) -> String {
    let dev = format!("/sys/bus/pci/devices/{addr}");
    let unbind = match driver {
        Some(_) => format!("echo {addr} > {dev}/driver/unbind; "),
        None => String::new(),
    };
    format!(
        "modprobe vfio-pci; echo vfio-pci > {dev}/driver_override; {unbind}echo {addr} > /sys/bus/pci/drivers_probe"
    )
}

fn valid_pci_address(addr: &str) -> bool {
    let b = addr.as_bytes();
    let hex = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_hexdigit);
    b.len() == 12
        && hex(0..4)
        && b[4] == b':'
        && hex(5..7)
        && b[7] == b':'
        && hex(8..10)
        && b[10] == b'.'
        && (b'0'..=b'7').contains(&b[11])
}

/// The soft memlock limit in bytes (`None`: unlimited or unknown).
fn memlock_limit(limits: &Path) -> Option<u64> {
    let text = fs::read_to_string(limits).ok()?;
    let line = text.lines().find(|l| l.starts_with("Max locked memory"))?;
    line["Max locked memory".len()..].split_whitespace().next()?.parse().ok()
}

fn is_root(status: &Path) -> bool {
    let Ok(text) = fs::read_to_string(status) else { return false };
    // "Uid:\treal\teffective\tsaved\tfs"
    text.lines().find(|l| l.starts_with("Uid:")).and_then(|l| l.split_whitespace().nth(2)).is_some_and(|uid| uid == "0")
}

/// Checks everything that can be checked without opening VFIO, and returns the device's
/// IOMMU group. `dma_bytes` is the memory the driver will pin (for the memlock check).
pub fn preflight(paths: &VfioPaths, addr: &str, dma_bytes: u64) -> Result<u32, Error> {
    if !valid_pci_address(addr) {
        return Err(vfio_err(format!(
            "'{addr}' is not a PCI address: expected DDDD:BB:DD.F, such as 0000:03:00.0 (see `lspci -D`)"
        )));
    }
    let dev = paths.sysfs.join("bus/pci/devices").join(addr);
    if !dev.exists() {
        return Err(vfio_err(format!(
            "no PCI device {addr}: check the address with `lspci -D` (is the board powered and the bitstream loaded?)"
        )));
    }
    if !paths.dev_vfio.is_dir() {
        return Err(vfio_err(format!(
            "no {}: load vfio-pci (modprobe vfio-pci) and bind {addr} to it",
            paths.dev_vfio.display()
        )));
    }
    let group: u32 = match fs::read_link(dev.join("iommu_group")) {
        Ok(link) => link.file_name().and_then(|n| n.to_str()).and_then(|n| n.parse().ok()).ok_or_else(|| {
            vfio_err(format!("{addr}: cannot read its IOMMU group from {}", link.display()))
        })?,
        Err(_) => {
            return Err(vfio_err(format!(
                "{addr} has no IOMMU group, so the IOMMU is off: add intel_iommu=on iommu=pt (Intel) or amd_iommu=on (AMD) to the kernel command line and reboot"
            )))
        }
    };
    let driver = driver_of(&dev);
    if driver.as_deref() != Some("vfio-pci") {
        let now = driver.as_deref().map_or("no driver".to_string(), |d| format!("driver {d}"));
        return Err(vfio_err(format!(
            "{addr} is bound to {now}, not vfio-pci: run as root: {}",
            bind_commands(addr, driver.as_deref())
        )));
    }
    let members = paths.sysfs.join("kernel/iommu_groups").join(group.to_string()).join("devices");
    let mut blockers = Vec::new();
    for entry in fs::read_dir(&members)
        .map_err(|e| vfio_err(format!("cannot list IOMMU group {group} ({}): {e}", members.display())))?
    {
        let Ok(entry) = entry else { continue };
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == addr {
            continue;
        }
        if let Some(d) = driver_of(&entry.path()).filter(|d| !VIABLE_DRIVERS.contains(&d.as_str())) {
            blockers.push(format!("{name} ({d})"));
        }
    }
    if !blockers.is_empty() {
        blockers.sort();
        return Err(vfio_err(format!(
            "IOMMU group {group} is not viable: its other devices {} must be bound to vfio-pci too (or unbound), or the board moved to a slot with its own group",
            blockers.join(", ")
        )));
    }
    let group_file = paths.dev_vfio.join(group.to_string());
    if !group_file.exists() {
        return Err(vfio_err(format!("no {}: {addr} is bound to vfio-pci but its group file is missing; reload vfio-pci (modprobe -r vfio-pci; modprobe vfio-pci)", group_file.display())));
    }
    if let Err(e) = fs::OpenOptions::new().read(true).write(true).open(&group_file) {
        if e.kind() == std::io::ErrorKind::PermissionDenied {
            return Err(vfio_err(format!(
                "no permission on {}: run as root or `chown $USER {}`",
                group_file.display(),
                group_file.display()
            )));
        }
    }
    if !is_root(&paths.proc_status) {
        if let Some(limit) = memlock_limit(&paths.proc_limits).filter(|&l| l < dma_bytes) {
            return Err(vfio_err(format!(
                "memlock limit is {} KiB (`ulimit -l`) but the driver pins {} KiB of DMA memory: run `ulimit -l unlimited` (or set memlock in /etc/security/limits.conf) or run as root",
                limit / 1024,
                dma_bytes.div_ceil(1024)
            )));
        }
    }
    Ok(group)
}

/// BAR0 as a typed register block, laid out from `nic_regs` (a test checks every offset).
/// Host-written ring indices and device-written ones share the `RW` type; which one the host
/// writes is in `nic_regs::RingRegs::host_index`.
#[repr(C)]
pub struct RegisterBlock {
    pub id: RO<u32>,
    pub version: RO<u32>,
    pub control: RW<u32>,
    pub status: RO<u32>,
    pub mac_lo: RW<u32>,
    pub mac_hi: RW<u32>,
    pub filter: RW<u32>,
    pub max_len: RW<u32>,
    pub mcast_hash_lo: RW<u32>,
    pub mcast_hash_hi: RW<u32>,
    _reserved0: [u32; 6],
    pub irq_cause: RW<u32>,
    pub irq_mask: RW<u32>,
    pub irq_mod_frames: RW<u32>,
    pub irq_mod_time: RW<u32>,
    _reserved1: [u32; 44],
    /// RX descriptors, RX completions, TX descriptors, TX completions (`nic_regs::Ring`).
    pub rings: [RingBlock; 4],
    _reserved2: [u32; 32],
    /// In `nic_regs::Counter` order.
    pub counters: [CounterBlock; 12],
}

#[repr(C)]
pub struct RingBlock {
    pub base_lo: RW<u32>,
    pub base_hi: RW<u32>,
    pub log2_size: RW<u32>,
    pub producer: RW<u32>,
    pub consumer: RW<u32>,
    _reserved: [u32; 3],
}

#[repr(C)]
pub struct CounterBlock {
    /// Reading `lo` latches `hi` (see `nic_regs::read_counter`).
    pub lo: RO<u32>,
    pub hi: RO<u32>,
}

/// Keeps DMA memory mapped in the IOMMU; unmaps it when dropped.
struct VfioDma {
    container: Arc<VfioContainer>,
    iova: u64,
    len: usize,
    _mem: memmap2::MmapMut,
}

impl Drop for VfioDma {
    fn drop(&mut self) {
        if let Err(e) = self.container.vfio_dma_unmap(self.iova, self.len) {
            tracing::warn!(iova = self.iova, len = self.len, "VFIO DMA unmap failed: {e}");
        }
    }
}

/// A board on PCIe through VFIO.
pub struct VfioBackend {
    addr: String,
    irqs: [EventFd; IRQ_VECTORS],
    irq_index: u32,
    bar0: memmap2::MmapMut,
    next_iova: u64,
    // Dropped in this order: the device (which releases its group), then the container.
    device: VfioDevice,
    container: Arc<VfioContainer>,
}

/// IOVAs start at 4 GiB: above the x86 MSI window at 0xFEE00000 and far below a 39-bit
/// IOMMU's limit.
const IOVA_BASE: u64 = 1 << 32;

impl VfioBackend {
    /// Opens the board at PCI address `addr` (`0000:03:00.0`). `dma_bytes` is how much DMA
    /// memory the driver will ask for (for the memlock check; see `NicConfig::dma_bytes`).
    pub fn open(addr: &str, dma_bytes: u64) -> Result<Self, Error> {
        Self::open_with(&VfioPaths::default(), addr, dma_bytes)
    }

    pub fn open_with(paths: &VfioPaths, addr: &str, dma_bytes: u64) -> Result<Self, Error> {
        let group = preflight(paths, addr, dma_bytes)?;
        let span = tracing::info_span!("vfio_open", addr, group);
        let _g = span.enter();
        let container = Arc::new(VfioContainer::new(None).map_err(|e| {
            vfio_err(format!(
                "cannot open {}/vfio ({e}): is vfio-pci loaded and are you root?",
                paths.dev_vfio.display()
            ))
        })?);
        let sysfs_dev = Path::new("/sys/bus/pci/devices").join(addr);
        let ops: Arc<dyn VfioOps> = container.clone();
        let device = VfioDevice::new(&sysfs_dev, ops, false).map_err(|e| {
            vfio_err(format!("cannot open {addr} through VFIO group {group} ({e}): check that every device of the group is bound to vfio-pci and no other process holds it"))
        })?;

        // PCI command register: memory space (bit 1) and bus master (bit 2) on.
        let mut cmd = [0u8; 2];
        device.region_read(VFIO_PCI_CONFIG_REGION_INDEX, &mut cmd, 4);
        let cmd = u16::from_le_bytes(cmd) | 0b110;
        device.region_write(VFIO_PCI_CONFIG_REGION_INDEX, &cmd.to_le_bytes(), 4);

        let bar = VFIO_PCI_BAR0_REGION_INDEX;
        if device.get_region_flags(bar) & VFIO_REGION_INFO_FLAG_MMAP == 0 {
            return Err(vfio_err(format!("{addr}: BAR0 cannot be mmapped (is it a memory BAR of at least 4 KiB?)")));
        }
        let size = device.get_region_size(bar);
        if size < nic_regs::BAR0_SIZE as u64 {
            return Err(vfio_err(format!(
                "{addr}: BAR0 is {size} bytes, the card needs {}: wrong bitstream?",
                nic_regs::BAR0_SIZE
            )));
        }
        // SAFETY: the mapping is of the device's BAR0 through its VFIO fd at the offset the
        // kernel gave for region 0; MMIO has no Rust-visible aliasing (it is accessed only
        // with volatile operations on `u32`s), and the mapping lives in `self`.
        let bar0 = unsafe {
            memmap2::MmapOptions::new()
                .offset(device.get_region_offset(bar))
                .len(nic_regs::BAR0_SIZE as usize)
                .map_mut(device.as_raw_fd())
        }
        .map_err(|e| vfio_err(format!("{addr}: mmap of BAR0 failed: {e}")))?;

        let efd = || EventFd::new(EFD_NONBLOCK).map_err(|e| vfio_err(format!("eventfd: {e}")));
        let irqs = [efd()?, efd()?, efd()?];
        let refs: Vec<&EventFd> = irqs.iter().collect();
        let msi_count = device.get_irq_info(VFIO_PCI_MSI_IRQ_INDEX).map_or(0, |i| i.count);
        let msix_count = device.get_irq_info(VFIO_PCI_MSIX_IRQ_INDEX).map_or(0, |i| i.count);
        let irq_index = if msi_count as usize >= IRQ_VECTORS {
            device.enable_msi(refs)
        } else if msix_count as usize >= IRQ_VECTORS {
            device.enable_msix(refs)
        } else {
            return Err(vfio_err(format!("{addr}: needs {IRQ_VECTORS} MSI or MSI-X vectors, has {msi_count} MSI and {msix_count} MSI-X: configure the PCIe core for 4 MSI vectors")));
        }
        .map(|_| if msi_count as usize >= IRQ_VECTORS { VFIO_PCI_MSI_IRQ_INDEX } else { VFIO_PCI_MSIX_IRQ_INDEX })
        .map_err(|e| vfio_err(format!("{addr}: enabling MSI failed: {e}")))?;

        let me = VfioBackend { addr: addr.to_string(), irqs, irq_index, bar0, next_iova: IOVA_BASE, device, container };
        let id = me.regs().id.read();
        tracing::info!(id = format_args!("{id:#x}"), version = me.regs().version.read(), irq_index, "board open");
        Ok(me)
    }

    /// BAR0 as the typed register block.
    pub fn regs(&self) -> &RegisterBlock {
        // SAFETY: BAR0 is mapped for `BAR0_SIZE` bytes (>= size_of::<RegisterBlock>(), a
        // test checks) and page aligned; `RegisterBlock` is made of `VolatileCell`s
        // (`UnsafeCell`s), whose every access is volatile, which is what MMIO needs.
        unsafe { &*(self.bar0.as_ptr() as *const RegisterBlock) }
    }

    fn reg_ptr(&self, offset: u32) -> *mut u32 {
        let off = (offset & (nic_regs::BAR0_SIZE - 1) & !3) as usize;
        // SAFETY: `off` is masked to an aligned word inside the 4 KiB mapping.
        unsafe { self.bar0.as_ptr().add(off) as *mut u32 }
    }
}

impl Backend for VfioBackend {
    fn read32(&self, offset: u32) -> u32 {
        // SAFETY: an aligned word of the live BAR0 mapping (`reg_ptr`); volatile, as MMIO
        // must be; the device answers every offset (SLVERR reads 0).
        u32::from_le(unsafe { self.reg_ptr(offset).read_volatile() })
    }

    fn write32(&self, offset: u32, value: u32) {
        // SAFETY: as in `read32`. Writes to UC MMIO are not reordered with earlier stores
        // to write-back memory on x86; `DescRing::ring` adds a release fence for the others.
        unsafe { self.reg_ptr(offset).write_volatile(value.to_le()) }
    }

    fn alloc_dma(&mut self, len: usize) -> Result<DmaRegion, Error> {
        let (mut mem, huge) = anon_memory(len)?;
        let (virt, size) = (mem.as_mut_ptr(), mem.len());
        // Huge-page regions are 2 MiB aligned in IOVA space too, so the IOMMU can use large pages.
        let align = if huge { 2 << 20 } else { 4096 };
        let iova = self.next_iova.div_ceil(align) * align;
        // SAFETY: `virt..virt+size` is our fresh private mapping, owned by the region from
        // here on (through `VfioDma`); no reference to it exists, and from now on it is only
        // accessed through `DmaRegion`'s volatile and raw-pointer operations.
        unsafe { self.container.vfio_dma_map(iova, size, virt) }.map_err(|e| {
            Error::Dma(format!(
                "VFIO DMA map of {} KiB failed ({e}): raise the memlock limit (`ulimit -l`) or run as root",
                size / 1024
            ))
        })?;
        self.next_iova = iova + size as u64;
        let owner = VfioDma { container: self.container.clone(), iova, len: size, _mem: mem };
        tracing::debug!(iova, size, huge, "DMA region mapped");
        // SAFETY: as above; `owner` keeps the memory mapped and the IOMMU mapping alive.
        unsafe { DmaRegion::new(virt, iova, size, Box::new(owner)) }
    }

    fn irq_eventfd(&self, vector: usize) -> &EventFd {
        &self.irqs[vector.min(IRQ_VECTORS - 1)]
    }

    fn describe(&self) -> String {
        format!("vfio:{}", self.addr)
    }
}

impl Drop for VfioBackend {
    fn drop(&mut self) {
        // Interrupts off, then bus mastering off (no DMA after this), then the fields drop:
        // BAR0 unmapped, device closed (releasing its group), container closed.
        let _ = if self.irq_index == VFIO_PCI_MSI_IRQ_INDEX {
            self.device.disable_msi()
        } else {
            self.device.disable_msix()
        };
        let mut cmd = [0u8; 2];
        self.device.region_read(VFIO_PCI_CONFIG_REGION_INDEX, &mut cmd, 4);
        let cmd = u16::from_le_bytes(cmd) & !0b100;
        self.device.region_write(VFIO_PCI_CONFIG_REGION_INDEX, &cmd.to_le_bytes(), 4);
        tracing::info!(addr = %self.addr, "board closed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};
    use std::os::unix::fs::symlink;

    #[test]
    fn register_block_matches_nic_regs() {
        let named = [
            ("ID", offset_of!(RegisterBlock, id)),
            ("VERSION", offset_of!(RegisterBlock, version)),
            ("CONTROL", offset_of!(RegisterBlock, control)),
            ("STATUS", offset_of!(RegisterBlock, status)),
            ("MAC_LO", offset_of!(RegisterBlock, mac_lo)),
            ("MAC_HI", offset_of!(RegisterBlock, mac_hi)),
            ("FILTER", offset_of!(RegisterBlock, filter)),
            ("MAX_LEN", offset_of!(RegisterBlock, max_len)),
            ("MCAST_HASH_LO", offset_of!(RegisterBlock, mcast_hash_lo)),
            ("MCAST_HASH_HI", offset_of!(RegisterBlock, mcast_hash_hi)),
            ("IRQ_CAUSE", offset_of!(RegisterBlock, irq_cause)),
            ("IRQ_MASK", offset_of!(RegisterBlock, irq_mask)),
            ("IRQ_MOD_FRAMES", offset_of!(RegisterBlock, irq_mod_frames)),
            ("IRQ_MOD_TIME", offset_of!(RegisterBlock, irq_mod_time)),
        ];
        let mut covered = 0;
        for (name, off) in named {
            assert_eq!(nic_regs::register(name).map(|r| r.offset as usize), Some(off), "{name}");
            covered += 1;
        }
        let rings = offset_of!(RegisterBlock, rings);
        for (i, rr) in nic_regs::RINGS.iter().enumerate() {
            let base = rings + i * size_of::<RingBlock>();
            assert_eq!(rr.base_lo.offset as usize, base + offset_of!(RingBlock, base_lo), "{}", rr.base_lo.name);
            assert_eq!(rr.base_hi.offset as usize, base + offset_of!(RingBlock, base_hi), "{}", rr.base_hi.name);
            assert_eq!(rr.log2_size.offset as usize, base + offset_of!(RingBlock, log2_size), "{}", rr.log2_size.name);
            assert_eq!(rr.producer.offset as usize, base + offset_of!(RingBlock, producer), "{}", rr.producer.name);
            assert_eq!(rr.consumer.offset as usize, base + offset_of!(RingBlock, consumer), "{}", rr.consumer.name);
            covered += 5;
        }
        let counters = offset_of!(RegisterBlock, counters);
        for (i, c) in nic_regs::COUNTERS.iter().enumerate() {
            let base = counters + i * size_of::<CounterBlock>();
            assert_eq!(c.lo.offset as usize, base + offset_of!(CounterBlock, lo), "{}", c.lo.name);
            assert_eq!(c.hi.offset as usize, base + offset_of!(CounterBlock, hi), "{}", c.hi.name);
            covered += 2;
        }
        assert_eq!(covered, nic_regs::REGISTERS.len(), "every register has a field");
        assert_eq!(size_of::<RegisterBlock>(), nic_regs::COUNTER_BASE as usize + 8 * nic_regs::COUNTERS.len());
        assert!(size_of::<RegisterBlock>() <= nic_regs::BAR0_SIZE as usize);
    }

    const ADDR: &str = "0000:03:00.0";

    /// A fake system: sysfs with the card (and optionally a sibling in its group), /dev/vfio,
    /// /proc files. Each test gets its own directory.
    struct Fake {
        root: PathBuf,
        paths: VfioPaths,
    }

    impl Fake {
        fn new(test: &str) -> Self {
            let root = std::env::temp_dir().join(format!("nic-driver-vfio-{}-{test}", std::process::id()));
            let _ = fs::remove_dir_all(&root);
            let paths = VfioPaths {
                sysfs: root.join("sys"),
                dev_vfio: root.join("dev/vfio"),
                proc_limits: root.join("proc/limits"),
                proc_status: root.join("proc/status"),
            };
            fs::create_dir_all(paths.sysfs.join("bus/pci/devices")).unwrap();
            fs::create_dir_all(paths.sysfs.join("bus/pci/drivers")).unwrap();
            fs::create_dir_all(root.join("proc")).unwrap();
            fs::write(&paths.proc_status, "Name:\tt\nUid:\t1000\t1000\t1000\t1000\n").unwrap();
            fs::write(&paths.proc_limits, "Limit  Soft Limit  Hard Limit  Units\nMax locked memory         unlimited            unlimited            bytes\n").unwrap();
            Fake { root, paths }
        }

        /// A PCI device in IOMMU group `group` (None: no IOMMU), bound to `driver`.
        fn device(&self, addr: &str, group: Option<u32>, driver: Option<&str>) -> &Self {
            let dev = self.paths.sysfs.join("bus/pci/devices").join(addr);
            fs::create_dir_all(&dev).unwrap();
            if let Some(g) = group {
                let gdir = self.paths.sysfs.join("kernel/iommu_groups").join(g.to_string());
                fs::create_dir_all(gdir.join("devices")).unwrap();
                symlink(&gdir, dev.join("iommu_group")).unwrap();
                symlink(&dev, gdir.join("devices").join(addr)).unwrap();
            }
            if let Some(d) = driver {
                let ddir = self.paths.sysfs.join("bus/pci/drivers").join(d);
                fs::create_dir_all(&ddir).unwrap();
                symlink(&ddir, dev.join("driver")).unwrap();
            }
            self
        }

        fn dev_vfio(&self, groups: &[u32]) -> &Self {
            fs::create_dir_all(&self.paths.dev_vfio).unwrap();
            for g in groups {
                fs::write(self.paths.dev_vfio.join(g.to_string()), "").unwrap();
            }
            self
        }

        fn check(&self, dma: u64) -> Result<u32, String> {
            preflight(&self.paths, ADDR, dma).map_err(|e| e.to_string())
        }
    }

    impl Drop for Fake {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.root);
        }
    }

    fn assert_one_line_with(msg: &str, parts: &[&str]) {
        assert!(!msg.contains('\n'), "one line: {msg}");
        for p in parts {
            assert!(msg.contains(p), "{msg:?} should contain {p:?}");
        }
    }

    #[test]
    fn bad_address_and_missing_device() {
        let f = Fake::new("addr");
        let e = preflight(&f.paths, "03:00.0", 0).unwrap_err().to_string();
        assert_one_line_with(&e, &["'03:00.0' is not a PCI address", "0000:03:00.0", "lspci -D"]);
        assert_one_line_with(&f.check(0).unwrap_err(), &["no PCI device 0000:03:00.0", "lspci -D"]);
    }

    #[test]
    fn missing_dev_vfio() {
        let f = Fake::new("nodev");
        f.device(ADDR, Some(12), Some("vfio-pci"));
        let e = f.check(0).unwrap_err();
        assert_one_line_with(&e, &["no ", "dev/vfio: load vfio-pci (modprobe vfio-pci) and bind 0000:03:00.0 to it"]);
    }

    #[test]
    fn no_iommu() {
        let f = Fake::new("noiommu");
        f.device(ADDR, None, Some("vfio-pci")).dev_vfio(&[]);
        assert_one_line_with(
            &f.check(0).unwrap_err(),
            &["no IOMMU group", "intel_iommu=on", "amd_iommu=on", "kernel command line"],
        );
    }

    #[test]
    fn not_bound_to_vfio_shows_the_commands() {
        let f = Fake::new("unbound");
        f.device(ADDR, Some(12), Some("xdma")).dev_vfio(&[]);
        let e = f.check(0).unwrap_err();
        assert_one_line_with(
            &e,
            &[
                "0000:03:00.0 is bound to driver xdma, not vfio-pci",
                "echo vfio-pci > /sys/bus/pci/devices/0000:03:00.0/driver_override",
                "echo 0000:03:00.0 > /sys/bus/pci/devices/0000:03:00.0/driver/unbind",
                "echo 0000:03:00.0 > /sys/bus/pci/drivers_probe",
            ],
        );
        let f = Fake::new("nodriver");
        f.device(ADDR, Some(12), None).dev_vfio(&[]);
        let e = f.check(0).unwrap_err();
        assert_one_line_with(&e, &["bound to no driver", "driver_override", "drivers_probe"]);
        assert!(!e.contains("unbind"), "nothing to unbind: {e}");
    }

    #[test]
    fn group_not_viable_lists_the_other_devices() {
        let f = Fake::new("viable");
        f.device(ADDR, Some(7), Some("vfio-pci"))
            .device("0000:03:00.1", Some(7), Some("ixgbe"))
            .device("0000:00:1c.0", Some(7), Some("pcieport"))
            .device("0000:03:00.2", Some(7), None)
            .dev_vfio(&[7]);
        let e = f.check(0).unwrap_err();
        assert_one_line_with(&e, &["IOMMU group 7 is not viable", "0000:03:00.1 (ixgbe)", "vfio-pci"]);
        assert!(!e.contains("1c.0") && !e.contains("00.2"), "bridges and unbound devices are fine: {e}");
    }

    #[test]
    fn memlock_too_low_unless_root() {
        let f = Fake::new("memlock");
        f.device(ADDR, Some(12), Some("vfio-pci")).dev_vfio(&[12]);
        assert_eq!(f.check(64 << 20), Ok(12), "unlimited");
        fs::write(&f.paths.proc_limits, "Max locked memory         65536                65536                bytes\n")
            .unwrap();
        assert_eq!(f.check(65536), Ok(12), "exactly enough");
        let e = f.check(8 << 20).unwrap_err();
        assert_one_line_with(&e, &["memlock limit is 64 KiB", "8192 KiB", "ulimit -l"]);
        fs::write(&f.paths.proc_status, "Uid:\t1000\t0\t0\t0\n").unwrap();
        assert_eq!(f.check(8 << 20), Ok(12), "root (effective uid 0) is not limited");
    }

    #[test]
    fn missing_group_file() {
        let f = Fake::new("groupfile");
        f.device(ADDR, Some(12), Some("vfio-pci")).dev_vfio(&[3]);
        assert_one_line_with(&f.check(0).unwrap_err(), &["dev/vfio/12", "reload vfio-pci"]);
    }

    #[test]
    fn open_without_vfio_fails_cleanly() {
        // This machine has no VFIO device: opening through the real paths must give one of
        // the actionable messages, never a panic.
        let e = VfioBackend::open(ADDR, 1 << 20).err().expect("no board here");
        assert!(matches!(e, Error::Vfio(_)), "{e}");
        assert!(!e.to_string().contains('\n'));
    }
}
