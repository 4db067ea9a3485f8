//! `nic replay` on crafted captures: good frames, bad FCS, runts, giants, filtered unicast
//! and multicast, joined multicast, broadcast; exact counters and the exact output capture,
//! on every PHY; and the one-line errors for bad input.
use nic_hdl::model::rx_reference::with_fcs;
use nic_regs::net::multicast_bin;
use nic_sim::model::engines::EngineChoice;
use nic_sim::model::Phy;
use nic_sim::pcap::{read_pcap, PcapWriter};
use nic_sim::replay::{self, ReplayOptions};
use std::path::PathBuf;
use std::process::Command;

const OURS: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
const OTHER: [u8; 6] = [0x02, 0, 0, 0, 0, 0x77];
const BROADCAST: [u8; 6] = [0xFF; 6];
const JOINED: [u8; 6] = [0x01, 0x00, 0x5E, 0x00, 0x00, 0xFB];

/// A multicast address whose hash bin differs from JOINED's, so the filter drops it.
fn not_joined() -> [u8; 6] {
    (1u8..=255)
        .map(|b| [0x01, 0x00, 0x5E, 0x00, 0x01, b])
        .find(|m| multicast_bin(m) != multicast_bin(&JOINED))
        .expect("some bin differs")
}

fn frame(dst: [u8; 6], len: usize, tag: u8) -> Vec<u8> {
    let mut f = dst.to_vec();
    f.extend_from_slice(&OTHER);
    f.extend_from_slice(&[0x08, 0x00]);
    while f.len() < len {
        f.push(tag.wrapping_add(f.len() as u8));
    }
    f
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nic-replay-test-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn write_pcap(path: &PathBuf, records: &[Vec<u8>]) {
    let mut w = PcapWriter::new(Vec::new()).unwrap();
    for (i, r) in records.iter().enumerate() {
        w.write_frame(i as u64 * 1000, r).unwrap();
    }
    std::fs::write(path, w.finish().unwrap()).unwrap();
}

struct Case {
    /// Records as captured, each ending in its FCS (the capture is replayed `--with-fcs`).
    records: Vec<Vec<u8>>,
    /// The frames (without FCS) that must reach host memory, in order.
    delivered: Vec<Vec<u8>>,
}

/// good unicast, broadcast, joined multicast, other multicast, other unicast, bad FCS,
/// runt, giant, and a maximum-size good frame.
fn crafted() -> Case {
    let good = frame(OURS, 60, 1);
    let bcast = frame(BROADCAST, 100, 2);
    let mcast = frame(JOINED, 80, 3);
    let max = frame(OURS, 1514, 9);
    let mut bad_fcs = with_fcs(&frame(OURS, 90, 6));
    let n = bad_fcs.len();
    bad_fcs[n - 1] ^= 0x40;
    let records = vec![
        with_fcs(&good),
        with_fcs(&bcast),
        with_fcs(&mcast),
        with_fcs(&frame(not_joined(), 70, 4)),
        with_fcs(&frame(OTHER, 64, 5)),
        bad_fcs,
        with_fcs(&frame(OURS, 40, 7)),
        with_fcs(&frame(OURS, 1600, 8)),
        with_fcs(&max),
    ];
    Case { records, delivered: vec![good, bcast, mcast, max] }
}

fn options(phy: Phy, input: &PathBuf, output: &PathBuf) -> ReplayOptions {
    let mut args: Vec<String> =
        vec!["--in".into(), input.display().to_string(), "--out".into(), output.display().to_string()];
    args.extend(["--with-fcs", "--phy", phy.name(), "--multicast", "01:00:5e:00:00:fb"].map(String::from));
    let mut o = replay::parse_args(&args).unwrap();
    o.engine = EngineChoice::Auto;
    o
}

fn check_phy(phy: Phy) {
    let case = crafted();
    let input = tmp(&format!("crafted-{}.pcap", phy.name()));
    let output = tmp(&format!("out-{}.pcap", phy.name()));
    write_pcap(&input, &case.records);
    let report = replay::run(&options(phy, &input, &output)).unwrap_or_else(|(_, e)| panic!("{e}"));
    assert_eq!(
        report.json(),
        r#"{"frames_in":9,"delivered":4,"fcs_errors":1,"runts":1,"giants":1,"filtered":2,"overflow":0,"no_buffer":0}"#,
        "{}",
        phy.name()
    );
    let got: Vec<Vec<u8>> = read_pcap(&std::fs::read(&output).unwrap()).unwrap().into_iter().map(|r| r.data).collect();
    assert_eq!(got, case.delivered, "{}: the frames in host memory", phy.name());

    // Promiscuous: the two filtered frames arrive too, in their place.
    let mut o = options(phy, &input, &output);
    o.host.promisc = true;
    let report = replay::run(&o).unwrap_or_else(|(_, e)| panic!("{e}"));
    assert_eq!(report.delivered, 6);
    assert_eq!(report.counters.get(nic_regs::Counter::RxFiltered), 0);
    let got: Vec<Vec<u8>> = read_pcap(&std::fs::read(&output).unwrap()).unwrap().into_iter().map(|r| r.data).collect();
    let strip = |r: &Vec<u8>| r[..r.len() - 4].to_vec();
    assert_eq!(got[3], strip(&case.records[3]));
    assert_eq!(got[4], strip(&case.records[4]));
}

#[test]
fn crafted_capture_gmii() {
    check_phy(Phy::Gmii);
}

#[test]
fn crafted_capture_mii() {
    check_phy(Phy::Mii);
}

#[test]
fn crafted_capture_manchester() {
    check_phy(Phy::Manchester);
}

/// Without `--with-fcs` the FCS is computed; with all-multicast every multicast arrives.
#[test]
fn computed_fcs_and_all_multicast() {
    let frames = vec![frame(OURS, 60, 1), frame(not_joined(), 70, 2), frame(JOINED, 70, 3)];
    let input = tmp("plain.pcap");
    let output = tmp("plain-out.pcap");
    write_pcap(&input, &frames);
    let args: Vec<String> =
        ["--in", &input.display().to_string(), "--out", &output.display().to_string(), "--all-multicast"]
            .map(String::from)
            .to_vec();
    let o = replay::parse_args(&args).unwrap();
    let report = replay::run(&o).unwrap_or_else(|(_, e)| panic!("{e}"));
    assert_eq!(report.delivered, 3, "{}", report.json());
    let got: Vec<Vec<u8>> = read_pcap(&std::fs::read(&output).unwrap()).unwrap().into_iter().map(|r| r.data).collect();
    assert_eq!(got, frames);
}

/// `--vcd` writes a waveform of every port of the card.
#[test]
fn vcd_on_request() {
    let input = tmp("vcd-in.pcap");
    let output = tmp("vcd-out.pcap");
    let vcd = tmp("replay.vcd");
    write_pcap(&input, &[frame(OURS, 60, 1)]);
    let args: Vec<String> = [
        "--in",
        &input.display().to_string(),
        "--out",
        &output.display().to_string(),
        "--vcd",
        &vcd.display().to_string(),
    ]
    .map(String::from)
    .to_vec();
    let report = replay::run(&replay::parse_args(&args).unwrap()).unwrap_or_else(|(_, e)| panic!("{e}"));
    assert_eq!(report.delivered, 1);
    let text = std::fs::read_to_string(&vcd).unwrap();
    assert!(text.contains("$timescale"), "a VCD header");
    for port in ["clock", "rx_clk", "rxd", "m_axi_awvalid", "m_axi_wdata", "s_axil_rdata", "usr_irq_req"] {
        assert!(text.contains(&format!(" {port} $end")), "{port} in the VCD");
    }
    assert!(text.lines().filter(|l| l.starts_with('#')).count() > 1000, "many time steps");
    let _ = std::fs::remove_file(&vcd);
}

fn nic(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_nic")).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let not_pcap = tmp("not.pcap");
    std::fs::write(&not_pcap, b"this is not a capture at all").unwrap();
    let truncated = tmp("truncated.pcap");
    write_pcap(&truncated, &[frame(OURS, 60, 1)]);
    let mut bytes = std::fs::read(&truncated).unwrap();
    bytes.truncate(bytes.len() - 5);
    std::fs::write(&truncated, &bytes).unwrap();
    let raw = tmp("raw.pcap");
    write_pcap(&raw, &[frame(OURS, 60, 1)]);
    let mut bytes = std::fs::read(&raw).unwrap();
    bytes[20] = 101;
    std::fs::write(&raw, &bytes).unwrap();
    let out = tmp("never.pcap");
    let o = out.display().to_string();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["--in".into(), not_pcap.display().to_string(), "--out".into(), o.clone()], "not a classic pcap"),
        (
            vec!["--in".into(), truncated.display().to_string(), "--out".into(), o.clone()],
            "record 0 at byte 24 is truncated",
        ),
        (vec!["--in".into(), raw.display().to_string(), "--out".into(), o.clone()], "link type 101 is not Ethernet"),
        (
            vec![
                "--in".into(),
                raw.display().to_string(),
                "--out".into(),
                o.clone(),
                "--mac".into(),
                "02:00:00:zz:00:01".into(),
            ],
            "is not a MAC address",
        ),
        (
            vec!["--in".into(), "/nonexistent/x.pcap".into(), "--out".into(), o.clone()],
            "cannot read /nonexistent/x.pcap",
        ),
        (vec!["--out".into(), o.clone()], "--in and --out are required"),
    ];
    for (args, want) in cases {
        let mut all = vec!["replay".to_string()];
        all.extend(args);
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        let (code, stdout, stderr) = nic(&refs);
        assert_eq!(code, 2, "{all:?}: {stderr}");
        assert!(stdout.is_empty(), "{all:?}: {stdout}");
        assert!(stderr.lines().next().unwrap_or("").contains(want), "{all:?}: {stderr}");
    }
    assert!(!out.exists(), "no output written on bad input");
}
