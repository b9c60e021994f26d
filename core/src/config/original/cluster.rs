//! The cluster, its server, the heartbeats and the WebManager settings.

use super::converter::Converter;
use super::element::Element;
use super::model::Model;

impl Converter {
    /// the `ip@ADDRESS` entries (`[webmanager] allow`); 0 is no restriction.
    pub(super) fn client_list(&mut self, webmgr: &Element, model: &mut Model) {
        let Some(list) = webmgr.peek("security/clientlist") else {
            return;
        };
        webmgr.take("security/clientlist");
        let addresses: Vec<String> = list
            .all("ip")
            .filter_map(|ip| {
                ip.mark_all();
                ip.key.clone()
            })
            .collect();
        let Some(iprest) = list.take("iprest") else {
            model.webmanager_allow = addresses;
            return;
        };
        match iprest.value() {
            "0" => {}
            "1" if addresses.is_empty() => self.report(
                iprest,
                "the client list names no address; clp's [webmanager] allow names the clients allowed, and an empty one allows every client",
            ),
            "1" => model.webmanager_allow = addresses,
            _ => self.report(iprest, "not 0 or 1"),
        }
    }

    pub(super) fn all_section(&mut self, root: &Element, model: &mut Model) {
        // The encoding was used to read the file; the character set also tells the language
        // the original was set to.
        if let Some(charset) = root.take_text("all/charset") {
            let (language, note) = super::super::language::from_original_charset(&charset);
            model.language = language;
            self.notes.extend(note);
        }
        root.take("all/encode");
        if let Some(os) = root.take("all/serveros")
            && !os.value().eq_ignore_ascii_case("linux")
        {
            self.report(os, "clp runs on Linux; check every path and script");
        }
    }

    pub(super) fn cluster(&mut self, root: &Element, model: &mut Model) {
        if root.take("cluster").is_none() {
            return;
        }
        model.cluster_name = root.take_text("cluster/name");
        model.cluster_comment = root
            .take_text("cluster/comment")
            .filter(|comment| !comment.is_empty());
    }

    pub(super) fn servers(&mut self, root: &Element, model: &mut Model) {
        for (index, server) in root.all("server").enumerate() {
            if index > 0 {
                self.report(server, "clp runs on one server; this one is left out");
                continue;
            }
            server.mark();
            model.server = server.key.clone();
            self.accept_at(server, "priority", &["0"], "one server: it is the first");
            model.server_comment = server
                .take_text("comment")
                .filter(|comment| !comment.is_empty());
            for device in server.all("device") {
                let is_loopback_lan = device.peek("type").is_some_and(|t| t.value() == "lan");
                if is_loopback_lan {
                    // The interconnect of the built-in heartbeat; a single server needs no
                    // other address.
                    device.mark_all();
                } else {
                    self.report(device, "heartbeat and network partition devices are for clusters of several servers");
                }
            }
        }
    }

    pub(super) fn heartbeats(&mut self, root: &Element) {
        let Some(heartbeat) = root.peek("heartbeat") else {
            return;
        };
        heartbeat.mark();
        for element in &heartbeat.children {
            match element.tag.as_str() {
                "types" => {
                    element.mark();
                }
                // clpstat's lanhb1: the built-in heartbeat of a single server.
                "lanhb" => element.mark_all(),
                _ => self.report(
                    element,
                    "heartbeats other than the built-in LAN heartbeat are for clusters of several servers",
                ),
            }
        }
    }
}
