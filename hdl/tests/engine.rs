//! The simulation engine trait (`nic_hdl::engine`): the Rust-HDL adapter and the Verilator
//! engine agree on every port after every evaluation on the same stimulus, the frames they
//! deliver are the reference's, the Verilator build is cached, and bad port lists fail
//! clearly.
use nic_hdl::engine::lockstep::Lockstep;
use nic_hdl::engine::vcd::VcdRecorder;
use nic_hdl::engine::verilated::{Verilated, VerilatedCache, VerilatedLibrary};
use nic_hdl::engine::{edge, resolve_ports, Engine, EngineError, PortDir, PortInfo};
use nic_hdl::model::line::{encode_frames, LineConfig};
use nic_hdl::model::pins::{gmii_rx_pins, mii_rx_pins, ppm_period_ps, PinSample, RxFrameSpec, TwoClocks};
use nic_hdl::model::rx_reference::{expected_rx_sent, mixed_traffic, DeliveredFrame, MacConfig};
use nic_hdl::sim::Domain;
use nic_hdl::top::drive::{run_pin_rx, RxRun};
use nic_hdl::top::engines::{run_manchester_rx_on, run_pin_rx_on, RxGmiiEngine, RxManchesterEngine, RxMiiEngine};
use nic_hdl::top::rx_path::{RxGmiiTop, RxManchesterTop, RxMiiTop};
use nic_hdl::verilog::export::{export, VerilogModule};
use nic_hdl::verilog::tools::tool_for_test;
use rust_hdl::prelude::*;

const READY_PERIOD: u64 = 7;

fn ready(c: u64) -> bool {
    !c.is_multiple_of(READY_PERIOD)
}

fn traffic(seed: u64, n: usize) -> (MacConfig, Vec<Vec<u8>>) {
    mixed_traffic(seed, n, 60..=200)
}

fn reference(cfg: &MacConfig, frames: &[Vec<u8>]) -> Vec<DeliveredFrame> {
    expected_rx_sent(cfg, frames).0
}

fn cache() -> VerilatedCache {
    VerilatedCache::default_location()
}

fn verilated(module: &VerilogModule) -> Verilated {
    VerilatedLibrary::build(module, &cache()).unwrap_or_else(|e| panic!("{e}")).instantiate()
}

/// Run `go` on both engines in lockstep; every port must agree after every eval.
fn lockstep<A: Engine, B: Engine>(label: &str, a: A, b: B, go: impl FnOnce(&mut Lockstep<A, B>) -> RxRun) -> RxRun {
    let mut both = Lockstep::new(a, b).unwrap_or_else(|e| panic!("{label}: {e}"));
    let run = go(&mut both);
    assert_eq!(both.mismatches(), &[], "{label}: {} values differ", both.mismatch_count());
    assert!(both.evals() > 10_000, "{label}: only {} evals", both.evals());
    eprintln!("{label}: {} evals, {} port values compared, all equal", both.evals(), both.compared());
    run
}

fn check_run(label: &str, run: &RxRun, expect: &[DeliveredFrame]) {
    assert!(run.protocol_errors.is_empty(), "{label}: {:?}", run.protocol_errors);
    assert_eq!(run.frames, expect, "{label}: frames vs reference");
    assert!(
        run.counters.fcs_errors > 0 && run.counters.filtered > 0 && !run.frames.is_empty(),
        "{label}: mixed traffic"
    );
}

#[test]
fn gmii_engines_agree_on_every_port_every_eval_at_two_ppm() {
    if !tool_for_test("verilator") {
        return;
    }
    let module = export("nic_rx_gmii", &mut RxGmiiTop::default());
    let (cfg, frames) = traffic(11, 8);
    let pins: Vec<PinSample> = frames.iter().flat_map(|f| gmii_rx_pins(f, &RxFrameSpec::gmii())).collect();
    let expect = reference(&cfg, &frames);
    for (ppm, delay) in [(200.0, 1234.5), (-150.0, 0.0)] {
        let label = format!("gmii {ppm} ppm");
        let clocks = TwoClocks::new(8000.0, ppm_period_ps(8000.0, ppm)).delayed(Domain::B, delay);
        let hdl = RxGmiiEngine::new(RxGmiiTop::default()).unwrap();
        let run = lockstep(&label, hdl, verilated(&module), |e| {
            run_pin_rx_on(e, &cfg, clocks.clone(), &pins, 400, ready).unwrap()
        });
        check_run(&label, &run, &expect);
        // The engine driver steps exactly as the Rust-HDL driver of `top::drive`.
        let legacy = run_pin_rx::<RxGmiiTop>(&cfg, clocks, &pins, 400, ready, None);
        assert_eq!((&run.frames, run.counters, run.core_cycles), (&legacy.frames, legacy.counters, legacy.core_cycles));
    }
}

