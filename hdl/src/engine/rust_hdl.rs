//! The Rust-HDL engine: a Rust-HDL top stepped by hand ([`crate::sim::settle`]) behind the
//! [`Engine`] trait.
//!
//! Rust-HDL signals cannot be set generically by name, so each top gets a small adapter
//! declared with [`hdl_engine!`](crate::hdl_engine), which lists the top's ports once:
//!
//! ```ignore
//! nic_hdl::hdl_engine!(pub RxGmiiEngine for RxGmiiTop {
//!     inputs { clock, reset, phy_clock, rxd, rx_dv, rx_er, /* ... */ }
//!     outputs { out_valid, out_data, /* ... */ }
//! });
//! let mut engine = RxGmiiEngine::new(RxGmiiTop::default())?;
//! ```
//!
//! Construction checks the list against the block itself (through Rust-HDL's probe): a
//! top-level port left out of the list, a listed name that is not a port, or a port wider
//! than 64 bits is an [`EngineError`], so an adapter cannot silently drift from its top.
//! Putting an output in `inputs` does not compile.
use super::{check_widths, mask, Engine, EngineError, PortDir, PortInfo};
use rust_hdl::prelude::*;

/// A port type an engine can carry as a `u64`: `Bit`, `Clock`, `Bits<N>` with N ≤ 64.
pub trait PortValue: Synth {
    fn from_u64(v: u64) -> Self;
    fn to_u64(self) -> u64;
}

impl PortValue for Bit {
    fn from_u64(v: u64) -> Self {
        v & 1 != 0
    }
    fn to_u64(self) -> u64 {
        self as u64
    }
}

impl PortValue for Clock {
    fn from_u64(v: u64) -> Self {
        Clock::from(v & 1 != 0)
    }
    fn to_u64(self) -> u64 {
        self.clk as u64
    }
}

impl<const N: usize> PortValue for Bits<N> {
    fn from_u64(v: u64) -> Self {
        (v & mask(N as u32)).to_bits()
    }
    fn to_u64(self) -> u64 {
        // Wider ports are refused when the engine is built, so this never sees N > 64.
        Bits::<N>::to_u64(self)
    }
}

/// Set an input signal from a `u64` (used by [`hdl_engine!`](crate::hdl_engine)).
#[inline]
pub fn store<T: PortValue>(signal: &mut Signal<In, T>, v: u64) {
    signal.next = T::from_u64(v);
}

/// Read an input signal as a `u64` (used by [`hdl_engine!`](crate::hdl_engine)).
#[inline]
pub fn load_in<T: PortValue>(signal: &Signal<In, T>) -> u64 {
    signal.val().to_u64()
}

/// Read an output signal as a `u64` (used by [`hdl_engine!`](crate::hdl_engine)).
#[inline]
pub fn load_out<T: PortValue>(signal: &Signal<Out, T>) -> u64 {
    signal.val().to_u64()
}

/// Sets one input of a block `B`.
pub type Setter<B> = fn(&mut B, u64);
/// Reads one port of a block `B`.
pub type Getter<B> = fn(&B) -> u64;

/// One row of an adapter's port table.
pub struct HdlPort<B> {
    pub info: PortInfo,
    pub set: Option<Setter<B>>,
    pub get: Getter<B>,
}

impl<B> HdlPort<B> {
    pub fn input<T: PortValue>(name: &str, _signal: &Signal<In, T>, set: Setter<B>, get: Getter<B>) -> Self {
        let info = PortInfo { name: name.to_string(), width: T::BITS as u32, dir: PortDir::In };
        HdlPort { info, set: Some(set), get }
    }
    pub fn output<T: PortValue>(name: &str, _signal: &Signal<Out, T>, get: Getter<B>) -> Self {
        let info = PortInfo { name: name.to_string(), width: T::BITS as u32, dir: PortDir::Out };
        HdlPort { info, set: None, get }
    }
}

/// A Rust-HDL top behind [`Engine`]; built by the adapters [`hdl_engine!`](crate::hdl_engine)
/// declares.
pub struct HdlEngine<B: Block> {
    top: B,
    name: String,
    ports: Vec<PortInfo>,
    setters: Vec<Option<Setter<B>>>,
    getters: Vec<Getter<B>>,
}

/// The top-level ports of a block as Rust-HDL sees them: (name, width, direction).
fn block_ports<B: Block>(top: &B) -> Vec<(String, u32, PortDir)> {
    struct TopPorts {
        depth: usize,
        found: Vec<(String, u32, PortDir)>,
    }
    impl Probe for TopPorts {
        fn visit_start_scope(&mut self, _name: &str, _node: &dyn Block) {
            self.depth += 1;
        }
        fn visit_end_scope(&mut self, _name: &str, _node: &dyn Block) {
            self.depth -= 1;
        }
        fn visit_atom(&mut self, name: &str, signal: &dyn Atom) {
            let dir = match signal.kind() {
                AtomKind::InputParameter => PortDir::In,
                AtomKind::OutputParameter => PortDir::Out,
                _ => return,
            };
            if self.depth == 1 {
                self.found.push((name.to_string(), signal.bits() as u32, dir));
            }
        }
    }
    let mut probe = TopPorts { depth: 0, found: Vec::new() };
    top.accept("top", &mut probe);
    probe.found
}

