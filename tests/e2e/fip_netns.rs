//! The fip resource and the fipw monitor on a real link: clppm runs in a server namespace
//! joined by a veth pair to a client namespace (TEST-NET-1, server `.11`, client `.19`,
//! floating `.100`). The client reaches the group's service through the floating address,
//! learns the server's MAC from the gratuitous ARP, and a client that holds the address
//! itself makes activation fail with `fip 10`.

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::ha_bed::client::in_netns;
use crate::harness::*;
use crate::netns::{ip, is_root};

const SERVER: &str = "192.0.2.11";
const CLIENT: &str = "192.0.2.19";
const FLOATING: &str = "192.0.2.100";
/// A MAC that no interface of the test has: the client's stale entry for the floating
/// address, as if another server had held it.
const STALE_MAC: &str = "02:00:00:00:00:99";

/// The two namespaces and the veth pair between them; removed on drop.
struct Link {
    server: String,
    client: String,
    server_end: String,
    client_end: String,
}

impl Link {
    fn create(tag: &str) -> Option<Link> {
        Link::create_with(tag, &[SERVER, "24"], &[CLIENT, "24"])
    }

    /// The pair with the server's and the client's `[address, prefix]`; an IPv6 address is
    /// added without duplicate address detection, so it serves at once.
    fn create_with(tag: &str, server: &[&str; 2], client: &[&str; 2]) -> Option<Link> {
        if !is_root() {
            eprintln!("skipped: this test makes network namespaces, which needs root");
            return None;
        }
        let pid = std::process::id();
        let link = Link {
            server: format!("clp-{tag}s-{pid}"),
            client: format!("clp-{tag}c-{pid}"),
            server_end: format!("{tag}s{pid}"),
            client_end: format!("{tag}c{pid}"),
        };
        ip(&["netns", "add", &link.server]);
        ip(&["netns", "add", &link.client]);
        ip(&[
            "link",
            "add",
            &link.server_end,
            "netns",
            &link.server,
            "type",
            "veth",
            "peer",
            "name",
            &link.client_end,
            "netns",
            &link.client,
        ]);
        for (netns, end, [address, prefix]) in [
            (&link.server, &link.server_end, server),
            (&link.client, &link.client_end, client),
        ] {
            ip(&["-n", netns, "link", "set", "lo", "up"]);
            let cidr = format!("{address}/{prefix}");
            let mut add = vec!["-n", netns.as_str(), "addr", "add", &cidr, "dev", end];
            if address.contains(':') {
                add.push("nodad");
            }
            ip(&add);
            ip(&["-n", netns, "link", "set", end, "up"]);
        }
        Some(link)
    }

    /// `ip -n SERVER addr show dev END`.
    fn server_addresses(&self) -> String {
        ip(&["-n", &self.server, "addr", "show", "dev", &self.server_end])
    }

    fn server_mac(&self) -> String {
        std::fs::read_to_string(format!("/sys/class/net/{}/address", self.server_end))
            .ok()
            .unwrap_or_else(|| {
                ip(&["-n", &self.server, "-br", "link", "show", &self.server_end])
                    .split_whitespace()
                    .nth(2)
                    .unwrap_or_default()
                    .to_string()
            })
    }

    /// The client's neighbour entry for `address`.
    fn client_neighbour(&self, address: &str) -> String {
        ip(&[
            "-n",
            &self.client,
            "neigh",
            "show",
            address,
            "dev",
            &self.client_end,
        ])
    }