#[test]
fn mii_engines_agree_on_every_port_every_eval() {
    if !tool_for_test("verilator") {
        return;
    }
    let module = export("nic_rx_mii", &mut RxMiiTop::default());
    let (cfg, frames) = traffic(12, 8);
    let pins: Vec<PinSample> = frames.iter().flat_map(|f| mii_rx_pins(f, &RxFrameSpec::mii())).collect();
    let clocks = TwoClocks::new(8000.0, ppm_period_ps(40000.0, -200.0)).delayed(Domain::B, 777.0);
    let hdl = RxMiiEngine::new(RxMiiTop::default()).unwrap();
    let run = lockstep("mii", hdl, verilated(&module), |e| run_pin_rx_on(e, &cfg, clocks, &pins, 200, ready).unwrap());
    check_run("mii", &run, &reference(&cfg, &frames));
}

#[test]
fn manchester_engines_agree_on_every_port_every_eval() {
    if !tool_for_test("verilator") {
        return;
    }
    let module = export("nic_rx_manchester", &mut RxManchesterTop::default());
    let (cfg, frames) = traffic(13, 8);
    let line = LineConfig { ppm: -200.0, jitter_peak_ui: 0.1, seed: 3, ..Default::default() };
    let (words, _) = encode_frames(&line, &frames, 8);
    let hdl = RxManchesterEngine::new(RxManchesterTop::default()).unwrap();
    let run = lockstep("manchester", hdl, verilated(&module), |e| {
        run_manchester_rx_on(e, &cfg, &words, 1000, ready).unwrap()
    });
    check_run("manchester", &run, &reference(&cfg, &frames));
}

/// A small block for the construction tests: a byte register.
#[derive(LogicBlock, Default)]
struct Reg8 {
    clock: Signal<In, Clock>,
    d: Signal<In, Bits<8>>,
    en: Signal<In, Bit>,
    q: Signal<Out, Bits<8>>,
    r: DFF<Bits<8>>,
}

impl Logic for Reg8 {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, r);
        if self.en.val() {
            self.r.d.next = self.d.val();
        }
        self.q.next = self.r.q.val();
    }
}

nic_hdl::hdl_engine!(Reg8Engine for Reg8 { inputs { clock, d, en } outputs { q } });
nic_hdl::hdl_engine!(Reg8Incomplete for Reg8 { inputs { clock, d } outputs { q } });

/// A block with a 72-bit port, which no engine carries.
#[derive(LogicBlock, Default)]
struct Wide {
    a: Signal<In, Bits<72>>,
    y: Signal<Out, Bits<72>>,
}

impl Logic for Wide {
    #[hdl_gen]
    fn update(&mut self) {
        self.y.next = self.a.val();
    }
}

nic_hdl::hdl_engine!(WideEngine for Wide { inputs { a } outputs { y } });

#[test]
fn adapter_steps_a_register_and_reads_ports() {
    let mut e = Reg8Engine::new(Reg8::default()).unwrap();
    let [clock, d, en, q] = resolve_ports(&e, ["clock", "d", "en", "q"]).unwrap();
    assert_eq!(e.ports()[d], PortInfo { name: "d".into(), width: 8, dir: PortDir::In });
    e.set(d, 0x1A5); // masked to 8 bits
    e.set(en, 1);
    edge(&mut e, clock);
    assert_eq!(e.get(q), 0xA5);
    e.set(en, 0);
    e.set(d, 7);
    edge(&mut e, clock);
    assert_eq!(e.get(q), 0xA5, "enable low holds");
}

