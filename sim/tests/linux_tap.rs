//! Linux talking to the simulated card through a TAP interface, in a network namespace this
//! test creates and removes: Linux's `ping`, `curl` (status codes and a 256 KiB file
//! compared byte for byte) and `nc` (TCP and UDP echo) against `nic tap`; then the same
//! transfer with loss and reordering (`tc qdisc ... netem` on the Linux side, or the line
//! model's own when the kernel has no netem), still byte-exact.
//!
//! Missing tools or permissions skip with a message, unless `NIC_REQUIRE_NETNS=1`, where
//! they fail. Addresses are in 198.18.0.0/15; nothing leaves the namespace.
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const CARD_IP: &str = "198.18.0.2";

fn required() -> bool {
    std::env::var("NIC_REQUIRE_NETNS").is_ok_and(|v| v == "1")
}

/// Whether the test can run here; otherwise why not.
fn preflight() -> Result<(), String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Err("not root: network namespaces and TAP devices need CAP_NET_ADMIN".into());
    }
    for tool in ["ip", "ping", "curl", "nc", "tc"] {
        let found = std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()));
        if !found {
            return Err(format!("`{tool}` is not installed (tests/run installs it with apt-get as root)"));
        }
    }
    if !Path::new("/dev/net/tun").exists() {
        return Err("no /dev/net/tun".into());
    }
    Ok(())
}

/// Runs a command with a time limit; returns its output.
fn run(cmd: &mut Command, limit: Duration) -> Output {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    child.wait_with_output().expect("output")
}

struct Netns {
    name: String,
    card: Option<Child>,
    dir: PathBuf,
}

