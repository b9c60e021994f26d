//! The document as a tree that remembers which elements the conversion used.

use std::cell::Cell;

use super::Unsupported;

// The document as a tree that remembers what was used

/// One element: its tag, its `name`/`id` attribute, its text and children, and whether the
/// conversion used it.
#[derive(Debug)]
pub(super) struct Element {
    pub(super) tag: String,
    pub(super) key: Option<String>,
    pub(super) text: String,
    pub(super) path: String,
    pub(super) children: Vec<Element>,
    pub(super) used: Cell<bool>,
}

impl Element {
    pub(super) fn from_node(node: roxmltree::Node<'_, '_>, parent: &str) -> Element {
        let tag = node.tag_name().name().to_string();
        let key = node
            .attribute("name")
            .or_else(|| node.attribute("id"))
            .map(str::to_string);
        let path = match &key {
            Some(key) => format!("{parent}/{tag}@{key}"),
            None => format!("{parent}/{tag}"),
        };
        let text: String = node
            .children()
            .filter(|child| child.is_text())
            .filter_map(|child| child.text())
            .collect();
        let children = node
            .children()
            .filter(|child| child.is_element())
            .map(|child| Element::from_node(child, &path))
            .collect();
        Element {
            tag,
            key,
            text,
            path,
            children,
            used: Cell::new(false),
        }
    }

    pub(super) fn is_leaf(&self) -> bool {
        self.children.is_empty()
    }

    /// The text of an element holding text (not of an empty or a containing one).
    pub(super) fn leaf_value(&self) -> Option<String> {
        (self.is_leaf() && !self.value().is_empty()).then(|| self.value().to_string())
    }

    /// The trimmed text.
    pub(super) fn value(&self) -> &str {
        self.text.trim()
    }

    pub(super) fn mark(&self) -> &Self {
        self.used.set(true);
        self
    }

    /// Marks this element and everything under it used.
    pub(super) fn mark_all(&self) {
        self.used.set(true);
        for child in &self.children {
            child.mark_all();
        }
    }

    /// The children with a tag (not marked).
    pub(super) fn all<'a>(&'a self, tag: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |child| child.tag == tag)
    }

    /// The element at `path` (`polling/interval`), marking every step.
    pub(super) fn take(&self, path: &str) -> Option<&Element> {
        let mut element = self;
        for step in path.split('/') {
            element = element.children.iter().find(|child| child.tag == step)?;
            element.mark();
        }
        Some(element)
    }

    /// The element at `path` without marking it.
    pub(super) fn peek(&self, path: &str) -> Option<&Element> {
        let mut element = self;
        for step in path.split('/') {
            element = element.children.iter().find(|child| child.tag == step)?;
        }
        Some(element)
    }

    /// The text at `path`, marking it used.
    pub(super) fn take_text(&self, path: &str) -> Option<String> {
        self.take(path).map(|element| element.value().to_string())
    }

    /// Reports what no mapping used: the topmost unused element of each branch.
    pub(super) fn report_unused(&self, out: &mut Vec<Unsupported>) {
        for child in &self.children {
            if !child.used.get() {
                out.push(Unsupported {
                    path: child.path.clone(),
                    value: child.leaf_value(),
                    reason: "not supported".into(),
                });
            } else {
                child.report_unused(out);
            }
        }
    }
}