#[test]
fn bad_port_lists_and_wide_ports_fail_clearly() {
    let e = Reg8Incomplete::new(Reg8::default()).err().expect("a port left out must fail").to_string();
    assert!(e.contains("`en`") && e.contains("missing"), "{e}");
    let e = WideEngine::new(Wide::default()).err().expect("72 bits must fail").to_string();
    assert!(e.contains("`a`") && e.contains("72 bits") && e.contains("at most 64"), "{e}");
    let ok = Reg8Engine::new(Reg8::default()).unwrap();
    let e = resolve_ports(&ok, ["clock", "nope"]).unwrap_err().to_string();
    assert!(e.contains("no port named `nope`") && e.contains("clock, d, en, q"), "{e}");
    // The Verilator engine refuses before building anything (so no tool is needed).
    let wide = export("wide72", &mut Wide::default());
    let cache = VerilatedCache::new(std::env::temp_dir().join(format!("nic-engine-wide-{}", std::process::id())));
    let e = VerilatedLibrary::build(&wide, &cache).err().expect("72 bits must fail");
    assert!(matches!(e, EngineError::WidePort { width: 72, .. }), "{e}");
    assert!(!cache.root.exists(), "nothing built");
}

#[test]
fn verilated_build_is_cached_and_reused() {
    if !tool_for_test("verilator") {
        return;
    }
    let root = std::env::temp_dir().join(format!("nic-engine-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let cache = VerilatedCache::new(&root);
    let module = export("reg8", &mut Reg8::default());
    let first = VerilatedLibrary::build(&module, &cache).unwrap_or_else(|e| panic!("{e}"));
    assert!(!first.reused(), "a fresh cache must build");
    let t = std::time::Instant::now();
    let second = VerilatedLibrary::build(&module, &cache).unwrap();
    assert!(second.reused() && second.dir() == first.dir(), "the second build must come from the cache");
    assert!(t.elapsed().as_secs_f64() < 2.0, "reuse took {:?}", t.elapsed());
    // Only the finished build is left: no temporary directories, no object files.
    let entries: Vec<_> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    // Two instances of one library are independent models.
    let (mut a, mut b) = (second.instantiate(), first.instantiate());
    let [clock, d, en, q] = resolve_ports(&a, ["clock", "d", "en", "q"]).unwrap();
    for (e, v) in [(&mut a, 0x11), (&mut b, 0x22)] {
        e.set(d, v);
        e.set(en, 1);
        edge(e, clock);
    }
    assert_eq!((a.get(q), b.get(q)), (0x11, 0x22));
    // Another module (a changed source) gets its own directory.
    let other = VerilatedLibrary::cache_dir(&export("reg8b", &mut Reg8::default()), &cache).unwrap();
    assert_ne!(other, first.dir());
    drop((a, b, first, second));
    let _ = std::fs::remove_dir_all(&root);
}

/// Value changes per signal name, from a VCD.
fn vcd_changes(text: &[u8]) -> std::collections::BTreeMap<String, Vec<(u64, String)>> {
    let mut parser = vcd::Parser::new(text);
    let header = parser.parse_header().unwrap();
    let mut names = std::collections::HashMap::new();
    for item in &header.items {
        if let vcd::ScopeItem::Scope(s) = item {
            for v in &s.children {
                if let vcd::ScopeItem::Var(v) = v {
                    names.insert(v.code, v.reference.clone());
                }
            }
        }
    }
    let mut out: std::collections::BTreeMap<String, Vec<(u64, String)>> = Default::default();
    let mut t = 0;
    for cmd in parser {
        match cmd.unwrap() {
            vcd::Command::Timestamp(ts) => t = ts,
            vcd::Command::ChangeScalar(id, v) => out.entry(names[&id].clone()).or_default().push((t, v.to_string())),
            vcd::Command::ChangeVector(id, v) => {
                let s: String = v.iter().map(|b| b.to_string()).collect();
                out.entry(names[&id].clone()).or_default().push((t, s));
            }
            _ => {}
        }
    }
    out
}

fn record_reg8<E: Engine>(e: E) -> Vec<u8> {
    let mut rec = VcdRecorder::new(e, Vec::new(), &["clock"]).unwrap();
    let [clock, d, en] = resolve_ports(&rec, ["clock", "d", "en"]).unwrap();
    rec.set(en, 1);
    for v in [3u64, 3, 9, 200] {
        rec.set(d, v);
        edge(&mut rec, clock);
    }
    rec.finish().unwrap().1
}

#[test]
fn vcd_of_either_engine_has_every_port_at_every_edge() {
    let hdl = vcd_changes(&record_reg8(Reg8Engine::new(Reg8::default()).unwrap()));
    assert_eq!(hdl.keys().collect::<Vec<_>>(), ["clock", "d", "en", "q"]);
    // The first eval (clock low) and then every edge: 4 rising, 3 falling in between.
    let clock: Vec<&str> = hdl["clock"].iter().map(|(_, v)| v.as_str()).collect();
    assert_eq!(clock, ["0", "1", "0", "1", "0", "1", "0", "1"]);
    let q: Vec<&str> = hdl["q"].iter().map(|(_, v)| v.as_str()).collect();
    assert_eq!(q, ["00000000", "00000011", "00001001", "11001000"]);
    if tool_for_test("verilator") {
        let v = vcd_changes(&record_reg8(verilated(&export("reg8", &mut Reg8::default()))));
        assert_eq!(v, hdl, "the same waveform from both engines");
    }
}

#[test]
fn adapters_have_the_exported_ports() {
    let cases: [(Box<dyn Engine>, VerilogModule); 3] = [
        (Box::new(RxGmiiEngine::new(RxGmiiTop::default()).unwrap()), export("nic_rx_gmii", &mut RxGmiiTop::default())),
        (Box::new(RxMiiEngine::new(RxMiiTop::default()).unwrap()), export("nic_rx_mii", &mut RxMiiTop::default())),
        (
            Box::new(RxManchesterEngine::new(RxManchesterTop::default()).unwrap()),
            export("nic_rx_manchester", &mut RxManchesterTop::default()),
        ),
    ];
    for (e, m) in cases {
        let mut a: Vec<String> = e.ports().iter().map(|p| format!("{:?} {}[{}]", p.dir, p.name, p.width)).collect();
        let mut b: Vec<String> = m
            .ports
            .iter()
            .map(|p| {
                format!(
                    "{:?} {}[{}]",
                    if p.to_string().starts_with("in") { PortDir::In } else { PortDir::Out },
                    p.name,
                    p.width
                )
            })
            .collect();
        a.sort();
        b.sort();
        assert_eq!(a, b, "{}", m.name);
    }
}

#[test]
fn lockstep_reports_the_first_differences() {
    let a = Reg8Engine::new(Reg8::default()).unwrap();
    let b = Reg8Engine::new(Reg8::default()).unwrap();
    let mut both = Lockstep::new(a, b).unwrap();
    let [clock, d, en, q] = resolve_ports(&both, ["clock", "d", "en", "q"]).unwrap();
    both.set(en, 1);
    both.b.set(d, 5); // only one side
    edge(&mut both, clock);
    assert_eq!(both.get(q), 0, "reads come from the first engine");
    let m = both.mismatches();
    assert!(m.iter().any(|m| m.port == "q" && m.a == 0 && m.b == 5), "{m:?}");
    assert_eq!(m[0].port, "d");
    assert_eq!(both.evals(), 2);
}

/// Child half of [`verilated_builds_racing_in_two_processes_share_one_cache`]: build into the
/// cache named by the variable, then check the library runs.
const RACE_CHILD: &str = "NIC_ENGINE_RACE_CACHE";

#[test]
fn verilated_builds_racing_in_two_processes_share_one_cache() {
    if let Some(root) = std::env::var_os(RACE_CHILD) {
        let lib = VerilatedLibrary::build(&export("reg8", &mut Reg8::default()), &VerilatedCache::new(root))
            .unwrap_or_else(|e| panic!("{e}"));
        let mut e = lib.instantiate();
        let [clock, d, en, q] = resolve_ports(&e, ["clock", "d", "en", "q"]).unwrap();
        e.set(d, 0x5A);
        e.set(en, 1);
        edge(&mut e, clock);
        assert_eq!(e.get(q), 0x5A);
        return;
    }
    if !tool_for_test("verilator") {
        return;
    }
    let root = std::env::temp_dir().join(format!("nic-engine-race-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let me = std::env::current_exe().unwrap();
    let spawned: Vec<std::process::Child> = (0..2)
        .map(|_| {
            std::process::Command::new(&me)
                .args(["--exact", "verilated_builds_racing_in_two_processes_share_one_cache", "--test-threads", "1"])
                .env(RACE_CHILD, &root)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in spawned {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "child: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let entries: Vec<String> =
        std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(entries.len(), 1, "one finished build, no leftovers: {entries:?}");
    assert!(entries[0].starts_with("reg8-"), "{entries:?}");
    let _ = std::fs::remove_dir_all(&root);
}
