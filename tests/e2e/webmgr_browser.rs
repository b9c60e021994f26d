//! The WebManager in a real browser: Debian's headless Chromium driven through
//! chromedriver (WebDriver) by `fantoccini`. An operator loads the overview, tries to stop
//! a group without the operation password (refused), then with a wrong one (refused), then
//! with the right one: the group goes Offline and the alert appears in the live table. A
//! WebManager whose allow-list leaves out 127.0.0.1 refuses the page. Screenshots go to
//! `target/test-artifacts/`.
//!
//! Chromium and chromedriver come from `.ci/setup.d/chromium.sh`; without them this test
//! fails and says so.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

use crate::harness::*;
use crate::webmgr::webmgr_cluster;
use crate::webmgr_http::*;

/// The browser waits at most this long for something to show.
const SHOW: Duration = Duration::from_secs(15);

/// The Chromium binary itself (Debian's `/usr/bin/chromium` is a wrapper script that adds
/// flags of its own).
fn chromium() -> Option<PathBuf> {
    let direct = PathBuf::from("/usr/lib/chromium/chromium");
    if direct.is_file() {
        return Some(direct);
    }
    on_path("chromium")
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

/// chromedriver on a free loopback port, with the browser profile it uses; dropping it
/// ends chromedriver and every browser process of that profile.
struct Driver {
    child: Child,
    port: u16,
    profile: tempfile::TempDir,
}

impl Driver {
    fn start() -> Driver {
        let setup = "run .ci/setup.d/chromium.sh (as root) to install Debian's chromium and chromium-driver";
        let driver = on_path("chromedriver")
            .unwrap_or_else(|| panic!("chromedriver is not installed: {setup}"));
        assert!(chromium().is_some(), "chromium is not installed: {setup}");
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = free.local_addr().unwrap().port();
        drop(free);
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::Builder::new()
            .prefix("clp-chromium-")
            .tempdir()
            .unwrap();
        let driver = Driver {
            child,
            port,
            profile,
        };
        let address: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        wait_until("chromedriver answers", WAIT, || {
            std::net::TcpStream::connect(address).is_ok() && get(address, "/status").status == 200
        });
        driver
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn capabilities(&self) -> serde_json::Map<String, serde_json::Value> {
        let binary = chromium().map(|p| p.display().to_string());
        let options = serde_json::json!({
            "binary": binary,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                format!("--user-data-dir={}", self.profile.path().display()),
            ],
        });
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), options);
        capabilities
    }

    /// The browser processes of this driver's profile.
    fn browser_processes(&self) -> Vec<u32> {
        let marker = self.profile.path().display().to_string();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains(&marker))
            })
            .collect()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for pid in self.browser_processes() {
            signal(pid, libc::SIGKILL);
        }
    }
}

