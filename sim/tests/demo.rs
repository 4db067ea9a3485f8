//! `nic demo` end to end: two simulated cards with the whole gateware, the driver and the
//! stack; HTTP statuses, echo and a CRC-checked transfer; the wire capture is a pcap of the
//! real exchange.
use nic_sim::demo::{parse_args, run};
use nic_sim::pcap::read_pcap;

fn demo(phy: &str, size: &str) {
    let pcap = std::env::temp_dir().join(format!("nic-demo-test-{}-{phy}.pcap", std::process::id()));
    let args: Vec<String> =
        ["--phy", phy, "--size", size, "--pcap", &pcap.display().to_string()].map(String::from).to_vec();
    let report = run(&parse_args(&args).unwrap()).unwrap_or_else(|e| panic!("{phy}: {e}"));
    assert!(report.http.iter().all(|(_, want, got)| want == got), "{:?}", report.http);
    assert!(report.http.iter().any(|(r, _, got)| r.starts_with("DELETE") && *got == 405));
    assert!(report.echo_ok);
    assert_eq!(report.transfer_bytes, size.parse::<u64>().unwrap());
    assert!(report.world.bus_violations.is_empty());
    // The capture holds the exchange: frames both ways, the HTTP status lines among them.
    let frames = read_pcap(&std::fs::read(&pcap).unwrap()).unwrap();
    assert!(frames.len() > 50, "{} frames captured", frames.len());
    let has = |needle: &[u8]| frames.iter().any(|f| f.data.windows(needle.len()).any(|w| w == needle));
    assert!(has(b"HTTP/1.1 200 OK") && has(b"HTTP/1.1 404") && has(b"HTTP/1.1 405"));
    assert!(frames.iter().any(|f| f.data[12..14] == [0x08, 0x06]), "ARP on the wire");
    let _ = std::fs::remove_file(&pcap);
}

#[test]
fn demo_on_gmii() {
    demo("gmii", "131072");
}

#[test]
fn demo_on_manchester() {
    demo("manchester", "16384");
}

#[test]
fn bad_options_are_refused() {
    assert!(parse_args(&["--phy".into(), "rs232".into()]).unwrap_err().contains("not gmii, mii or manchester"));
    assert!(parse_args(&["--size".into(), "0".into()]).unwrap_err().contains("--size"));
    assert!(parse_args(&["--frobnicate".into()]).unwrap_err().contains("unknown option"));
}