impl<B: Block + Send> HdlEngine<B> {
    /// Wrap `top` (connected here) with the port table an adapter wrote for it. `type_name`
    /// is for messages.
    pub fn from_table(type_name: &str, mut top: B, table: Vec<HdlPort<B>>) -> Result<Self, EngineError> {
        top.connect_all();
        let name = format!("rust-hdl {type_name}");
        let ports: Vec<PortInfo> = table.iter().map(|p| p.info.clone()).collect();
        check_widths(&name, &ports)?;
        let actual = block_ports(&top);
        let problem = |problem: String| EngineError::Adapter { engine: name.clone(), problem };
        for (pname, width, dir) in &actual {
            match ports.iter().find(|p| &p.name == pname) {
                None => return Err(problem(format!("port `{pname}` of the block is missing from the adapter's list"))),
                Some(p) if p.width != *width || p.dir != *dir => {
                    return Err(problem(format!("port `{pname}`: adapter says {p:?}, block says {width} bits {dir:?}")))
                }
                Some(_) => {}
            }
        }
        if let Some(p) = ports.iter().find(|p| !actual.iter().any(|a| a.0 == p.name)) {
            return Err(problem(format!("`{}` is listed but is not a top-level port of the block", p.name)));
        }
        for (i, p) in ports.iter().enumerate() {
            if ports[..i].iter().any(|q| q.name == p.name) {
                return Err(problem(format!("port `{}` is listed twice", p.name)));
            }
        }
        Ok(HdlEngine {
            top,
            name,
            ports,
            setters: table.iter().map(|p| p.set).collect(),
            getters: table.iter().map(|p| p.get).collect(),
        })
    }

    pub fn top(&self) -> &B {
        &self.top
    }

    /// The wrapped block, for what the trait cannot do (probing internal signals, ...).
    pub fn top_mut(&mut self) -> &mut B {
        &mut self.top
    }
}

impl<B: Block + Send> Engine for HdlEngine<B> {
    fn ports(&self) -> &[PortInfo] {
        &self.ports
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn set(&mut self, port: usize, value: u64) {
        match self.setters[port] {
            Some(set) => set(&mut self.top, value),
            None => panic!("{}: `{}` is an output, it cannot be set", self.name, self.ports[port].name),
        }
    }

    fn get(&mut self, port: usize) -> u64 {
        (self.getters[port])(&self.top)
    }

    fn eval(&mut self) {
        crate::sim::settle(&mut self.top);
    }
}

/// Declare a Rust-HDL engine for a top: a struct owning the top (connected) that implements
/// [`Engine`](crate::engine::Engine), with the listed ports in this order (inputs first).
///
/// ```ignore
/// hdl_engine!(
///     /// Doc comment of the adapter.
///     pub RxGmiiEngine for RxGmiiTop {
///         inputs { clock, reset, phy_clock, rxd, rx_dv, rx_er }
///         outputs { out_valid, out_data }
///     }
/// );
/// let mut e = RxGmiiEngine::new(RxGmiiTop::default())?; // checks the list against the block
/// ```
#[macro_export]
macro_rules! hdl_engine {
    (
        $(#[$meta:meta])*
        $vis:vis $name:ident for $top:ty {
            inputs { $($i:ident),* $(,)? }
            outputs { $($o:ident),* $(,)? }
        }
    ) => {
        $(#[$meta])*
        $vis struct $name($crate::engine::rust_hdl::HdlEngine<$top>);

        impl $name {
            /// Wrap `top`; fails if the port list does not match the block.
            pub fn new(top: $top) -> ::std::result::Result<Self, $crate::engine::EngineError> {
                let table = ::std::vec![
                    $($crate::engine::rust_hdl::HdlPort::input(
                        stringify!($i),
                        &top.$i,
                        |t: &mut $top, v: u64| $crate::engine::rust_hdl::store(&mut t.$i, v),
                        |t: &$top| $crate::engine::rust_hdl::load_in(&t.$i),
                    ),)*
                    $($crate::engine::rust_hdl::HdlPort::output(
                        stringify!($o),
                        &top.$o,
                        |t: &$top| $crate::engine::rust_hdl::load_out(&t.$o),
                    ),)*
                ];
                $crate::engine::rust_hdl::HdlEngine::from_table(stringify!($top), top, table).map(Self)
            }

            pub fn top(&self) -> &$top {
                self.0.top()
            }

            pub fn top_mut(&mut self) -> &mut $top {
                self.0.top_mut()
            }
        }

        impl $crate::engine::Engine for $name {
            fn ports(&self) -> &[$crate::engine::PortInfo] {
                $crate::engine::Engine::ports(&self.0)
            }
            fn name(&self) -> &str {
                $crate::engine::Engine::name(&self.0)
            }
            #[inline]
            fn set(&mut self, port: usize, value: u64) {
                $crate::engine::Engine::set(&mut self.0, port, value)
            }
            #[inline]
            fn get(&mut self, port: usize) -> u64 {
                $crate::engine::Engine::get(&mut self.0, port)
            }
            fn eval(&mut self) {
                $crate::engine::Engine::eval(&mut self.0)
            }
        }
    };
}
