//! Two network namespaces joined by a veth pair, made by a test and removed when it ends
//! (`clients.md` 7.2 and 7.5): a "client" side with one address and a "device" side with as
//! many addresses as the emulated rig has devices.
//!
//! Names carry a fixed prefix and the test process's PID, so parallel tests never meet, and a
//! namespace left by a process that died (killed before its `Drop` ran) is recognised and
//! removed by the next run. Every `ip` call is bounded by `timeout`. Traffic stays inside the
//! pair: the namespaces have no route anywhere else.
//!
//! Without root and outside CI the pair cannot be made and the caller skips with a message;
//! under CI (`CI` set) failing to make it fails the test.

use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

/// Every namespace these tests make starts with this.
pub const PREFIX: &str = "djdt";

/// A client namespace and a device namespace joined by a veth pair on 169.254.0.0/16.
pub struct NetnsPair {
    pub client: String,
    pub device: String,
    pub client_if: String,
    pub device_if: String,
    pub client_ip: Ipv4Addr,
    pub device_ips: Vec<Ipv4Addr>,
    pub prefix_len: u8,
}

/// True when `CI` is set to something other than false/0.
pub fn in_ci() -> bool {
    std::env::var("CI")
        .map(|v| !v.is_empty() && v != "false" && v != "0")
        .unwrap_or(false)
}

/// Print that `test` was skipped and why (straight to stderr: libtest captures `eprintln!`).
pub fn skip(test: &str, why: &str) {
    use std::io::Write;
    let line = format!("\n{test}: SKIPPED: {why}\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// Run `ip ARGS` with a 10 s bound; Err with its stderr when it fails.
fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("timeout")
        .arg("10")
        .arg("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// Delete namespaces with our prefix whose creating process is gone.
fn remove_stale() {
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else {
        return;
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        let Some(rest) = name.strip_prefix(PREFIX) else {
            continue;
        };
        // djdt<tag>-<pid>-c / -d
        let pid = rest.split('-').nth(1).and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid {
            if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                let _ = ip(&["netns", "del", name]);
            }
        }
    }
}

impl NetnsPair {
    /// Make the pair for `test` (tag: two or three letters naming the test) with `devices`
    /// addresses on the device side. None when the caller should skip (said on stderr).
    pub fn create(test: &str, tag: &str, devices: usize) -> Option<NetnsPair> {
        if !is_root() {
            if in_ci() {
                panic!("{test}: network namespaces need root (CI is set)");
            }
            skip(test, "network namespaces need root");
            return None;
        }
        remove_stale();
        let pid = std::process::id();
        let pair = NetnsPair {
            client: format!("{PREFIX}{tag}-{pid}-c"),
            device: format!("{PREFIX}{tag}-{pid}-d"),
            // Interface names are at most 15 bytes.
            client_if: format!("{tag}{}c", pid % 1_000_000),
            device_if: format!("{tag}{}d", pid % 1_000_000),
            client_ip: Ipv4Addr::new(169, 254, 10, 1),
            device_ips: (0..devices as u8)
                .map(|i| Ipv4Addr::new(169, 254, 10, 2 + i))
                .collect(),
            prefix_len: 16,
        };
        match pair.build() {
            Ok(()) => Some(pair),
            Err(e) if in_ci() => panic!("{test}: cannot make network namespaces: {e}"),
            Err(e) => {
                skip(test, &format!("cannot make network namespaces: {e}"));
                None
            }
        }
    }

    fn build(&self) -> Result<(), String> {
        ip(&["netns", "add", &self.client])?;
        ip(&["netns", "add", &self.device])?;
        ip(&[
            "link",
            "add",
            &self.client_if,
            "type",
            "veth",
            "peer",
            "name",
            &self.device_if,
        ])?;
        ip(&["link", "set", &self.client_if, "netns", &self.client])?;
        ip(&["link", "set", &self.device_if, "netns", &self.device])?;
        let plen = self.prefix_len;
        let client_addr = format!("{}/{plen}", self.client_ip);
        ip(&[
            "-n",
            &self.client,
            "addr",
            "add",
            &client_addr,
            "dev",
            &self.client_if,
        ])?;
        for a in &self.device_ips {
            let addr = format!("{a}/{plen}");
            ip(&[
                "-n",
                &self.device,
                "addr",
                "add",
                &addr,
                "dev",
                &self.device_if,
            ])?;
        }
        for (ns, ifname) in [
            (&self.client, &self.client_if),
            (&self.device, &self.device_if),
        ] {
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
            ip(&["-n", ns, "link", "set", ifname, "up"])?;
        }
        Ok(())
    }

    /// A command that runs `program` inside namespace `ns` (one of the pair's).
    pub fn exec(&self, ns: &str, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", ns, program]);
        c
    }
}

impl Drop for NetnsPair {
    fn drop(&mut self) {
        // Deleting a namespace deletes the veth end inside it, and with it the other end.
        let _ = ip(&["netns", "del", &self.client]);
        let _ = ip(&["netns", "del", &self.device]);
    }
}
