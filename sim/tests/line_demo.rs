//! The demo end to end for every PHY: it must deliver exactly what the reference expects
//! and write a pcap with those frames.
use nic_sim::line_demo::{run, DemoOptions, Phy};

fn pcap_records(path: &str) -> usize {
    let bytes = std::fs::read(path).expect("pcap written");
    assert_eq!(&bytes[0..4], &[0xD4, 0xC3, 0xB2, 0xA1], "pcap magic");
    let mut at = 24;
    let mut n = 0;
    while at + 16 <= bytes.len() {
        let caplen = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        at += 16 + caplen;
        n += 1;
    }
    assert_eq!(at, bytes.len(), "pcap records end exactly at the end of the file");
    n
}

#[test]
fn demo_delivers_what_the_reference_expects_on_every_phy() {
    for (phy, frames) in [(Phy::Gmii, 18), (Phy::Mii, 8), (Phy::Manchester, 6)] {
        let pcap = std::env::temp_dir().join(format!("nic-line-demo-{}-{phy:?}.pcap", std::process::id()));
        let opts = DemoOptions {
            phy,
            frames,
            max_len: 400,
            ber: 1e-4,
            pcap: pcap.to_string_lossy().into(),
            ..Default::default()
        };
        let report = run(&opts).unwrap_or_else(|e| panic!("{phy:?}: {e}"));
        assert_eq!(report.delivered, report.expected, "{phy:?}");
        assert!(report.delivered > 0, "{phy:?}: the traffic mix includes frames for B");
        assert_eq!(pcap_records(&opts.pcap), report.delivered, "{phy:?}");
        let _ = std::fs::remove_file(&pcap);
    }
}
