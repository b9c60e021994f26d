//! The converter: what it reports, the helpers every part uses, and the order of the parts.

use super::Unsupported;
use super::element::Element;
use super::model::Model;

#[derive(Default)]
pub(super) struct Converter {
    pub(super) unsupported: Vec<Unsupported>,
    pub(super) notes: Vec<String>,
}

impl Converter {
    pub(super) fn report(&mut self, element: &Element, reason: impl Into<String>) {
        element.mark_all();
        self.unsupported.push(Unsupported {
            path: element.path.clone(),
            value: element.leaf_value(),
            reason: reason.into(),
        });
    }

    /// Accepts the element at `path` under `parent` when its value is what clp does anyway;
    /// reports any other value.
    pub(super) fn accept_at(
        &mut self,
        parent: &Element,
        path: &str,
        accepted: &[&str],
        reason: &str,
    ) {
        let (folder, leaf) = path.rsplit_once('/').unwrap_or(("", path));
        let container = if folder.is_empty() {
            Some(parent)
        } else {
            parent.peek(folder)
        };
        let Some(element) = container.and_then(|c| c.children.iter().find(|e| e.tag == leaf))
        else {
            return;
        };
        if !folder.is_empty() {
            parent.take(folder);
        }
        self.accept_if(Some(element), accepted, reason);
    }

    /// Accepts an element whose value is what clp does anyway; reports any other value.
    pub(super) fn accept_if(&mut self, element: Option<&Element>, accepted: &[&str], reason: &str) {
        let Some(element) = element else {
            return;
        };
        if element.is_leaf() && accepted.contains(&element.value()) {
            element.mark();
        } else {
            self.report(element, reason);
        }
    }

    pub(super) fn integer(&mut self, element: Option<&Element>) -> Option<i64> {
        let element = element?;
        match element.value().parse::<i64>() {
            Ok(value) => Some(value),
            Err(_) => {
                self.report(element, "not a number");
                None
            }
        }
    }

    pub(super) fn convert(&mut self, root: &Element) -> Model {
        let mut model = Model::default();
        self.all_section(root, &mut model);
        self.cluster(root, &mut model);
        self.servers(root, &mut model);
        self.heartbeats(root);
        if let Some(webmgr) = root.peek("webmgr") {
            webmgr.mark();
            // The Builder's count of objects: it describes the file, not the cluster.
            webmgr.take("client/objectnumber");
            self.client_list(webmgr, &mut model);
        }
        if let Some(value) = root.take("rm/errordetect/norecovery") {
            match value.value() {
                "0" => model.disable_monitor_recovery = Some(false),
                "1" => model.disable_monitor_recovery = Some(true),
                _ => self.report(value, "not 0 or 1"),
            }
        }
        for kind in ["rscact", "rscdeact"] {
            self.accept_at(
                root,
                &format!("rc/errordetect/{kind}/norecovery"),
                &["0"],
                "recovery is always on for group resources here (their retry and final action)",
            );
        }
        model.groups = self.groups(root);
        model.monitors = self.monitors(root, &model);
        model
    }
}