/// `target/test-artifacts/<name>`.
fn artifact(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf)
        .join("test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

async fn save_screenshot(browser: &Client, name: &str) {
    let png = browser.screenshot().await.expect("a screenshot");
    std::fs::write(artifact(name), png).expect("write the screenshot");
}

/// Waits until `script` (a JavaScript expression) is true in the page.
async fn wait_for_script(browser: &Client, what: &str, script: &str) {
    let deadline = Instant::now() + SHOW;
    loop {
        let value = browser
            .execute(&format!("return Boolean({script});"), Vec::new())
            .await
            .expect("run a script");
        if value == serde_json::Value::Bool(true) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn shown(browser: &Client, css: &str) -> fantoccini::elements::Element {
    browser
        .wait()
        .at_most(SHOW)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("{css} did not show: {error}"))
}

/// Clicks the element `css` selects; found again when the page redrew it between the find
/// and the click (the live view re-renders the tables).
async fn click(browser: &Client, css: &str) {
    let deadline = Instant::now() + SHOW;
    loop {
        match shown(browser, css).await.click().await {
            Ok(_) => return,
            Err(error) if error.is_stale_element_reference() && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => panic!("a click on {css}: {error}"),
        }
    }
}

/// The group's Stop button, once enabled (buttons are disabled while an operation runs).
const STOP: &str = "#groups button[data-op=\"/api/v1/groups/failover/stop\"]:not([disabled])";
const FAILOVER_STATE: &str = "#groups tr[data-object=\"group:failover\"] .state";

/// Clicks the group's Stop button and confirms: the password box comes up.
async fn stop_failover_until_asked(browser: &Client) {
    click(browser, STOP).await;
    click(browser, "#dialog:not([hidden]) #dialog-ok").await;
    shown(browser, "#password-box:not([hidden]) #password-input").await;
}

async fn operator_story(browser: &Client, cluster: &Cluster, addr: SocketAddr) {
    browser.set_window_size(1280, 1000).await.unwrap();
    browser.goto(&format!("http://{addr}/")).await.unwrap();
    shown(
        browser,
        &format!("{FAILOVER_STATE}[data-status=\"Online\"]"),
    )
    .await;
    shown(browser, "#live.on").await;

    // Without the password: refused, nothing stopped.
    stop_failover_until_asked(browser).await;
    click(browser, "#password-cancel").await;
    let banner = shown(browser, "#banner.error").await.text().await.unwrap();
    assert!(banner.contains("A password is needed"), "{banner}");
    assert_eq!(cluster.resource_status("exec"), "Online");

    // A wrong password: asked again, nothing stopped.
    stop_failover_until_asked(browser).await;
    let input = shown(browser, "#password-input").await;
    input.send_keys("wrong").await.unwrap();
    click(browser, "#password-ok").await;
    wait_for_script(
        browser,
        "the password box again, emptied",
        "!document.getElementById('password-box').hidden && document.getElementById('password-input').value === ''",
    )
    .await;
    assert_eq!(cluster.resource_status("exec"), "Online");

    // The operation password: the group goes Offline, the alert shows up live.
    let input = shown(browser, "#password-input").await;
    input.send_keys("op-secret").await.unwrap();
    click(browser, "#password-ok").await;
    shown(
        browser,
        &format!("{FAILOVER_STATE}[data-status=\"Offline\"]"),
    )
    .await;
    browser
        .wait()
        .at_most(SHOW)
        .for_element(Locator::XPath(
            "//tbody[@id='alert-rows']//td[@class='message' and text()='Stopping group failover has completed.']",
        ))
        .await
        .expect("the rc 21 alert in the live table");
    let banner = shown(browser, "#banner.ok").await.text().await.unwrap();
    assert_eq!(banner, "Command succeeded.");
    assert_eq!(cluster.resource_status("exec"), "Offline");
    save_screenshot(browser, "webmgr-overview.png").await;

    // The detail view of the monitor: its counters and parameters.
    browser
        .goto(&format!("http://{addr}/#monitor:userw"))
        .await
        .unwrap();
    shown(browser, "#counters").await;
    wait_for_script(
        browser,
        "the monitor's parameters",
        "document.querySelector('#detail').textContent.includes('Interval (sec)')",
    )
    .await;
    save_screenshot(browser, "webmgr-monitor.png").await;
}

/// The integrated viewer: this server (a group is offline: yellow), one that refuses this
/// client and a closed port (both unreachable).
async fn viewer_story(browser: &Client, addr: SocketAddr) {
    browser
        .goto(&format!("http://{addr}/clusterlist"))
        .await
        .unwrap();
    shown(browser, "#servers tr[data-colour=\"yellow\"]").await;
    let unreachable = browser
        .find_all(Locator::Css("#servers tr[data-colour=\"unreachable\"]"))
        .await
        .unwrap();
    assert_eq!(unreachable.len(), 2);
    let text = shown(browser, "#servers").await.text().await.unwrap();
    assert!(text.contains("HTTP status 403"), "{text}");
    save_screenshot(browser, "webmgr-clusterlist.png").await;
}

async fn refused_story(browser: &Client, addr: SocketAddr) {
    browser.goto(&format!("http://{addr}/")).await.unwrap();
    let refusal = shown(browser, "#refusal").await.text().await.unwrap();
    assert!(
        refusal.contains("127.0.0.1 is not on the WebManager's allow-list"),
        "{refusal}"
    );
    assert!(
        browser.find(Locator::Css("#groups")).await.is_err(),
        "no overview for a refused client"
    );
    save_screenshot(browser, "webmgr-refused.png").await;
}

#[test]
fn an_operator_stops_a_group_from_the_browser() {
    let driver = Driver::start();
    let fenced = webmgr_cluster("[webmanager]\nallow = [\"10.0.0.0/8\"]\n");
    let fenced_addr = start_webmgr(&fenced);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_addr = closed.local_addr().unwrap();
    drop(closed);
    let cluster = webmgr_cluster(&format!(
        "[webmanager]\nservers = [\"http://{fenced_addr}\", \"http://{closed_addr}\"]\nviewer_timeout = 2\n"
    ));
    cluster.start();
    wait_until("failover online", WAIT, || {
        cluster.resource_status("exec") == "Online"
    });
    cluster
        .run("clpwebmgr", &["--set-password", "operation", "op-secret"])
        .success();
    let addr = start_webmgr(&cluster);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let browser = ClientBuilder::new(connector)
            .capabilities(driver.capabilities())
            .connect(&driver.url())
            .await
            .expect("a Chromium session through chromedriver");
        operator_story(&browser, &cluster, addr).await;
        viewer_story(&browser, addr).await;
        refused_story(&browser, fenced_addr).await;
        browser.close().await.expect("close the browser");
    });
    cluster.stop();
}