impl Netns {
    fn create() -> Netns {
        let name = format!("nic-test-{}", std::process::id());
        let ns = Netns { name: name.clone(), card: None, dir: std::env::temp_dir().join(&name) };
        let ok = |args: &[&str]| {
            let out = run(Command::new("ip").args(args), Duration::from_secs(10));
            assert!(out.status.success(), "ip {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        };
        ok(&["netns", "add", &name]);
        ok(&["netns", "exec", &name, "ip", "link", "set", "lo", "up"]);
        ok(&["netns", "exec", &name, "ip", "tuntap", "add", "dev", "tap0", "mode", "tap"]);
        ok(&["netns", "exec", &name, "ip", "addr", "add", "198.18.0.1/24", "dev", "tap0"]);
        ok(&["netns", "exec", &name, "ip", "link", "set", "tap0", "up"]);
        ns
    }

    fn exec(&self, args: &[&str], limit: Duration) -> Output {
        run(Command::new("ip").args(["netns", "exec", &self.name]).args(args), limit)
    }

    /// Start `nic tap` in the namespace and wait until it answers ping.
    fn start_card(&mut self, extra: &[&str]) {
        self.stop_card();
        let mut args = vec!["netns", "exec", &self.name, env!("CARGO_BIN_EXE_nic"), "tap", "--tap", "tap0"];
        let dir = self.dir.display().to_string();
        args.extend(["--ip", "198.18.0.2/24", "--http", &dir, "--echo", "7", "--duration", "300"]);
        args.extend(extra);
        let child = Command::new("ip")
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn nic tap");
        self.card = Some(child);
        let end = Instant::now() + Duration::from_secs(120);
        while Instant::now() < end {
            if self.exec(&["ping", "-c", "1", "-W", "2", CARD_IP], Duration::from_secs(5)).status.success() {
                return;
            }
        }
        panic!("the card never answered ping");
    }

    /// Stop the card with SIGTERM; returns what it printed.
    fn stop_card(&mut self) -> String {
        let Some(mut c) = self.card.take() else { return String::new() };
        // SAFETY: kill with a pid we spawned and have not reaped; SIGTERM asks it to stop.
        unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
        let end = Instant::now() + Duration::from_secs(20);
        while Instant::now() < end && c.try_wait().ok().flatten().is_none() {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = c.kill();
        let mut out = String::new();
        if let Some(s) = c.stdout.take() {
            for line in BufReader::new(s).lines().map_while(Result::ok) {
                out.push_str(&line);
                out.push('\n');
            }
        }
        let _ = c.wait();
        out
    }

    fn curl(&self, args: &[&str]) -> Output {
        let mut a = vec!["curl", "-s", "-m", "60"];
        a.extend(args);
        self.exec(&a, Duration::from_secs(70))
    }

    fn fetch_big(&self, into: &Path) -> Vec<u8> {
        let out =
            self.curl(&["-o", &into.display().to_string(), "-w", "%{http_code}", &format!("http://{CARD_IP}/big.bin")]);
        assert_eq!(String::from_utf8_lossy(&out.stdout), "200", "{}", String::from_utf8_lossy(&out.stderr));
        std::fs::read(into).unwrap()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        self.stop_card();
        let _ = run(Command::new("ip").args(["netns", "del", &self.name]), Duration::from_secs(10));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn status_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn linux_ping_curl_and_nc_against_the_simulated_card() {
    if let Err(why) = preflight() {
        assert!(!required(), "NIC_REQUIRE_NETNS=1 but {why}");
        eprintln!("skipped: {why}");
        return;
    }
    let mut ns = Netns::create();
    std::fs::create_dir_all(&ns.dir).unwrap();
    std::fs::write(ns.dir.join("index.html"), "<h1>the card</h1>\n").unwrap();
    let big: Vec<u8> = (0..256 * 1024u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    std::fs::write(ns.dir.join("big.bin"), &big).unwrap();
    ns.start_card(&[]);

    let ping = ns.exec(&["ping", "-c", "3", "-W", "5", CARD_IP], Duration::from_secs(30));
    assert!(
        ping.status.success() && String::from_utf8_lossy(&ping.stdout).contains("3 received"),
        "{}",
        String::from_utf8_lossy(&ping.stdout)
    );

    let code = |args: &[&str]| {
        let mut a = vec!["-o", "/dev/null", "-w", "%{http_code}"];
        a.extend(args);
        status_of(&ns.curl(&a))
    };
    assert_eq!(code(&[&format!("http://{CARD_IP}/")]), "200");
    assert_eq!(code(&[&format!("http://{CARD_IP}/missing.html")]), "404");
    assert_eq!(code(&["-X", "DELETE", &format!("http://{CARD_IP}/index.html")]), "405");
    assert_eq!(code(&["-I", &format!("http://{CARD_IP}/index.html")]), "200");
    let page = ns.curl(&[&format!("http://{CARD_IP}/"), &format!("http://{CARD_IP}/index.html")]);
    assert_eq!(
        String::from_utf8_lossy(&page.stdout),
        "<h1>the card</h1>\n<h1>the card</h1>\n",
        "two requests, one connection"
    );

    let got = ns.fetch_big(&ns.dir.join("got.bin"));
    assert!(got == big, "256 KiB file differs ({} bytes)", got.len());

    // nc: TCP echo (half-close after sending) and UDP echo.
    let mut tcp = Command::new("ip")
        .args(["netns", "exec", &ns.name, "timeout", "20", "nc", "-N", CARD_IP, "7"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let msg: Vec<u8> = (0..30_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    tcp.stdin.take().unwrap().write_all(&msg).unwrap();
    let out = tcp.wait_with_output().unwrap();
    assert!(out.stdout == msg, "TCP echo: {} of {} bytes", out.stdout.len(), msg.len());
    let mut udp = Command::new("ip")
        .args(["netns", "exec", &ns.name, "timeout", "5", "nc", "-u", "-w", "2", CARD_IP, "7"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    udp.stdin.take().unwrap().write_all(b"datagram through the card\n").unwrap();
    let out = udp.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "datagram through the card\n");

    // Loss and reordering: netem on the Linux side when the kernel has it, else the line
    // model's own (both directions).
    let netem = ns.exec(
        &["tc", "qdisc", "add", "dev", "tap0", "root", "netem", "loss", "5%", "reorder", "25%", "50%", "delay", "1ms"],
        Duration::from_secs(10),
    );
    if !netem.status.success() {
        eprintln!(
            "note: tc netem is not available here ({}); the line model drops 5% and reorders 5% of frames instead",
            String::from_utf8_lossy(&netem.stderr).trim()
        );
        ns.start_card(&["--loss", "0.05", "--reorder", "0.05", "--seed", "7"]);
    }
    let got = ns.fetch_big(&ns.dir.join("got-lossy.bin"));
    assert!(got == big, "256 KiB file differs under loss and reordering");

    let printed = ns.stop_card();
    assert!(printed.contains("nic tap: stopping"), "{printed}");
    assert!(printed.contains("HTTP") && printed.contains("TAP      frames from Linux"), "{printed}");
}
