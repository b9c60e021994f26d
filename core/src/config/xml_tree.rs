//! The original's XML `clp.conf` as a small tree addressed by the original's paths
//! (`monitor/genw@genw1/polling/interval`: a step `tag@key` is an element whose `name`
//! attribute is `key`), read and written as XML. `clpcfset` builds one, `clpcfget` answers
//! from one; [`super::original`] turns one into our TOML.

use std::fmt::Write as _;

/// One element: its tag, its `name` attribute, its text and its children in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Node {
    /// The tag.
    pub tag: String,
    /// The `name` attribute (the `@key` of a path step).
    pub key: Option<String>,
    /// The text it holds (for a leaf).
    pub text: String,
    /// The child elements.
    pub children: Vec<Node>,
}

/// A path step: `tag` or `tag@key`.
pub fn split_step(step: &str) -> (&str, Option<&str>) {
    match step.split_once('@') {
        Some((tag, key)) => (tag, Some(key)),
        None => (step, None),
    }
}

impl Node {
    /// An empty element.
    pub fn new(tag: &str, key: Option<&str>) -> Node {
        Node {
            tag: tag.to_string(),
            key: key.map(str::to_string),
            ..Node::default()
        }
    }

    /// An element holding `text`.
    pub fn leaf(tag: &str, text: impl Into<String>) -> Node {
        Node {
            tag: tag.to_string(),
            text: text.into(),
            ..Node::default()
        }
    }

    /// The child matching one step (a step without a key matches the first child of that tag).
    pub fn child(&self, step: &str) -> Option<&Node> {
        let (tag, key) = split_step(step);
        self.children
            .iter()
            .find(|c| c.tag == tag && (key.is_none() || c.key.as_deref() == key))
    }

    /// The child matching one step, created (appended) when missing.
    pub fn child_mut(&mut self, step: &str) -> &mut Node {
        let (tag, key) = split_step(step);
        let found = self
            .children
            .iter()
            .position(|c| c.tag == tag && c.key.as_deref() == key);
        let index = match found {
            Some(index) => index,
            None => {
                self.children.push(Node::new(tag, key));
                self.children.len() - 1
            }
        };
        &mut self.children[index]
    }

    /// The element at `path` (steps separated by `/`, relative to this one).
    pub fn find(&self, path: &str) -> Option<&Node> {
        path.split('/')
            .filter(|s| !s.is_empty())
            .try_fold(self, |node, step| node.child(step))
    }

    /// Sets the text at `path`, creating the elements on the way.
    pub fn set(&mut self, path: &str, value: &str) {
        let mut node = self;
        for step in path.split('/').filter(|s| !s.is_empty()) {
            node = node.child_mut(step);
        }
        node.text = value.to_string();
    }

    /// Makes sure the element at `path` exists.
    pub fn ensure(&mut self, path: &str) -> &mut Node {
        let mut node = self;
        for step in path.split('/').filter(|s| !s.is_empty()) {
            node = node.child_mut(step);
        }
        node
    }

    /// Makes sure the element `tag` named `key` exists under the element at `parent` (a key
    /// may hold `/`, as an address block does).
    pub fn ensure_named(&mut self, parent: &str, tag: &str, key: &str) {
        let parent = self.ensure(parent);
        if !parent
            .children
            .iter()
            .any(|c| c.tag == tag && c.key.as_deref() == Some(key))
        {
            parent.children.push(Node::new(tag, Some(key)));
        }
    }

    /// The elements under this one as path steps name them: `tag` or `tag@name`.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for child in &self.children {
            let name = match &child.key {
                Some(key) => format!("{}@{key}", child.tag),
                None => child.tag.clone(),
            };
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    /// Reads an XML document (UTF-8 text).
    pub fn parse(text: &str) -> Result<Node, String> {
        let document = roxmltree::Document::parse(text).map_err(|e| e.to_string())?;
        Ok(Node::from_xml(document.root_element()))
    }

    fn from_xml(node: roxmltree::Node<'_, '_>) -> Node {
        Node {
            tag: node.tag_name().name().to_string(),
            key: node.attribute("name").map(str::to_string),
            text: node
                .children()
                .filter(|c| c.is_text())
                .filter_map(|c| c.text())
                .collect::<String>()
                .trim()
                .to_string(),
            children: node
                .children()
                .filter(|c| c.is_element())
                .map(Node::from_xml)
                .collect(),
        }
    }

    /// The document as the original writes it: a UTF-8 declaration, two-space indents.
    pub fn to_xml(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        self.write(&mut out, 0);
        out
    }

    fn write(&self, out: &mut String, depth: usize) {
        let indent = "  ".repeat(depth);
        let name = self
            .key
            .as_ref()
            .map(|k| format!(" name=\"{}\"", escape(k)))
            .unwrap_or_default();
        if self.children.is_empty() {
            if self.text.is_empty() {
                let _ = writeln!(out, "{indent}<{}{name}/>", self.tag);
            } else {
                let _ = writeln!(
                    out,
                    "{indent}<{}{name}>{}</{}>",
                    self.tag,
                    escape(&self.text),
                    self.tag
                );
            }
            return;
        }
        let _ = writeln!(out, "{indent}<{}{name}>", self.tag);
        for child in &self.children {
            child.write(out, depth + 1);
        }
        let _ = writeln!(out, "{indent}</{}>", self.tag);
    }
}

/// Text and attribute values with XML's five special characters escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_set_find_and_survive_writing() {
        let mut root = Node::new("root", None);
        root.set("monitor/genw@genw 1/polling/interval", "30");
        root.set("group@g/resource@exec@e", "");
        root.set("cluster/comment", "a < b & \"c\"");
        let again = Node::parse(&root.to_xml()).expect("parses");
        assert_eq!(again, root);
        assert_eq!(
            again
                .find("monitor/genw@genw 1/polling/interval")
                .map(|n| n.text.as_str()),
            Some("30")
        );
        assert!(again.find("group@g/resource@exec@e").is_some());
        assert_eq!(again.names(), ["monitor", "group@g", "cluster"]);
    }
}
