//! The front door's errors: one line saying what to do, exit code 2.
use std::process::Command;

fn nic(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_nic")).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn one_line_error(args: &[&str], want: &str) {
    let (code, stdout, stderr) = nic(args);
    assert_eq!(code, 2, "{args:?}: {stderr}");
    assert!(stdout.is_empty(), "{args:?}: {stdout}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    assert!(stderr.contains(want), "{args:?}: {stderr}");
}

#[test]
fn tap_errors() {
    one_line_error(&["tap", "--tap", "nosuchtap9", "--ip", "198.18.0.2/24"], "ip tuntap add dev nosuchtap9 mode tap");
    one_line_error(&["tap", "--tap", "t0", "--ip", "198.18.0.2"], "is not an address with a prefix length");
    one_line_error(&["tap", "--tap", "t0", "--ip", "300.1.1.1/24"], "is not an address with a prefix length");
    one_line_error(&["tap", "--ip", "198.18.0.2/24"], "--tap NAME is required");
    one_line_error(&["tap", "--tap", "t0", "--ip", "198.18.0.2/24", "--http", "/nonexistent/dir"], "not a directory");
    one_line_error(&["tap", "--tap", "t0", "--ip", "198.18.0.2/24", "--phy", "manchester"], "not gmii or mii");
}

#[test]
fn host_errors() {
    // No board here: the driver's pre-flight names what to do.
    let (code, _, stderr) = nic(&["host", "--device", "vfio:0000:03:00.0", "--ip", "198.18.0.2/24"]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("0000:03:00.0"), "{stderr}");
    one_line_error(&["host", "--device", "pci", "--ip", "198.18.0.2/24"], "is not sim or vfio:");
    one_line_error(&["host", "--device", "sim"], "--ip A.B.C.D/N is required");
}

#[test]
fn host_on_the_simulated_card_serves_its_peer() {
    let dir = std::env::temp_dir().join(format!("nic-host-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "<h1>card</h1>\n").unwrap();
    let (code, stdout, stderr) = nic(&[
        "host",
        "--device",
        "sim",
        "--ip",
        "198.18.0.10/24",
        "--http",
        &dir.display().to_string(),
        "--echo",
        "7",
        "--duration",
        "0.5",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("peer: GET / → 200 (14 bytes)"), "{stdout}");
    assert!(stdout.contains("peer: UDP echo → byte-exact"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}
