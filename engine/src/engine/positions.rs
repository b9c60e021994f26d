//! The configuration by name, built with the engine: where each group and resource is, and
//! which monitors follow each resource. Between a death and the spawn a recovery looks its
//! group and resource up several times and visits the monitors of its resource; a search
//! over every group, or a pass over every monitor, touched each one's memory (cold since
//! its last use), and cost more the larger the configuration.

use super::{ByName, Engine};
use clp_core::config::{Config, GroupConfig, ResourceConfig};

/// Where the configuration's groups and resources are by name (the first of a name, as a
/// search in order finds it), and each resource's followers.
#[derive(Debug, Default)]
pub(super) struct Positions {
    /// A group's index in the configuration.
    groups: ByName<usize>,
    /// A resource's group's index and its own in that group.
    resources: ByName<(usize, usize)>,
    /// The monitors whose target a resource is, in configuration order: all that a change
    /// of its state or the exit of its process can switch on, off or fail.
    followers: ByName<Vec<usize>>,
}

impl Positions {
    /// Where `config`'s groups, resources and followers are.
    pub(super) fn of(config: &Config) -> Positions {
        let mut positions = Positions::default();
        for (group_index, group) in config.groups.iter().enumerate() {
            positions
                .groups
                .entry(group.name.clone())
                .or_insert(group_index);
            for (resource_index, resource) in group.resources.iter().enumerate() {
                positions
                    .resources
                    .entry(resource.name.clone())
                    .or_insert((group_index, resource_index));
            }
        }
        for (index, monitor) in config.monitors.iter().enumerate() {
            if let Some(target) = &monitor.target {
                positions
                    .followers
                    .entry(target.clone())
                    .or_default()
                    .push(index);
            }
        }
        positions
    }

    fn group<'c>(&self, config: &'c Config, name: &str) -> Option<&'c GroupConfig> {
        config.groups.get(*self.groups.get(name)?)
    }

    fn resource<'c>(&self, config: &'c Config, name: &str) -> Option<&'c ResourceConfig> {
        let (group, resource) = *self.resources.get(name)?;
        config.groups.get(group)?.resources.get(resource)
    }

    fn followers(&self, resource: &str) -> &[usize] {
        self.followers.get(resource).map_or(&[], Vec::as_slice)
    }
}

impl Engine {
    /// The configuration of group `name`.
    pub(super) fn group_config(&self, name: &str) -> Option<&GroupConfig> {
        self.positions.group(&self.config, name)
    }

    /// The configuration of resource `name` (in any group).
    pub(super) fn resource_config(&self, name: &str) -> Option<&ResourceConfig> {
        self.positions.resource(&self.config, name)
    }

    /// The monitors whose target `resource` is, in configuration order.
    pub(super) fn followers(&self, resource: &str) -> &[usize] {
        self.positions.followers(resource)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "[cluster]\nname = \"c\"\n\n\
        [[group]]\nname = \"a\"\n\n\
        [[group.resource]]\nname = \"a1\"\nmode = \"async\"\nstart = \"/bin/true\"\n\n\
        [[group.resource]]\nname = \"a2\"\nstart = \"/bin/true\"\n\n\
        [[group]]\nname = \"b\"\n\n\
        [[group.resource]]\nname = \"b1\"\nstart = \"/bin/true\"\n\n\
        [[monitor]]\nname = \"w1\"\ntype = \"pidw\"\ntarget = \"a1\"\n\n\
        [[monitor]]\nname = \"u\"\ntype = \"userw\"\n\n\
        [[monitor]]\nname = \"w2\"\ntype = \"pidw\"\ntarget = \"a1\"\n";

    #[test]
    fn names_find_what_a_search_in_order_finds() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let file = dir.path().join("clp.conf");
        std::fs::write(&file, CONFIG).expect("clp.conf");
        let config = clp_core::config::load_file(&file, dir.path()).expect("the configuration");
        let positions = Positions::of(&config);
        let groups = config.groups.iter().map(|group| group.name.as_str());
        for name in groups.chain(["nothing"]) {
            assert_eq!(
                positions.group(&config, name).map(std::ptr::from_ref),
                config.group(name).map(std::ptr::from_ref),
                "{name}"
            );
        }
        let resources = config.groups.iter().flat_map(|group| &group.resources);
        for name in resources.map(|r| r.name.as_str()).chain(["nothing"]) {
            assert_eq!(
                positions.resource(&config, name).map(std::ptr::from_ref),
                config.resource(name).map(std::ptr::from_ref),
                "{name}"
            );
        }
        assert_eq!(positions.followers("a1"), [0, 2]);
        assert_eq!(positions.followers("b1"), [] as [usize; 0]);
    }
}