    /// Starts clppm inside the server namespace (`clpcl -s` there).
    fn start(&self, cluster: &Cluster) {
        let output = Command::new("ip")
            .args(["netns", "exec", &self.server])
            .arg(bin("clpcl"))
            .arg("-s")
            .env("CLP_ROOT", cluster.root())
            .env("CLP_FORBID_OS_ACTIONS", "1")
            .env_remove("CLP_LOG")
            .stdin(Stdio::null())
            .output()
            .expect("run clpcl in the server namespace");
        assert!(
            output.status.success(),
            "clpcl -s: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        for netns in [&self.server, &self.client] {
            let _ = Command::new("ip")
                .args(["netns", "del", netns])
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// The greeting of the service at `address:port`, asked from the client namespace.
fn ask(link: &Link, address: &str, port: u16) -> Result<String, String> {
    let target = SocketAddr::new(address.parse().expect("address"), port);
    in_netns(&link.client, move || {
        let mut stream = TcpStream::connect_timeout(&target, Duration::from_secs(2))
            .map_err(|error| format!("{target}: {error}"))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .map_err(|error| error.to_string())?;
        let mut greeting = String::new();
        stream
            .read_to_string(&mut greeting)
            .map_err(|error| format!("{target}: {error}"))?;
        Ok(greeting.trim().to_string())
    })
}

fn config(port: u16, fip_parameters: &str) -> String {
    config_for(FLOATING, port, fip_parameters)
}

fn config_for(floating: &str, port: u16, fip_parameters: &str) -> String {
    format!(
        r#"
[cluster]
name = "zabi"

[[group]]
name = "failover"
[[group.resource]]
name = "fip1"
type = "fip"
[group.resource.parameters]
ip = "{floating}"
{fip_parameters}

[[group.resource]]
name = "service"
mode = "async"
depends_on = ["fip1"]

[[monitor]]
name = "fipw1"
type = "fipw"
target = "fip1"
interval = 0.5
timeout = 5
retry = 0
[monitor.parameters]
monmii = 1
[monitor.recovery]
reactivation_threshold = 3
final_action = "none"

# A service on port {port}.
"#
    )
}

/// The service: greets each client with `fip-service` and closes (IPv6 and IPv4).
fn service(cluster: &Cluster, port: u16) {
    cluster.script(
        "failover",
        "service",
        "start.sh",
        &format!(
            "exec /usr/bin/python3 -c '\nimport socket\ns = socket.socket(socket.AF_INET6)\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\ns.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)\ns.bind((\"::\", {port}))\ns.listen()\nwhile True:\n    c, _ = s.accept()\n    c.sendall(b\"fip-service\\n\")\n    c.close()\n'"
        ),
    );
}

#[test]
fn a_floating_ip_serves_a_client_is_announced_watched_and_removed_in_a_netns() {
    let Some(link) = Link::create("fipa") else {
        return;
    };
    let port = 24_000 + (std::process::id() % 1000) as u16;
    let cluster = Cluster::with_config(&config(port, ""));
    service(&cluster, port);
    // The client believes another host holds the address (a stale entry, as after a
    // failover): the gratuitous ARP must correct it before the client sends anything.
    ip(&[
        "-n",
        &link.client,
        "neigh",
        "replace",
        FLOATING,
        "lladdr",
        STALE_MAC,
        "dev",
        &link.client_end,
        "nud",
        "stale",
    ]);
    assert!(!link.server_addresses().contains(FLOATING));
    link.start(&cluster);
    wait_until("fip1 and the service online", WAIT, || {
        cluster.resource_status("fip1") == "Online"
            && cluster.resource_status("service") == "Online"
    });
    assert!(
        link.server_addresses()
            .contains(&format!("inet {FLOATING}/24")),
        "{}",
        link.server_addresses()
    );
    let server_mac = link.server_mac();
    wait_until(
        "the client learned the server's MAC from the GARP",
        WAIT,
        || link.client_neighbour(FLOATING).contains(server_mac.trim()),
    );

    wait_until(
        "the client reaches the service through the fip",
        WAIT,
        || ask(&link, FLOATING, port).is_ok_and(|greeting| greeting == "fip-service"),
    );

    // Taken away by hand: fipw sees it and the ladder puts it back.
    ip(&[
        "-n",
        &link.server,
        "addr",
        "del",
        &format!("{FLOATING}/24"),
        "dev",
        &link.server_end,
    ]);
    wait_until("fipw1 detects the missing address", WAIT, || {
        cluster.alerts().contains(
            "rm 9 Detected an error in monitoring fipw1. (1 : 192.0.2.100 is on no interface)",
        )
    });
    wait_until("the ladder restores the address", WAIT, || {
        link.server_addresses().contains(FLOATING)
            && cluster
                .alerts()
                .contains("Recovery target fip1 has restarted")
    });
    wait_until("fipw1 normal again", WAIT, || {
        cluster.monitor_status("fipw1") == "Normal"
    });
    assert_eq!(ask(&link, FLOATING, port).as_deref(), Ok("fip-service"));

    // Deactivation takes it away; deactivating it again (absent) succeeds.
    cluster.run("clpgrp", &["-t", "failover"]).success();
    assert!(!link.server_addresses().contains(FLOATING));
    assert_eq!(cluster.resource_status("fip1"), "Offline");
    cluster.stop();
    assert!(!cluster.alerts().contains("fip 10"), "{}", cluster.alerts());
}

#[test]
fn an_address_held_by_another_host_is_refused_with_fip_10_unless_forced_in_a_netns() {
    let Some(link) = Link::create("fipd") else {
        return;
    };
    let port = 25_000 + (std::process::id() % 1000) as u16;
    let cluster = Cluster::with_config(&config(port, ""));
    service(&cluster, port);
    // The client holds the floating address itself.
    ip(&[
        "-n",
        &link.client,
        "addr",
        "add",
        &format!("{FLOATING}/24"),
        "dev",
        &link.client_end,
    ]);
    link.start(&cluster);
    wait_until("fip 10 in the alert log", WAIT, || {
        cluster
            .alerts()
            .contains("fip 10 IP address 192.0.2.100 already exists on the network.")
    });
    wait_until("fip1's activation failed", WAIT, || {
        cluster.resource_status("fip1") == "Online Failure"
    });
    assert!(!link.server_addresses().contains(FLOATING));
    assert_ne!(
        cluster.resource_status("service"),
        "Online",
        "started after a failed fip"
    );
    let group = cluster.status()["groups"][0]["status"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        ["Online Pending", "Error", "Online Failure"].contains(&group.as_str()),
        "the group after a refused fip: {group}"
    );
    cluster.stop();

    // Forced activation: the address comes up anyway, with fip 11.
    cluster.write_config(&config(port, "forced_activation = 1"));
    link.start(&cluster);
    wait_until("fip1 online by force", WAIT, || {
        cluster.resource_status("fip1") == "Online"
    });
    assert!(
        cluster
            .alerts()
            .contains("fip 11 IP address 192.0.2.100 will be forcefully activated."),
        "{}",
        cluster.alerts()
    );
    assert!(link.server_addresses().contains(FLOATING));
    cluster.stop();
    assert!(!link.server_addresses().contains(FLOATING));
}

#[test]
fn an_address_already_on_the_server_is_taken_as_it_is_in_a_netns() {
    let Some(link) = Link::create("fipi") else {
        return;
    };
    let port = 26_000 + (std::process::id() % 1000) as u16;
    let cluster = Cluster::with_config(&config(port, ""));
    service(&cluster, port);
    ip(&[
        "-n",
        &link.server,
        "addr",
        "add",
        &format!("{FLOATING}/24"),
        "dev",
        &link.server_end,
    ]);
    link.start(&cluster);
    wait_until("fip1 online", WAIT, || {
        cluster.resource_status("fip1") == "Online"
    });
    assert_eq!(link.server_addresses().matches(FLOATING).count(), 1);
    // Gone by hand (fipw suspended, so nothing puts it back), then stopped: an absent
    // address stops fine.
    cluster.run("clpmonctrl", &["-s", "-m", "fipw1"]).success();
    ip(&[
        "-n",
        &link.server,
        "addr",
        "del",
        &format!("{FLOATING}/24"),
        "dev",
        &link.server_end,
    ]);
    cluster.run("clprsc", &["-t", "service"]).success();
    cluster.run("clprsc", &["-t", "fip1"]).success();
    assert_eq!(cluster.resource_status("fip1"), "Offline");
    assert!(!link.server_addresses().contains(FLOATING));
    cluster.stop();
}

#[test]
fn an_ipv6_floating_ip_is_probed_advertised_and_serves_a_client_in_a_netns() {
    const SERVER6: &str = "2001:db8::11";
    const CLIENT6: &str = "2001:db8::19";
    const FLOATING6: &str = "2001:db8::100";
    let Some(link) = Link::create_with("fip6", &[SERVER6, "64"], &[CLIENT6, "64"]) else {
        return;
    };
    let port = 27_000 + (std::process::id() % 1000) as u16;
    let cluster = Cluster::with_config(&config_for(FLOATING6, port, ""));
    service(&cluster, port);
    ip(&[
        "-n",
        &link.client,
        "neigh",
        "replace",
        FLOATING6,
        "lladdr",
        STALE_MAC,
        "dev",
        &link.client_end,
        "nud",
        "stale",
    ]);
    link.start(&cluster);
    wait_until("fip1 and the service online", WAIT, || {
        cluster.resource_status("fip1") == "Online"
            && cluster.resource_status("service") == "Online"
    });
    assert!(
        link.server_addresses()
            .contains(&format!("inet6 {FLOATING6}/64")),
        "{}",
        link.server_addresses()
    );
    let server_mac = link.server_mac();
    wait_until(
        "the client learned the server's MAC from the unsolicited NA",
        WAIT,
        || link.client_neighbour(FLOATING6).contains(server_mac.trim()),
    );
    wait_until(
        "the client reaches the service through the fip",
        WAIT,
        || ask(&link, FLOATING6, port).is_ok_and(|greeting| greeting == "fip-service"),
    );
    cluster.stop();
    assert!(!link.server_addresses().contains(FLOATING6));

    // The client takes the address: duplicate address detection refuses it (fip 10).
    ip(&[
        "-n",
        &link.client,
        "addr",
        "add",
        &format!("{FLOATING6}/64"),
        "dev",
        &link.client_end,
        "nodad",
    ]);
    link.start(&cluster);
    wait_until("fip 10 in the alert log", WAIT, || {
        cluster
            .alerts()
            .contains("fip 10 IP address 2001:db8::100 already exists on the network.")
    });
    assert!(!link.server_addresses().contains(FLOATING6));
    cluster.stop();
}
